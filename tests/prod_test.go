package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/components/data"
	"github.com/hybridcloud/platform/components/doks"
	"github.com/hybridcloud/platform/components/network"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/wgkey"
)

const (
	tVpc        = "digitalocean:index/vpc:Vpc"
	tDroplet    = "digitalocean:index/droplet:Droplet"
	tReservedIP = "digitalocean:index/reservedIp:ReservedIp"
	tAssign     = "digitalocean:index/reservedIpAssignment:ReservedIpAssignment"
	tFirewall   = "digitalocean:index/firewall:Firewall"
	tCluster    = "digitalocean:index/kubernetesCluster:KubernetesCluster"
	tPool       = "digitalocean:index/kubernetesNodePool:KubernetesNodePool"
	tRegistry   = "digitalocean:index/containerRegistry:ContainerRegistry"
	tRegCreds   = "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials"
	tSpacesKey  = "digitalocean:index/spacesKey:SpacesKey"
	tBucket     = "digitalocean:index/spacesBucket:SpacesBucket"
	tPolicy     = "digitalocean:index/spacesBucketPolicy:SpacesBucketPolicy"
	tDB         = "digitalocean:index/databaseCluster:DatabaseCluster"
	tDBConfig   = "digitalocean:index/databasePostgresqlConfig:DatabasePostgresqlConfig"
	tDBFirewall = "digitalocean:index/databaseFirewall:DatabaseFirewall"
	tDBDb       = "digitalocean:index/databaseDb:DatabaseDb"
	tDBUser     = "digitalocean:index/databaseUser:DatabaseUser"
	tDBPool     = "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool"
	tDOProvider = "pulumi:providers:digitalocean"
	tK8sProv    = "pulumi:providers:kubernetes"
	tRoute      = "kubernetes:networking.doks.digitalocean.com/v1alpha1:Route"
	tZoneTLS    = "cloudflare:index/zoneSettingsOverride:ZoneSettingsOverride"
	tMonitor    = "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor"
	tLBPool     = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
	tLB         = "cloudflare:index/loadBalancer:LoadBalancer"
	tRecord     = "cloudflare:index/record:Record"
	tChart      = "kubernetes:helm.sh/v4:Chart"
	tNamespace  = "kubernetes:core/v1:Namespace"
	tNetPol     = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	tQuota      = "kubernetes:core/v1:ResourceQuota"
	tLimitRange = "kubernetes:core/v1:LimitRange"
)

func prod(t *testing.T) *plan.Result {
	t.Helper()
	return mustRun(t, plan.Options{Stack: "prod"})
}

