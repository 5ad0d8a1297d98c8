package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/simcloud"
)

// The DigitalOcean rules of internal/config/digitalocean.go join the table of
// TestBadConfigFailsBeforeAnyResource (config_test.go).
func init() { badConfigs = append(badConfigs, digitalOceanBadConfigs...) }

func pool(k string, v any) func(map[string]any) {
	return func(m map[string]any) { m["nodePool"].(map[string]any)[k] = v }
}

var digitalOceanBadConfigs = []badConfig{
	// regions: every product the stack uses must exist there
	{name: "region without DOKS", stack: "prod", key: "network", mutate: field("region", "nyc2"), wantKey: "network.region", wantValue: "nyc2", wantAllowed: "offers DOKS"},
	{name: "region without managed PostgreSQL", stack: "prod", key: "network", mutate: field("region", "atl1"), wantKey: "network.region", wantValue: "atl1", wantAllowed: "managed PostgreSQL"},
	// PostgreSQL past end of life
	{name: "postgres 13 is past end of life", stack: "prod", key: "database", mutate: field("version", "13"), wantKey: "database.version", wantValue: "13", wantAllowed: "end of life"},
	{name: "postgres 14 is past end of life", stack: "prod", key: "database", mutate: field("version", "14"), wantKey: "database.version", wantValue: "14", wantAllowed: "end of life"},
	// backup time: 0 never reaches DigitalOcean
	{name: "backup hour 0 never settles", stack: "prod", key: "database", mutate: field("backupHour", 0), wantKey: "database.backupHour", wantValue: "0"},
	{name: "backup minute 0 never settles", stack: "prod", key: "database", mutate: field("backupMinute", 0), wantKey: "database.backupMinute", wantValue: "0"},
	{name: "backup minute unset", stack: "prod", key: "database", mutate: func(m map[string]any) { delete(m, "backupMinute") }, wantKey: "database.backupMinute", wantValue: "0"},
	{name: "backup minute 60", stack: "prod", key: "database", mutate: field("backupMinute", 60), wantKey: "database.backupMinute", wantValue: "60"},
	// pool above the size's backend connections: 4 GB gives 25*4-3 = 97
	{name: "pool larger than the database allows", stack: "prod", key: "database", mutate: field("poolSize", 98), wantKey: "database.poolSize", wantValue: "98", wantAllowed: "at most 97"},
	{name: "pool larger than a 1 GB database allows", stack: "prod", key: "database",
		mutate: func(m map[string]any) { m["size"] = "db-s-1vcpu-1gb"; m["poolSize"] = 23 }, wantKey: "database.poolSize", wantValue: "23", wantAllowed: "at most 22"},
	// node pools: what DOKS puts on the nodes
	{name: "label value with a slash", stack: "prod", key: "doks", mutate: pool("labels", map[string]any{"ip": "1.2.3.4/99"}), wantKey: "doks.nodePool.labels.ip", wantValue: "1.2.3.4/99"},
	{name: "label value with spaces", stack: "prod", key: "doks", mutate: pool("labels", map[string]any{"team": "a ; b"}), wantKey: "doks.nodePool.labels.team", wantValue: "a ; b"},
	{name: "label value too long", stack: "prod", key: "doks", mutate: pool("labels", map[string]any{"team": strings.Repeat("a", 64)}), wantKey: "doks.nodePool.labels.team", wantValue: strings.Repeat("a", 64)},
	{name: "label key with two slashes", stack: "prod", key: "doks", mutate: pool("labels", map[string]any{"example.com/a/b": "x"}), wantKey: "doks.nodePool.labels", wantValue: "example.com/a/b"},
	{name: "label key reserved for Kubernetes", stack: "prod", key: "doks", mutate: pool("labels", map[string]any{"node-role.kubernetes.io/worker": "true"}), wantKey: "doks.nodePool.labels", wantValue: "node-role.kubernetes.io/worker"},
	{name: "extra pool label value", stack: "prod", key: "doks", mutate: field("extraPools", []any{map[string]any{"name": "batch", "size": "c-4", "minNodes": 1, "maxNodes": 2,
		"labels": map[string]any{"workload": "batch jobs"}}}), wantKey: "doks.extraPools[0].labels.workload", wantValue: "batch jobs"},
	{name: "tag with a space", stack: "prod", key: "doks", mutate: pool("tags", []any{"prod env"}), wantKey: "doks.nodePool.tags[0]", wantValue: "prod env"},
	{name: "tag DOKS sets itself", stack: "prod", key: "doks", mutate: pool("tags", []any{"k8s:worker"}), wantKey: "doks.nodePool.tags[0]", wantValue: "k8s:worker"},
	{name: "taint effect unknown", stack: "prod", key: "doks", mutate: pool("taints", []any{map[string]any{"key": "dedicated", "value": "db", "effect": "NoRun"}}), wantKey: "doks.nodePool.taints[0].effect", wantValue: "NoRun"},
	{name: "taint key malformed", stack: "prod", key: "doks", mutate: pool("taints", []any{map[string]any{"key": "dedicated pool", "value": "db", "effect": "NoSchedule"}}), wantKey: "doks.nodePool.taints[0]", wantValue: "dedicated pool"},
	{name: "taint value malformed", stack: "prod", key: "doks", mutate: pool("taints", []any{map[string]any{"key": "dedicated", "value": "d/b", "effect": "NoSchedule"}}), wantKey: "doks.nodePool.taints[0].dedicated", wantValue: "d/b"},
	{name: "taint listed twice", stack: "prod", key: "doks", mutate: pool("taints", []any{
		map[string]any{"key": "dedicated", "value": "a", "effect": "NoSchedule"}, map[string]any{"key": "dedicated", "value": "b", "effect": "NoSchedule"}}), wantKey: "doks.nodePool.taints[1]", wantValue: "dedicated:NoSchedule"},
	// the CI runner must get through the control-plane firewall
	{name: "ci runner egress outside the allowed ranges", stack: "prod", key: "doks", mutate: field("ciRunner.egressCidrs", []any{"192.0.2.10/32"}), wantKey: "doks.ciRunner.egressCidrs[0]", wantValue: "192.0.2.10/32"},
	{name: "ci runner egress wider than the allowed range", stack: "prod", key: "doks", mutate: field("ciRunner.egressCidrs", []any{"198.51.0.0/16"}), wantKey: "doks.ciRunner.egressCidrs[0]", wantValue: "198.51.0.0/16"},
	{name: "ci runner egress private", stack: "prod", key: "doks", mutate: field("ciRunner.egressCidrs", []any{"10.1.2.3/32"}), wantKey: "doks.ciRunner.egressCidrs[0]", wantValue: "10.1.2.3/32"},
	{name: "ci runner without egress", stack: "prod", key: "doks", mutate: field("ciRunner.egressCidrs", []any{}), wantKey: "doks.ciRunner.egressCidrs", wantValue: "[]"},
	{name: "ci runner hosted by GitHub", stack: "prod", key: "doks", mutate: field("ciRunner.labels", []any{"ubuntu-latest"}), wantKey: "doks.ciRunner.labels", wantValue: "ubuntu-latest"},
}

