package policy

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/hybridcloud/platform/internal/config"
)

// Resource type tokens the guardrails look at.
const (
	tVpc         = "digitalocean:index/vpc:Vpc"
	tDroplet     = "digitalocean:index/droplet:Droplet"
	tReservedIP  = "digitalocean:index/reservedIp:ReservedIp"
	tFirewall    = "digitalocean:index/firewall:Firewall"
	tCluster     = "digitalocean:index/kubernetesCluster:KubernetesCluster"
	tPool        = "digitalocean:index/kubernetesNodePool:KubernetesNodePool"
	tRegistry    = "digitalocean:index/containerRegistry:ContainerRegistry"
	tSpacesKey   = "digitalocean:index/spacesKey:SpacesKey"
	tBucket      = "digitalocean:index/spacesBucket:SpacesBucket"
	tDB          = "digitalocean:index/databaseCluster:DatabaseCluster"
	tDBFirewall  = "digitalocean:index/databaseFirewall:DatabaseFirewall"
	tDBDb        = "digitalocean:index/databaseDb:DatabaseDb"
	tDOProvider  = "pulumi:providers:digitalocean"
	tK8sProvider = "pulumi:providers:kubernetes"
	tZoneTLS     = "cloudflare:index/zoneSettingsOverride:ZoneSettingsOverride"
	tMonitor     = "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor"
	tLBPool      = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
	tLB          = "cloudflare:index/loadBalancer:LoadBalancer"
	tRecord      = "cloudflare:index/record:Record"
	tTalosSecret = "talos:machine/secrets:Secrets"
	tTalosApply  = "talos:machine/configurationApply:ConfigurationApply"
	tTalosKube   = "talos:cluster/kubeconfig:Kubeconfig"
)

// statefulTypes must be protected from `pulumi destroy` and replacement.
var statefulTypes = []string{tCluster, tRegistry, tDB, tDBDb, tBucket, tReservedIP, tTalosSecret}

// secretPaths are inputs that carry credentials and must be Pulumi secrets.
var secretPaths = map[string][]string{
	tDroplet:     {"userData"},
	tK8sProvider: {"kubeconfig"},
	tDOProvider:  {"spacesSecretKey"},
}

// rulesFor is every guardrail, held to the stack's settings.
func rulesFor(s Settings) []rule {
	return append(slices.Concat(baseRules, k8sRules, productionRules(s)), detectionRule(s))
}

// productionRules are the guardrails whose floors protect production: an HA
// control plane, a system pool of ProdMinSystemPoolNodes, a workload pool of
// ProdMinPoolNodes and a database standby. Outside production
// (Settings.Production false) the floors are the config's own for a
// non-production environment (config.MinSystemPoolNodes,
// MinWorkloadPoolNodes, MinDatabaseNodes).
func productionRules(s Settings) []rule {
	dbFloor := float64(config.MinDatabaseNodes(s.Production))
	systemFloor := float64(config.MinSystemPoolNodes(s.Production))
	workloadFloor := float64(config.MinWorkloadPoolNodes(s.Production))
	return []rule{
		{
			name:        "database-ha",
			description: fmt.Sprintf("A production database has a standby: at least %d nodes (config.ProdMinDatabaseNodes).", config.ProdMinDatabaseNodes),
			resource: func(r policyx.AnalyzerResource, report func(string)) {
				if n, ok := num(r, "nodeCount"); r.Type == tDB && (!ok || n < dbFloor) {
					report(fmt.Sprintf("nodeCount is %v: want at least %v (production: %t)", n, dbFloor, s.Production))
				}
			},
		},
		{
			name:        "doks-ha-control-plane",
			description: "A production DOKS cluster has an HA control plane.",
			resource: func(r policyx.AnalyzerResource, report func(string)) {
				if s.Production && r.Type == tCluster && !boolean(r, "ha") {
					report("ha is off: a production cluster needs an HA control plane")
				}
			},
		},
		{
			name: "doks-autoscaling-bounds",
			description: fmt.Sprintf("DOKS node pools autoscale from at least %d node to at most %d; a production cluster's default (system) pool keeps at least %d (config.MinPoolNodes, MaxPoolNodes, ProdMinSystemPoolNodes).",
				config.MinPoolNodes, config.MaxPoolNodes, config.ProdMinSystemPoolNodes),
			resource: func(r policyx.AnalyzerResource, report func(string)) {
				prefix, floor := "", float64(config.MinPoolNodes)
				switch r.Type {
				case tCluster:
					prefix, floor = "nodePool.", systemFloor
				case tPool:
				default:
					return
				}
				minN, _ := num(r, prefix+"minNodes")
				maxN, _ := num(r, prefix+"maxNodes")
				switch {
				case !boolean(r, prefix+"autoScale"):
					report(prefix + "autoScale is off")
				case minN < floor:
					report(fmt.Sprintf("%sminNodes is %v, below %v", prefix, minN, floor))
				case maxN < minN || maxN > config.MaxPoolNodes:
					report(fmt.Sprintf("%smaxNodes is %v: want %v to %d", prefix, maxN, minN, config.MaxPoolNodes))
				}
			},
		},
		{
			name: "doks-workload-capacity",
			description: fmt.Sprintf("A production DOKS cluster has a workload node pool that keeps at least %d nodes (config.ProdMinPoolNodes): the default pool is the small system pool.",
				config.ProdMinPoolNodes),
			stack: func(rs []policyx.AnalyzerResource, report func(string, string)) {
				most := 0.0
				for _, p := range ofType(rs, tPool) {
					if n, ok := num(p, "minNodes"); ok && n > most {
						most = n
					}
				}
				for _, c := range ofType(rs, tCluster) {
					if most < workloadFloor {
						report(c.URN, fmt.Sprintf("no KubernetesNodePool keeps %v nodes (the largest minNodes is %v): workloads need their own pool", workloadFloor, most))
					}
				}
			},
		},
	}
}