// TestProdSettings checks that prod declares what its config says, wired
// together as production needs it: every resource of the VPC in the VPC, the
// database reachable only from the cluster and the gateway, the pool within
// config's bounds, the on-prem route through the gateway. Expected values
// come from the loaded config and from the other resources, never from a
// copy of Pulumi.prod.yaml.
func TestProdSettings(t *testing.T) {
	res := prod(t)
	cfg := res.Config
	vpc := one(t, res, tVpc)
	cluster := one(t, res, tCluster)
	droplet := one(t, res, tDroplet)
	d, db, pool, workers := cfg.Doks, cfg.Database, cfg.Doks.SystemPool, cfg.Doks.NodePool
	for _, tc := range []struct {
		typ, path string
		want      any
	}{
		// the address plan
		{tVpc, "region", cfg.Network.Region},
		{tVpc, "ipRange", cfg.Network.VpcCidr.String()},
		{tCluster, "region", cfg.Network.Region},
		{tCluster, "clusterSubnet", cfg.Network.DoksPodCidr.String()},
		{tCluster, "serviceSubnet", cfg.Network.DoksServiceCidr.String()},
		{tDB, "region", cfg.Network.Region},
		// in the VPC
		{tCluster, "vpcUuid", vpc.ID},
		{tDroplet, "vpcUuid", vpc.ID},
		{tDB, "privateNetworkUuid", vpc.ID},
		// the cluster
		{tCluster, "ha", d.HA},
		{tCluster, "autoUpgrade", d.AutoUpgrade},
		{tCluster, "surgeUpgrade", d.SurgeUpgrade},
		{tCluster, "maintenancePolicy.day", d.Maintenance.Day},
		{tCluster, "maintenancePolicy.startTime", d.Maintenance.StartTime},
		// the on-prem Route needs the routing agent, pulls need the registry
		{tCluster, "routingAgent.enabled", true},
		{tCluster, "registryIntegration", true},
		{tCluster, "controlPlaneFirewall.enabled", true},
		{tCluster, "controlPlaneFirewall.allowedAddresses", kubeStrings(config.Strings(d.ControlPlaneAllowedCidrs))},
		{tCluster, "nodePool.autoScale", true},
		{tCluster, "nodePool.minNodes", float64(pool.MinNodes)},
		{tCluster, "nodePool.maxNodes", float64(pool.MaxNodes)},
		{tCluster, "nodePool.size", pool.Size},
		{tCluster, "nodePool.tags", kubeStrings(pool.Tags)},
		// the workload pool, in the cluster
		{tPool, "clusterId", cluster.ID},
		{tPool, "autoScale", true},
		{tPool, "minNodes", float64(workers.MinNodes)},
		{tPool, "maxNodes", float64(workers.MaxNodes)},
		{tPool, "size", workers.Size},
		{tPool, "tags", kubeStrings(workers.Tags)},
		// the gateway keeps its address across replacements
		{tDroplet, "size", cfg.Gateway.Size},
		{tDroplet, "image", cfg.Gateway.Image},
		{tAssign, "dropletId", mustFloat(t, droplet.ID)},
		// the registry, pulled with read-only credentials
		{tRegistry, "name", cfg.Registry.Name},
		{tRegistry, "subscriptionTierSlug", cfg.Registry.Tier},
		{tRegistry, "region", cfg.Registry.Region},
		{tRegCreds, "write", false},
		// the database
		{tDB, "version", db.Version},
		{tDB, "size", db.Size},
		{tDB, "nodeCount", float64(db.NodeCount)},
		{tDB, "maintenanceWindows[0].day", db.Maintenance.Day},
		{tDB, "maintenanceWindows[0].hour", db.Maintenance.StartTime},
		{tDBConfig, "backupHour", float64(db.BackupHour)},
		{tDBDb, "name", db.DBName},
		{tDBUser, "name", db.User},
		{tDBPool, "mode", db.PoolMode},
		{tDBPool, "size", float64(db.PoolSize)},
		// the pool opens the database and the user this stack creates
		{tDBPool, "dbName", in(t, one(t, res, tDBDb), "name")},
		{tDBPool, "user", in(t, one(t, res, tDBUser), "name")},
		// only the cluster and the gateway reach the database
		{tDBFirewall, "rules", []any{
			map[string]any{"type": "k8s", "value": cluster.ID},
			map[string]any{"type": "droplet", "value": droplet.ID},
		}},
		// on-prem is routed through the gateway's VPC address
		{tRoute, "spec.destinations", []any{cfg.Network.OnpremCidr.String()}},
		{tRoute, "spec.gateways", []any{droplet.Outputs["ipv4AddressPrivate"].StringValue()}},
	} {
		t.Run(tc.typ+"/"+tc.path, func(t *testing.T) {
			assert.Equal(t, tc.want, in(t, one(t, res, tc.typ), tc.path))
		})
	}
	for k, v := range pool.Labels {
		assert.Equal(t, v, in(t, cluster, "nodePool.labels."+k), "pool label %s", k)
	}
	for k, v := range workers.Labels {
		assert.Equal(t, v, in(t, one(t, res, tPool), "labels."+k), "workload pool label %s", k)
	}
	// Production bounds hold whatever the file says (config.limits.go).
	assert.GreaterOrEqual(t, pool.MinNodes, config.ProdMinSystemPoolNodes)
	assert.GreaterOrEqual(t, workers.MinNodes, config.ProdMinPoolNodes, "the workload capacity is the workload pool's")
	assert.LessOrEqual(t, max(pool.MaxNodes, workers.MaxNodes), config.MaxPoolNodes)
	assert.GreaterOrEqual(t, db.NodeCount, config.ProdMinDatabaseNodes, "the database has a standby")
	for _, typ := range []string{tCluster, tRegistry, tDB, tDBDb, tReservedIP} {
		for _, r := range res.Cloud.ByType(typ) {
			assert.True(t, r.Protect, "%s %s holds state: it must be protected", typ, r.Name)
		}
	}
	assert.NotContains(t, cluster.IgnoreChanges, "version", "a minor upgrade in config must reach the cluster")
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	require.NoError(t, json.Unmarshal([]byte(s), &f))
	return f
}

