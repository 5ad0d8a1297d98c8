package tests

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/policy"
)

func TestStacksPassEveryGuardrail(t *testing.T) {
	assert.GreaterOrEqual(t, len(policy.Names()), 20, "the pack holds at least 20 mandatory guardrails")
	for _, stack := range config.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := mustRun(t, plan.Options{Stack: stack})
			assert.Empty(t, res.Violations)
		})
	}
}

// breaker changes one setting of a recorded stack; the named policy must
// then report a violation, and no other policy may.
type breaker struct {
	policy string
	name   string
	stack  string
	edit   func(t *testing.T, rs []*mockcloud.Resource) []*mockcloud.Resource
}

// editType applies fn to a copy of the first resource of a type (optionally
// with a given name) and returns the new list.
func editType(typ, name string, fn func(r *mockcloud.Resource)) func(*testing.T, []*mockcloud.Resource) []*mockcloud.Resource {
	return func(t *testing.T, rs []*mockcloud.Resource) []*mockcloud.Resource {
		out := slices.Clone(rs)
		for i, r := range out {
			if r.Type == typ && (name == "" || r.Name == name) {
				c := *r
				c.Inputs = r.Inputs.Copy()
				fn(&c)
				out[i] = &c
				return out
			}
		}
		t.Fatalf("no %s %s in the stack", typ, name)
		return nil
	}
}

// setInput returns an edit that sets an input path to v, copying every map
// and array on the way so the recorded stack is not changed.
func setInput(typ, name, path string, v any) func(*testing.T, []*mockcloud.Resource) []*mockcloud.Resource {
	return editType(typ, name, func(r *mockcloud.Resource) {
		r.Inputs = setPath(r.Inputs, strings.Split(path, "."), resource.NewPropertyValue(v)).ObjectValue()
	})
}

func setPath(m resource.PropertyMap, path []string, v resource.PropertyValue) resource.PropertyValue {
	out := m.Copy()
	key, idx := path[0], -1
	if i := strings.Index(key, "["); i >= 0 {
		idx = int(key[i+1] - '0')
		key = key[:i]
	}
	k := resource.PropertyKey(key)
	switch {
	case len(path) == 1 && idx < 0:
		if v.IsNull() {
			delete(out, k)
		} else {
			out[k] = v
		}
	case idx >= 0:
		arr := slices.Clone(out[k].ArrayValue())
		if len(path) == 1 {
			arr[idx] = v
		} else {
			arr[idx] = setPath(arr[idx].ObjectValue(), path[1:], v)
		}
		out[k] = resource.NewProperty(arr)
	default:
		out[k] = setPath(out[k].ObjectValue(), path[1:], v)
	}
	return resource.NewProperty(out)
}

func withoutNamed(typ, name string) func(*testing.T, []*mockcloud.Resource) []*mockcloud.Resource {
	return func(t *testing.T, rs []*mockcloud.Resource) []*mockcloud.Resource {
		var out []*mockcloud.Resource
		for _, r := range rs {
			if r.Type != typ || r.Name != name {
				out = append(out, r)
			}
		}
		require.Less(t, len(out), len(rs), "no %s %s to remove", typ, name)
		return out
	}
}

func without(typ string) func(*testing.T, []*mockcloud.Resource) []*mockcloud.Resource {
	return func(t *testing.T, rs []*mockcloud.Resource) []*mockcloud.Resource {
		var out []*mockcloud.Resource
		for _, r := range rs {
			if r.Type != typ {
				out = append(out, r)
			}
		}
		require.Less(t, len(out), len(rs), "no %s to remove", typ)
		return out
	}
}