var baseRules = []rule{
	{
		name:        "stateful-resources-protected",
		description: "Clusters, registry, databases, buckets, the gateway's reserved IP and Talos machine secrets are protected.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if slices.Contains(statefulTypes, r.Type) && !r.Options.Protect {
				report("stateful resource is not protected: set pulumi.Protect(true)")
			}
		},
	},
	{
		name:        "credentials-are-secret",
		description: "Inputs that carry credentials (user data with keys, kubeconfigs, Spaces secrets) are Pulumi secrets.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			for _, p := range secretPaths[r.Type] {
				if v, ok, secret := get(r, p); ok && !v.IsNull() && !secret {
					report(p + " holds credentials but is not a secret")
				}
			}
		},
	},
	{
		name:        "credential-outputs-marked-secret",
		description: "Resources whose outputs are credentials mark them as additional secret outputs.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			want := map[string][]string{
				tDB:          {"password", "uri", "privateUri"},
				tSpacesKey:   {"secretKey"},
				tTalosSecret: {"machineSecrets", "clientConfiguration"},
				tTalosKube:   {"kubeconfigRaw", "kubernetesClientConfiguration"},
			}[r.Type]
			for _, out := range want {
				if !slices.Contains(r.Options.AdditionalSecretOutputs, out) {
					report(out + " is a credential output but is not in additionalSecretOutputs")
				}
			}
		},
	},
	{
		name:        "database-private",
		description: "The database lives on the VPC's private network.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type == tDB && str(r, "privateNetworkUuid") == "" {
				if v, ok, _ := get(r, "privateNetworkUuid"); !ok || !v.IsComputed() {
					report("privateNetworkUuid is not set: the database would only be on the public network")
				}
			}
		},
	},
	{
		name:        "database-firewall-restricted",
		description: "Every database has a firewall, and it admits only clusters, Droplets or tags: never an address range.",
		stack: func(rs []policyx.AnalyzerResource, report func(string, string)) {
			guarded := map[string]bool{}
			for _, fw := range ofType(rs, tDBFirewall) {
				for _, d := range fw.Dependencies {
					guarded[d] = true
				}
				for i, rule := range array(fw, "rules") {
					if rule.IsMap() {
						typ := rule.AsMap().Get("type")
						if typ.IsString() && !slices.Contains([]string{"k8s", "droplet", "tag", "app"}, typ.AsString()) {
							report(fw.URN, fmt.Sprintf("rules[%d] admits %s %q: admit clusters or Droplets, not address ranges", i, typ.AsString(), rule.AsMap().Get("value").AsString()))
						}
					}
				}
			}
			for _, db := range ofType(rs, tDB) {
				if !guarded[db.URN] {
					report(db.URN, "the database has no DatabaseFirewall: it would accept any client with credentials")
				}
			}
		},
	},
	{
		name:        "buckets-private",
		description: "Spaces buckets are private.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type == tBucket && str(r, "acl") != "private" {
				report(fmt.Sprintf("acl is %q: buckets must be private", str(r, "acl")))
			}
		},
	},
	{
		name:        "buckets-versioned",
		description: "Spaces buckets keep versions, so a bad write or delete can be rolled back.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type == tBucket && !boolean(r, "versioning.enabled") {
				report("versioning is not enabled")
			}
		},
	},
	{
		name:        "buckets-lifecycle",
		description: "Versioned buckets expire old versions and abort abandoned uploads.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type != tBucket {
				return
			}
			for _, rule := range array(r, "lifecycleRules") {
				m := rule.AsMap()
				nc := m.Get("noncurrentVersionExpiration")
				if m.Get("enabled").IsBool() && m.Get("enabled").AsBool() && m.Get("abortIncompleteMultipartUploadDays").IsNumber() &&
					nc.IsMap() && nc.AsMap().Get("days").IsNumber() {
					return
				}
			}
			report("no enabled lifecycle rule expires noncurrent versions and aborts incomplete uploads")
		},
	},
	{
		name:        "spaces-keys-least-privilege",
		description: "Workload Spaces keys are granted only named buckets; only the Pulumi provisioning key has full access.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type != tSpacesKey || strings.HasSuffix(str(r, "name"), "-pulumi-provisioner") {
				return
			}
			for i, g := range array(r, "grants") {
				m := g.AsMap()
				if m.Get("permission").AsString() == "fullaccess" || m.Get("bucket").IsString() && m.Get("bucket").AsString() == "" {
					report(fmt.Sprintf("grants[%d] gives access to every bucket: grant the consumer's own bucket only", i))
				}
			}
		},
	},
	{
		name:        "doks-control-plane-restricted",
		description: "The DOKS API is behind its control-plane firewall, never open to the world, and the cluster is in the VPC.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type != tCluster {
				return
			}
			if !boolean(r, "controlPlaneFirewall.enabled") {
				report("controlPlaneFirewall is not enabled")
			}
			for _, a := range strs(r, "controlPlaneFirewall.allowedAddresses") {
				if p, err := netip.ParsePrefix(a); err == nil && p.Bits() == 0 {
					report("controlPlaneFirewall allows " + a)
				}
			}
			if v, ok, _ := get(r, "vpcUuid"); !ok || v.IsNull() {
				report("vpcUuid is not set: the cluster must be in the platform VPC")
			}
		},
	},
	{
		name:        "cluster-version-tracked",
		description: "A DOKS cluster never ignores version in diffs: the program resolves the newest slug of the configured minor line at each run, so a minor upgrade in config is applied, not swallowed.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type == tCluster && slices.Contains(r.Options.IgnoreChanges, "version") {
				report("version is in ignoreChanges: a minor upgrade in doks.kubernetesMinor would never be applied")
			}
		},
	},
	{
		name:        "gateway-firewall-restricted",
		description: "No Droplet firewall opens SSH or WireGuard to the world; WireGuard is admitted from a single address.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type != tFirewall {
				return
			}
			for i, rule := range array(r, "inboundRules") {
				m := rule.AsMap()
				port := ""
				if m.Get("portRange").IsString() {
					port = m.Get("portRange").AsString()
				}
				var srcs []string
				if a := m.Get("sourceAddresses"); a.IsArray() {
					for _, s := range a.AsArray().AsSlice() {
						srcs = append(srcs, s.AsString())
					}
				}
				for _, s := range srcs {
					p, err := netip.ParsePrefix(s)
					if err != nil {
						continue
					}
					if port == "22" && p.Bits() == 0 {
						report(fmt.Sprintf("inboundRules[%d] opens SSH to %s", i, s))
					}
					if m.Get("protocol").AsString() == "udp" && port != "1-65535" && p.Addr().Is4() && p.Bits() != 32 {
						report(fmt.Sprintf("inboundRules[%d] admits WireGuard from %s: admit the on-prem address only (/32)", i, s))
					}
				}
			}
		},
	},
	{
		name:        "edge-strict-tls",
		description: "The zone uses strict origin TLS, TLS 1.2 or higher, TLS 1.3 and HTTPS only.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type != tZoneTLS {
				return
			}
			for path, want := range map[string]string{"settings.ssl": "strict", "settings.alwaysUseHttps": "on", "settings.tls13": "on"} {
				if got := str(r, path); got != want {
					report(fmt.Sprintf("%s is %q, want %q", path, got, want))
				}
			}
			if v := str(r, "settings.minTlsVersion"); v != "1.2" && v != "1.3" {
				report(fmt.Sprintf("settings.minTlsVersion is %q, want 1.2 or higher", v))
			}
		},
	},
	{
		name:        "edge-failover-order",
		description: "The load balancer is proxied and sends traffic to the cloud pool first and to on-prem on failure (steering off, on-prem as fallback).",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type != tLB {
				return
			}
			if str(r, "steeringPolicy") != "off" {
				report(fmt.Sprintf("steeringPolicy is %q: failover order needs \"off\"", str(r, "steeringPolicy")))
			}
			if !boolean(r, "proxied") {
				report("the load balancer is not proxied")
			}
			pools := array(r, "defaultPoolIds")
			if len(pools) != 2 {
				report(fmt.Sprintf("%d default pools: want the cloud pool then the on-prem pool", len(pools)))
				return
			}
			if fb, ok, _ := get(r, "fallbackPoolId"); ok && pools[1].IsString() && fb.IsString() && fb.AsString() != pools[1].AsString() {
				report("fallbackPoolId is not the on-prem pool (the last default pool)")
			}
		},
	},
	{
		name:        "edge-health-checks",
		description: "Pools are health-checked from named regions over HTTPS, without following redirects.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			switch r.Type {
			case tLBPool:
				if len(strs(r, "checkRegions")) == 0 {
					report("checkRegions is empty (every data centre needs an Enterprise plan)")
				}
				if v, ok, _ := get(r, "monitor"); !ok || v.IsNull() {
					report("the pool has no monitor")
				}
			case tMonitor:
				// allowInsecure is not refused: Cloudflare's monitors do not
				// trust the Origin CA, so an Origin CA origin needs it
				// (config edge.originCertificate decides; issue 15 item 1).
				if str(r, "type") != "https" {
					report("the monitor must check HTTPS")
				}
				if boolean(r, "followRedirects") {
					report("the monitor must not follow redirects (the origin probe repeats what it does)")
				}
			}
		},
	},
	{
		name:        "no-record-shadows-load-balancer",
		description: "No DNS record uses the load balancer's hostname (the load balancer would override it).",
		stack: func(rs []policyx.AnalyzerResource, report func(string, string)) {
			lbs := map[string]bool{}
			for _, lb := range ofType(rs, tLB) {
				lbs[str(lb, "name")] = true
			}
			for _, rec := range ofType(rs, tRecord) {
				if lbs[str(rec, "name")] {
					report(rec.URN, "record "+str(rec, "name")+" shadows the load balancer")
				}
			}
		},
	},
	{
		name:        "records-proxied",
		description: "Public DNS records go through Cloudflare's proxy (DDoS protection, TLS).",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type == tRecord && !boolean(r, "proxied") {
				report("record " + str(r, "name") + " is not proxied")
			}
		},
	},
}

// detectionRule holds every health monitor to the stack's configured
// edge.detectionObjectiveSeconds, with config's formula
// (config.Monitor.DetectionBoundSeconds).
func detectionRule(s Settings) rule {
	return rule{
		name: "failover-detection-objective",
		description: "Worst-case failover detection (interval x max(consecutiveDown,1) + (retries+1) x timeout + retry backoff + assumed propagation, " +
			"config.Monitor.DetectionBoundSeconds) is at most the stack's edge.detectionObjectiveSeconds.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type != tMonitor {
				return
			}
			if s.DetectionObjectiveSeconds < 1 {
				report("the stack configures no edge.detectionObjectiveSeconds to hold this monitor to")
				return
			}
			n := func(path string) int { v, _ := num(r, path); return int(v) }
			m := config.Monitor{Interval: n("interval"), ConsecutiveDown: n("consecutiveDown"), Retries: n("retries"), Timeout: n("timeout")}
			if d := m.DetectionBoundSeconds(); d > s.DetectionObjectiveSeconds {
				report(fmt.Sprintf("worst-case detection is %d s, over the %d s objective (edge.detectionObjectiveSeconds)", d, s.DetectionObjectiveSeconds))
			}
		},
	}
}