func TestGatewayFirewall(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ssh     []any
		wantSSH bool
	}{
		{name: "ssh closed by default", ssh: []any{}, wantSSH: false},
		{name: "ssh open to a configured range", ssh: []any{"198.51.100.7/32"}, wantSSH: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := stackObject(t, "prod", "gateway")
			gw["sshAllowedCidrs"] = tc.ssh
			res := mustRun(t, plan.Options{Stack: "prod", Set: map[string]string{"gateway": toJSON(t, gw)}})
			fw := one(t, res, tFirewall)
			droplet := one(t, res, tDroplet)
			assert.Equal(t, []any{mustFloat(t, droplet.ID)}, in(t, fw, "dropletIds"))
			rules := in(t, fw, "inboundRules").([]any)
			var wireguard, ssh []map[string]any
			for _, r := range rules {
				rule := r.(map[string]any)
				switch {
				case rule["protocol"] == "udp" && rule["portRange"] == "51820":
					wireguard = append(wireguard, rule)
				case rule["portRange"] == "22" || rule["portRange"] == "1-65535" && rule["protocol"] == "tcp" && !cloudOnly(rule):
					ssh = append(ssh, rule)
				}
				for _, src := range rule["sourceAddresses"].([]any) {
					assert.NotEqual(t, "0.0.0.0/0", src, "no inbound rule may be open to the world: %v", rule)
				}
			}
			require.Len(t, wireguard, 1)
			assert.Equal(t, []any{"203.0.113.10/32"}, wireguard[0]["sourceAddresses"], "WireGuard only from the on-prem public address")
			if tc.wantSSH {
				require.Len(t, ssh, 1)
				assert.Equal(t, tc.ssh, ssh[0]["sourceAddresses"])
			} else {
				assert.Empty(t, ssh)
			}
		})
	}
}

func cloudOnly(rule map[string]any) bool {
	for _, s := range rule["sourceAddresses"].([]any) {
		if s != "10.100.0.0/16" && s != "10.244.0.0/16" {
			return false
		}
	}
	return true
}

func TestGatewayCloudInit(t *testing.T) {
	res := prod(t)
	droplet := one(t, res, tDroplet)
	require.True(t, secretIn(t, droplet, "userData"), "user data holds the WireGuard private key: it must be secret")
	var doc struct {
		Packages   []string `yaml:"packages"`
		WriteFiles []struct {
			Path    string `yaml:"path"`
			Content string `yaml:"content"`
		} `yaml:"write_files"`
		Runcmd []string `yaml:"runcmd"`
	}
	userData := in(t, droplet, "userData").(string)
	require.True(t, strings.HasPrefix(userData, "#cloud-config\n"))
	require.NoError(t, yaml.Unmarshal([]byte(userData), &doc))
	assert.Contains(t, doc.Packages, "wireguard")
	files := map[string]string{}
	for _, f := range doc.WriteFiles {
		files[f.Path] = f.Content
	}
	assert.Contains(t, files["/etc/sysctl.d/99-wireguard-forward.conf"], "net.ipv4.ip_forward = 1")
	wg := files["/etc/wireguard/wg0.conf"]
	gatewayKey := standIn(t, "wireguardGatewayPrivateKey")
	for _, want := range []string{
		"Address = 10.250.0.1/30",
		"ListenPort = 51820",
		"PrivateKey = " + gatewayKey,
		"PublicKey = 2oHBNEhXRJo3+BGC3PBJZlNWfxBCmnvatRRsW6GcMTA=",
		"Endpoint = 203.0.113.10:51820",
		"AllowedIPs = 192.168.0.0/16, 10.250.0.2/32",
		"PersistentKeepalive = 25",
		"MTU = 1420",
		"iptables -t nat -A POSTROUTING -s 10.100.0.0/16 -o %i -j MASQUERADE",
		"iptables -t nat -A POSTROUTING -s 10.244.0.0/16 -o %i -j MASQUERADE",
		// On-prem sources are masqueraded only toward the VPC (issue 15 item 11).
		"iptables -t nat -A POSTROUTING -s 192.168.0.0/16 -o eth1 -j MASQUERADE",
		// The DOKS pod range is routed through the VPC interface (item 10).
		"PostUp = ip -4 route replace 10.244.0.0/16 dev eth1",
		"--set-mss 1380",
	} {
		assert.Contains(t, wg, want)
	}
	// tests/network runs this file with wg-quick and sends traffic through it.
	assert.NotContains(t, wg, "! -o %i", "no NAT out of every interface but the tunnel")
	assert.Contains(t, doc.Runcmd, "systemctl enable --now wg-quick@wg0")

	// The public key is derived from the configured private key, not generated.
	pub, err := wgkey.PublicKey(gatewayKey)
	require.NoError(t, err)
	assert.Equal(t, pub, res.Outputs["gatewayPublicKey"].Value)
	assert.Equal(t, []string{"10.100.0.0/16", "10.244.0.0/16", "10.250.0.0/30"}, res.Outputs["onpremRoutes"].Value)
}