// Good settings pass and reach the cloud as configured.
func TestNodePoolTaintsAndBackupTimeReachTheCloud(t *testing.T) {
	doks := stackObject(t, "prod", "doks")
	taint := map[string]any{"key": "dedicated", "value": "ingress", "effect": "NoSchedule"}
	doks["systemPool"].(map[string]any)["labels"] = map[string]any{"example.com/tier": "front", "node.kubernetes.io/purpose": "general", "empty": ""}
	doks["extraPools"] = []any{map[string]any{"name": "batch", "size": "c-4", "minNodes": 1, "maxNodes": 2, "tags": []any{"batch", "team:data"},
		"taints": []any{map[string]any{"key": "example.com/batch", "value": "", "effect": "NoExecute"}}}}
	doks["systemPool"].(map[string]any)["taints"] = []any{taint}
	doks["nodePool"].(map[string]any)["labels"] = map[string]any{"example.com/tier": "back"}
	db := stackObject(t, "prod", "database")
	db["backupHour"], db["backupMinute"] = 23, 59
	res := mustRun(t, plan.Options{Stack: "prod", Set: map[string]string{"doks": toJSON(t, doks), "database": toJSON(t, db)}})

	cluster := one(t, res, tCluster)
	assert.Equal(t, []any{taint}, in(t, cluster, "nodePool.taints"))
	assert.Equal(t, "front", in(t, cluster, "nodePool.labels").(map[string]any)["example.com/tier"])
	assert.Equal(t, "NoExecute", in(t, named(t, res, tPool, "doks-pool-batch"), "taints[0].effect"))
	workers := named(t, res, tPool, "doks-pool-workers")
	assert.Equal(t, "back", in(t, workers, "labels").(map[string]any)["example.com/tier"], "the workload pool has its own labels")
	assert.NotContains(t, workers.Inputs, resource.PropertyKey("taints"), "and no taint of the system pool's")
	cfg := one(t, res, tDBConfig)
	assert.Equal(t, 23.0, in(t, cfg, "backupHour"))
	assert.Equal(t, 59.0, in(t, cfg, "backupMinute"))
}