var breakers = []breaker{
	{policy: "stateful-resources-protected", name: "unprotected bucket", stack: "prod",
		edit: editType(tBucket, "data-app-bucket", func(r *mockcloud.Resource) { r.Protect = false })},
	{policy: "stateful-resources-protected", name: "unprotected database", stack: "prod",
		edit: editType(tDB, "", func(r *mockcloud.Resource) { r.Protect = false })},
	{policy: "credentials-are-secret", name: "gateway user data in plaintext", stack: "prod",
		edit: editType(tDroplet, "", func(r *mockcloud.Resource) {
			r.Inputs["userData"] = r.Inputs["userData"].SecretValue().Element
		})},
	{policy: "credential-outputs-marked-secret", name: "database uri not marked", stack: "prod",
		edit: editType(tDB, "", func(r *mockcloud.Resource) { r.AdditionalSecretOutputs = []string{"password"} })},
	{policy: "database-private", name: "database off the VPC", stack: "prod", edit: setInput(tDB, "", "privateNetworkUuid", nil)},
	{policy: "database-ha", name: "single-node database", stack: "prod", edit: setInput(tDB, "", "nodeCount", 1.0)},
	{policy: "database-firewall-restricted", name: "firewall admits an address range", stack: "prod",
		edit: setInput(tDBFirewall, "", "rules[0]", map[string]any{"type": "ip_addr", "value": "0.0.0.0/0"})},
	{policy: "database-firewall-restricted", name: "no database firewall", stack: "prod", edit: without(tDBFirewall)},
	{policy: "buckets-private", name: "public bucket", stack: "prod", edit: setInput(tBucket, "data-loki-bucket", "acl", "public-read")},
	{policy: "buckets-versioned", name: "unversioned bucket", stack: "prod", edit: setInput(tBucket, "data-velero-bucket", "versioning.enabled", false)},
	{policy: "buckets-lifecycle", name: "no lifecycle rule", stack: "prod", edit: setInput(tBucket, "data-app-bucket", "lifecycleRules", []any{})},
	{policy: "spaces-keys-least-privilege", name: "consumer key with full access", stack: "prod",
		edit: setInput(tSpacesKey, "data-loki-key", "grants[0]", map[string]any{"bucket": "", "permission": "fullaccess"})},
	{policy: "doks-ha-control-plane", name: "prod control plane not HA", stack: "prod", edit: setInput(tCluster, "", "ha", false)},
	{policy: "doks-autoscaling-bounds", name: "prod system pool below 2 nodes", stack: "prod", edit: setInput(tCluster, "", "nodePool.minNodes", 1.0)},
	{policy: "doks-workload-capacity", name: "prod workload pool below 3 nodes", stack: "prod", edit: setInput(tPool, "", "minNodes", 2.0)},
	{policy: "doks-autoscaling-bounds", name: "autoscaling off", stack: "prod", edit: setInput(tCluster, "", "nodePool.autoScale", false)},
	{policy: "doks-control-plane-restricted", name: "API open to the world", stack: "prod",
		edit: setInput(tCluster, "", "controlPlaneFirewall.allowedAddresses", []any{"0.0.0.0/0"})},
	{policy: "cluster-version-tracked", name: "a minor upgrade swallowed by ignoreChanges", stack: "prod",
		edit: editType(tCluster, "", func(r *mockcloud.Resource) { r.IgnoreChanges = []string{"version"} })},
	{policy: "gateway-firewall-restricted", name: "wireguard from anywhere", stack: "prod",
		edit: setInput(tFirewall, "", "inboundRules[0].sourceAddresses", []any{"0.0.0.0/0"})},
	{policy: "chart-versions-pinned", name: "chart version range", stack: "prod",
		edit: setInput(tChart, "velero", "version", "^12.0.0")},
	{policy: "chart-versions-pinned", name: "chart without version", stack: "onprem",
		edit: setInput(tChart, "cilium", "version", nil)},
	{policy: "no-latest-image-tags", name: "velero plugin on latest", stack: "prod",
		edit: setInput(tChart, "velero", "values.initContainers[0].image", "velero/velero-plugin-for-aws:latest")},
	{policy: "namespaces-enforce-pod-security", name: "app namespace privileged", stack: "prod",
		edit: setInput(tNamespace, "ns-shop", "metadata.labels", map[string]any{"hybrid-platform/tier": "app", "pod-security.kubernetes.io/enforce": "privileged"})},
	{policy: "namespaces-enforce-pod-security", name: "namespace without a level", stack: "onprem",
		edit: setInput(tNamespace, "nfs-provisioner", "metadata.labels", map[string]any{})},
	{policy: "workload-namespaces-default-deny", name: "default deny removed", stack: "prod", edit: withoutNamed(tNetPol, "shop-default-deny")},
	{policy: "workload-namespaces-default-deny", name: "default deny allows ingress", stack: "onprem",
		edit: setInput(tNetPol, "api-default-deny", "spec.ingress", []any{map[string]any{}})},
	{policy: "app-namespaces-have-quotas", name: "quota removed", stack: "prod", edit: withoutNamed(tQuota, "api-quota")},
	{policy: "app-namespaces-have-quotas", name: "limit range removed", stack: "onprem", edit: withoutNamed(tLimitRange, "shop-limits")},
	{policy: "backups-meet-rpo", name: "weekly cluster-state schedule", stack: "prod",
		edit: setInput(tChart, "velero", "values.schedules.cluster-state.schedule", "0 3 * * 0")},
	{policy: "backups-meet-rpo", name: "cluster-state schedule disabled", stack: "onprem",
		edit: setInput(tChart, "velero", "values.schedules.cluster-state.disabled", true)},
	{policy: "edge-strict-tls", name: "full instead of strict", stack: "prod", edit: setInput(tZoneTLS, "", "settings.ssl", "full")},
	{policy: "edge-strict-tls", name: "TLS 1.0 allowed", stack: "prod", edit: setInput(tZoneTLS, "", "settings.minTlsVersion", "1.0")},
	{policy: "edge-failover-order", name: "random steering", stack: "prod", edit: setInput(tLB, "", "steeringPolicy", "random")},
	{policy: "edge-failover-order", name: "cloud pool as fallback", stack: "prod",
		edit: editType(tLB, "", func(r *mockcloud.Resource) { r.Inputs["fallbackPoolId"] = r.Inputs["defaultPoolIds"].ArrayValue()[0] })},
	{policy: "edge-failover-order", name: "not proxied", stack: "prod", edit: setInput(tLB, "", "proxied", false)},
	{policy: "edge-health-checks", name: "pool checked from every data centre", stack: "prod", edit: setInput(tLBPool, "failover-pool-cloud", "checkRegions", []any{})},
	{policy: "edge-health-checks", name: "monitor follows redirects", stack: "prod", edit: setInput(tMonitor, "", "followRedirects", true)},
	{policy: "failover-detection-objective", name: "slow monitor", stack: "prod", edit: setInput(tMonitor, "", "interval", 300.0)},
	{policy: "no-record-shadows-load-balancer", name: "record on the load balancer's hostname", stack: "prod",
		edit: setInput(tRecord, "failover-record-grafana.example.com", "name", "app.example.com")},
	{policy: "records-proxied", name: "DNS-only record", stack: "prod", edit: setInput(tRecord, "failover-record-argocd.example.com", "proxied", false)},
}