func standIn(t *testing.T, key string) string {
	t.Helper()
	for _, s := range config.SecretSpecs {
		if s.Key == key {
			return s.StandIn()
		}
	}
	t.Fatalf("no secret %s", key)
	return ""
}

func TestProdWiring(t *testing.T) {
	res := prod(t)
	registry := one(t, res, tRegistry)
	cluster := one(t, res, tCluster)
	assert.Contains(t, cluster.DependsOn, registry.URN, "registry integration must be ordered after the registry")

	// Buckets and bucket policies go through the provider that carries the
	// provisioning Spaces key.
	spacesProvider := named(t, res, tDOProvider, "data-spaces")
	provisioner := named(t, res, tSpacesKey, "data-spaces-provisioner")
	assert.Equal(t, provisioner.Outputs["accessKey"].StringValue(), in(t, spacesProvider, "spacesAccessId"))
	assert.True(t, secretIn(t, spacesProvider, "spacesSecretKey"))
	for _, typ := range []string{tBucket, tPolicy} {
		for _, r := range res.Cloud.ByType(typ) {
			assert.Equal(t, spacesProvider.URN, r.Provider, "%s %s must use the Spaces-key provider", typ, r.Name)
		}
	}
	// Each consumer key is granted only its own bucket, read-write.
	for consumer, bucket := range map[string]string{
		"app": "hybrid-platform-prod-app", "velero": "hybrid-platform-prod-backups", "loki": "hybrid-platform-prod-logs",
	} {
		key := named(t, res, tSpacesKey, "data-"+consumer+"-key")
		assert.Equal(t, []any{map[string]any{"bucket": bucket, "permission": "readwrite"}}, in(t, key, "grants"))
		b := named(t, res, tBucket, "data-"+consumer+"-bucket")
		assert.Equal(t, "private", in(t, b, "acl"))
		assert.Equal(t, true, in(t, b, "versioning.enabled"))
		assert.Equal(t, 30.0, in(t, b, "lifecycleRules[0].noncurrentVersionExpiration.days"))
		assert.Equal(t, 7.0, in(t, b, "lifecycleRules[0].abortIncompleteMultipartUploadDays"))
		assert.Equal(t, false, in(t, b, "forceDestroy"))
		policy := in(t, named(t, res, tPolicy, "data-"+consumer+"-policy"), "policy").(string)
		assert.Contains(t, policy, `"aws:SecureTransport":"false"`)
		assert.Contains(t, policy, "arn:aws:s3:::"+bucket+"/*")
	}
	// The route and everything in the cluster use the DOKS provider.
	k8s := one(t, res, tK8sProv)
	assert.Equal(t, k8s.URN, one(t, res, tRoute).Provider)
	assert.Equal(t, cluster.ID, in(t, k8s, "clusterIdentifier"), "a new token must not replace the provider")
	assert.Contains(t, in(t, k8s, "kubeconfig").(string), "server: "+cluster.Outputs["endpoint"].StringValue())
	// Components parent their children; the stack's own providers
	// (stacks/providers.go) are the only top-level custom resources.
	for _, r := range res.Cloud.Resources() {
		if r.Custom && !strings.HasPrefix(r.Type, "pulumi:providers:") {
			assert.NotEmpty(t, r.Parent, "%s %s is not inside a component", r.Type, r.Name)
		}
	}
}

func TestProdProtection(t *testing.T) {
	res := prod(t)
	stateful := map[string]int{tCluster: 1, tRegistry: 1, tDB: 1, tDBDb: 1, tBucket: 3, tReservedIP: 1}
	for typ, n := range stateful {
		all := res.Cloud.ByType(typ)
		assert.Len(t, all, n, typ)
		for _, r := range all {
			assert.True(t, r.Protect, "%s %s must be protected", typ, r.Name)
		}
	}
}