// The stack file's backup time is sent as is: both parts non-zero, so that
// the provider sends them and a refresh reads back the same values.
func TestBackupTimeRoundTrips(t *testing.T) {
	db := stackObject(t, "prod", "database")
	cfg := one(t, prod(t), tDBConfig)
	for _, k := range []string{"backupHour", "backupMinute"} {
		want, ok := db[k].(float64)
		require.True(t, ok, "database.%s is set in Pulumi.prod.yaml", k)
		assert.NotZero(t, want, "database.%s", k)
		assert.Equal(t, want, in(t, cfg, k), k)
	}
}

// The Kubernetes provider reaches DOKS with a cluster token that doctl
// mints through the credentials endpoint when the provider connects; the
// kubeconfig itself holds no token, so it is the same at every run and the
// drift job's `preview --expect-no-changes` holds. The simulated cloud mints
// a new token at every lookup, as the endpoint does, so a kubeconfig that
// carried one would differ between the two runs here.
func TestDoksKubeconfigRunsDoctlAndIsStable(t *testing.T) {
	first, second := prod(t), prod(t)
	cluster := one(t, first, tCluster)
	k8s := one(t, first, tK8sProv)
	raw := in(t, k8s, "kubeconfig").(string)
	assert.Equal(t, raw, in(t, one(t, second, tK8sProv), "kubeconfig").(string), "two runs give the provider the same kubeconfig")

	var kc struct {
		Clusters []struct {
			Cluster struct {
				Server string `yaml:"server"`
				CA     string `yaml:"certificate-authority-data"`
			} `yaml:"cluster"`
		} `yaml:"clusters"`
		Users []struct {
			User map[string]any `yaml:"user"`
		} `yaml:"users"`
		CurrentContext string `yaml:"current-context"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(raw), &kc))
	require.Len(t, kc.Clusters, 1)
	require.Len(t, kc.Users, 1)
	assert.NotEmpty(t, kc.CurrentContext)
	assert.Equal(t, cluster.Outputs["endpoint"].StringValue(), kc.Clusters[0].Cluster.Server)
	stateCreds := cluster.Outputs["kubeConfigs"].ArrayValue()[0].ObjectValue()
	assert.Equal(t, stateCreds["clusterCaCertificate"].StringValue(), kc.Clusters[0].Cluster.CA, "the CA is the cluster's")

	user := kc.Users[0].User
	assert.NotContains(t, user, "token", "no token in the kubeconfig")
	assert.NotContains(t, raw, stateCreds["token"].StringValue(), "the 7-day token kept in the cluster's state is not used")
	exec, ok := user["exec"].(map[string]any)
	require.True(t, ok, "the user runs an exec plugin: %v", user)
	assert.Equal(t, "client.authentication.k8s.io/v1beta1", exec["apiVersion"])
	// The command is the binary the CI action builds onto PATH, not merely
	// the constant the program wrote.
	action, err := os.ReadFile(filepath.Join(projectDir(t), ".github", "actions", "doctl", "action.yml"))
	require.NoError(t, err)
	built := regexp.MustCompile(`go build -o "\$RUNNER_TEMP/doctl-bin/([A-Za-z0-9_-]+)"`).FindSubmatch(action)
	require.NotNil(t, built, "the doctl action builds a binary onto PATH")
	assert.Equal(t, string(built[1]), exec["command"], "the kubeconfig runs the doctl the CI action installs")
	assert.Equal(t, "Never", exec["interactiveMode"], "a CI job has no terminal")
	assert.Equal(t, []any{"kubernetes", "cluster", "kubeconfig", "exec-credential", "--version=v1beta1", cluster.ID}, exec["args"],
		"doctl's own exec-credential command for this cluster's id")

	for _, inv := range first.Cloud.Invokes() {
		assert.NotEqual(t, "digitalocean:index/getKubernetesCluster:getKubernetesCluster", inv.Token, "no run-time token lookup")
	}
	assert.True(t, secretIn(t, k8s, "kubeconfig"), "the kubeconfig is a secret")
	assert.True(t, first.Outputs["kubeconfig"].Secret)
	assert.Equal(t, cluster.ID, in(t, k8s, "clusterIdentifier"), "a new endpoint or CA updates the provider, never replaces it")
}

// The simulated cloud answers the lookup as the provider does.
func TestClusterLookupAnswersLikeTheProvider(t *testing.T) {
	const tok = "digitalocean:index/getKubernetesCluster:getKubernetesCluster"
	state := resource.NewPropertyMapFromMap(map[string]any{
		"name": "hybrid-prod-doks", "region": "nyc3", "endpoint": "https://c.k8s.ondigitalocean.com",
		"kubeConfigs": []any{map[string]any{"host": "https://c.k8s.ondigitalocean.com", "clusterCaCertificate": "Q0E=", "token": "state-token"}},
	})
	find := func(typ, key, value string) (string, resource.PropertyMap, bool) {
		if typ == "digitalocean:index/kubernetesCluster:KubernetesCluster" && key == "name" && value == "hybrid-prod-doks" {
			return "c1", state, true
		}
		return "", nil, false
	}
	args := func(name string, expiry any) resource.PropertyMap {
		m := map[string]any{"name": name}
		if expiry != nil {
			m["kubeconfigExpireSeconds"] = expiry
		}
		return resource.NewPropertyMapFromMap(m)
	}
	for _, tc := range []struct {
		name      string
		args      resource.PropertyMap
		wantErr   string
		expiresAt string
	}{
		{name: "bounded expiry", args: args("hybrid-prod-doks", 7200), expiresAt: "2026-01-01T02:00:00Z"},
		{name: "no expiry is 7 days", args: args("hybrid-prod-doks", nil), expiresAt: "2026-01-08T00:00:00Z"},
		{name: "zero is 7 days", args: args("hybrid-prod-doks", 0), expiresAt: "2026-01-08T00:00:00Z"},
		{name: "negative expiry refused", args: args("hybrid-prod-doks", -1), wantErr: "at least (0)"},
		{name: "unknown cluster", args: args("other", 7200), wantErr: "Unable to find cluster with name: other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := simcloud.InvokeIn(tok, tc.args, find)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "c1", out["id"].StringValue())
			assert.Equal(t, "nyc3", out["region"].StringValue())
			creds := out["kubeConfigs"].ArrayValue()[0].ObjectValue()
			assert.Equal(t, "https://c.k8s.ondigitalocean.com", creds["host"].StringValue())
			assert.Equal(t, "Q0E=", creds["clusterCaCertificate"].StringValue())
			assert.NotEqual(t, "state-token", creds["token"].StringValue(), "the lookup mints a token")
			again, err := simcloud.InvokeIn(tok, tc.args, find)
			require.NoError(t, err)
			assert.NotEqual(t, creds["token"].StringValue(), again["kubeConfigs"].ArrayValue()[0].ObjectValue()["token"].StringValue(),
				"each call mints a new token, as the credentials endpoint does")
			assert.Equal(t, tc.expiresAt, creds["expiresAt"].StringValue())
		})
	}
	_, err := simcloud.Invoke(tok, args("hybrid-prod-doks", 7200))
	assert.Error(t, err, "the lookup needs the cloud's state: a stateless answer would invent a cluster")
}

// The Route waits for its CRD, which the routing agent installs after the
// cluster exists: the Route depends on a Job that waits until the CRD is
// created and established, in the cluster, through the cluster's provider.
func TestRouteWaitsForItsCRD(t *testing.T) {
	res := prod(t)
	k8s := one(t, res, tK8sProv)
	route := one(t, res, tRoute)
	job := named(t, res, "kubernetes:batch/v1:Job", "doks-route-crd-wait")
	assert.Contains(t, route.DependsOn, job.URN, "the Route must wait for the CRD Job")
	assert.Equal(t, k8s.URN, job.Provider)
	assert.NotContains(t, job.DependsOn, route.URN)

	const crd = "crd/routes.networking.doks.digitalocean.com"
	init := in(t, job, "spec.template.spec.initContainers[0].args")
	main := in(t, job, "spec.template.spec.containers[0].args")
	assert.Subset(t, init, []any{"wait", "--for=create", crd}, "first: the CRD exists")
	assert.Subset(t, main, []any{"wait", "--for=condition=Established", crd}, "then: it is established")
	assert.Equal(t, "Never", in(t, job, "spec.template.spec.restartPolicy"))

	// kubectl wait reads the CRD as the Job's service account: get, list, watch.
	sa := in(t, job, "spec.template.spec.serviceAccountName")
	binding := named(t, res, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "doks-route-crd-wait")
	assert.Equal(t, sa, in(t, binding, "subjects[0].name"))
	role := named(t, res, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "doks-route-crd-wait")
	assert.Equal(t, in(t, role, "metadata.name"), in(t, binding, "roleRef.name"))
	assert.Equal(t, []any{"customresourcedefinitions"}, in(t, role, "rules[0].resources"))
	assert.ElementsMatch(t, []any{"get", "list", "watch"}, in(t, role, "rules[0].verbs"))
	assert.Contains(t, job.DependsOn, binding.URN, "the Job starts once it may read the CRD")
}