func TestEachGuardrailFails(t *testing.T) {
	base := map[string]*plan.Result{}
	covered := map[string]bool{}
	for _, b := range breakers {
		covered[b.policy] = true
		t.Run(b.policy+"/"+b.name, func(t *testing.T) {
			if base[b.stack] == nil {
				base[b.stack] = mustRun(t, plan.Options{Stack: b.stack})
			}
			settings := policy.SettingsOf(base[b.stack].Config)
			records := base[b.stack].Cloud.Resources()
			require.Empty(t, policy.Evaluate(policy.FromRecords(records), settings), "the unbroken stack must pass")
			got := policy.Evaluate(policy.FromRecords(b.edit(t, records)), settings)
			require.NotEmpty(t, got, "breaking the setting produced no violation")
			for _, v := range got {
				assert.Equal(t, b.policy, v.Policy, "unexpected violation: %s", v)
				assert.NotEmpty(t, v.Message)
			}
		})
	}
	for _, name := range policy.Names() {
		assert.True(t, covered[name], "policy %s has no test that breaks it", name)
	}
}

// violations collects what a policy reports through the pack's manager.
type violations []string

func (v *violations) ReportViolation(message, _ string) { *v = append(*v, message) }

// The pack the CLI loads holds monitors to the objective in the stack config
// it is handed (policyx builds Pack's context from the stack's config), not
// to a number of its own.
func TestPolicyPackHoldsMonitorsToTheConfiguredObjective(t *testing.T) {
	res := mustRun(t, plan.Options{Stack: config.StackProd})
	monitor := policy.FromRecords(res.Cloud.ByType(tMonitor))
	require.Len(t, monitor, 1)
	bound := res.Config.Edge.Monitor.DetectionBoundSeconds()
	run := func(edge string) (violations, error) {
		ctx, err := pulumi.NewContext(context.Background(), pulumi.RunInfo{
			Project: config.Project, Stack: config.StackProd, Config: map[string]string{config.Project + ":edge": edge},
		})
		require.NoError(t, err)
		pack, err := policy.Pack(ctx)
		if err != nil {
			return nil, err
		}
		var got violations
		for _, p := range pack.Policies() {
			if p.Name() == "failover-detection-objective" {
				require.NoError(t, p.(policyx.ResourceValidationPolicy).Validate(context.Background(),
					policyx.ResourceValidationArgs{Manager: &got, Resource: monitor[0]}))
				return got, nil
			}
		}
		t.Fatal("the pack has no failover-detection-objective policy")
		return nil, nil
	}
	for _, tc := range []struct {
		objective int
		violated  bool
	}{{bound, false}, {bound - 1, true}} {
		edge := stackObject(t, config.StackProd, "edge")
		edge["detectionObjectiveSeconds"] = tc.objective
		got, err := run(toJSON(t, edge))
		require.NoError(t, err)
		assert.Equal(t, tc.violated, len(got) > 0, "objective %d s, worst case %d s: %v", tc.objective, bound, got)
	}
	_, err := run(`{"detectionObjectiveSecs": 120}`)
	assert.ErrorContains(t, err, "detectionObjectiveSecs", "a misspelt edge fails the pack instead of disabling the objective")
}