func TestProdSecrets(t *testing.T) {
	res := prod(t)
	for _, out := range []string{"kubeconfig", "databaseUri", "databasePassword", "registryDockerConfig", "spacesCredentials"} {
		o, ok := res.Outputs[out]
		require.True(t, ok, "output %s", out)
		assert.True(t, o.Secret, "output %s must be secret", out)
	}
	for _, out := range []string{"gatewayEndpoint", "gatewayPublicKey", "registryEndpoint", "clusterEndpoint", "buckets"} {
		assert.False(t, res.Outputs[out].Secret, "output %s is not a secret and must stay readable", out)
	}
	for _, tc := range []struct{ typ, path string }{
		{tDroplet, "userData"},
		{tK8sProv, "kubeconfig"},
		{tDOProvider, "spacesSecretKey"},
	} {
		var r *mockcloud.Resource
		if tc.typ == tDOProvider {
			r = named(t, res, tDOProvider, "data-spaces") // the one that carries the Spaces key
		} else {
			r = one(t, res, tc.typ)
		}
		assert.True(t, secretIn(t, r, tc.path), "%s %s must be secret", tc.typ, tc.path)
	}
	for _, typ := range []string{tDB, tDBPool} {
		assert.Subset(t, one(t, res, typ).AdditionalSecretOutputs, []string{"password", "uri", "privateUri"}, typ)
	}
	assert.Contains(t, one(t, res, tDBUser).AdditionalSecretOutputs, "password")
	assert.Contains(t, one(t, res, tCluster).AdditionalSecretOutputs, "kubeConfigs", "the cluster's kubeconfig carries a token")
	for _, k := range res.Cloud.ByType(tSpacesKey) {
		assert.Contains(t, k.AdditionalSecretOutputs, "secretKey", k.Name)
	}
	// No secret value appears anywhere in the rendered plan.
	var js strings.Builder
	require.NoError(t, res.WriteJSON(&js))
	for _, key := range []string{"wireguardGatewayPrivateKey", "grafanaAdminPassword"} {
		assert.NotContains(t, js.String(), standIn(t, key))
	}
	for _, r := range res.Cloud.ByType(tSpacesKey) {
		assert.NotContains(t, js.String(), r.Outputs["secretKey"].StringValue())
	}
}

// Two runs give identical inputs, secrets included.
func TestProdInputsAreStable(t *testing.T) {
	snapshot := func() map[string]any {
		out := map[string]any{}
		for _, r := range prod(t).Cloud.Resources() {
			out[r.URN] = unsecretAll(r)
		}
		return out
	}
	assert.Equal(t, snapshot(), snapshot())
}

func unsecretAll(r *mockcloud.Resource) any {
	m := r.Inputs.Copy()
	return m.MapRepl(nil, func(v resource.PropertyValue) (any, bool) {
		if v.IsSecret() {
			return v.SecretValue().Element.Mappable(), true
		}
		return nil, false
	})
}

func TestExtraNodePools(t *testing.T) {
	doks := stackObject(t, "prod", "doks")
	doks["extraPools"] = []any{map[string]any{
		"name": "batch", "size": "c-4", "minNodes": 1, "maxNodes": 4,
		"labels": map[string]any{"workload": "batch"}, "tags": []any{"batch"},
	}}
	res := mustRun(t, plan.Options{Stack: "prod", Set: map[string]string{"doks": toJSON(t, doks)}})
	pool := named(t, res, tPool, "doks-pool-batch")
	cluster := one(t, res, tCluster)
	assert.Len(t, res.Cloud.ByType(tPool), 2, "the workload pool and the extra one")
	assert.Equal(t, cluster.ID, in(t, pool, "clusterId"))
	assert.Equal(t, true, in(t, pool, "autoScale"))
	assert.Equal(t, 1.0, in(t, pool, "minNodes"))
	assert.Equal(t, 4.0, in(t, pool, "maxNodes"))
	assert.Equal(t, "batch", in(t, pool, "labels.workload"))
}

// The offline plan of prod lists every resource of the DigitalOcean side.
func TestProdPlanShowsEverything(t *testing.T) {
	doc, _ := planJSON(t, "--stack", "prod")
	types := map[string]int{}
	for _, r := range doc["resources"].([]any) {
		types[r.(map[string]any)["type"].(string)]++
	}
	for typ, n := range map[string]int{
		network.Type: 1, doks.Type: 1, data.Type: 1,
		tVpc: 1, tDroplet: 1, tReservedIP: 1, tAssign: 1, tFirewall: 1, tCluster: 1, tRegistry: 1, tRegCreds: 1,
		tRoute: 1, tK8sProv: 1, tDOProvider: 2, // the stack's and the Spaces one
		tSpacesKey: 4, tBucket: 3, tPolicy: 3,
		tDB: 1, tDBConfig: 1, tDBFirewall: 1, tDBDb: 1, tDBUser: 1, tDBPool: 1, tPool: 1,
	} {
		assert.Equal(t, n, types[typ], typ)
	}
}
