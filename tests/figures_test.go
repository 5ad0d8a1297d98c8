package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/plan"
)

// The figures follow the config: a schedule, a pool bound or a monitor
// setting changed in the stack file changes the figure the plan prints.
func TestPlanFigures(t *testing.T) {
	withSchedule := func(stack, cron string) map[string]string {
		p := stackObject(t, stack, "platform")
		backup := p["backup"].(map[string]any)
		backup["schedules"] = []any{
			map[string]any{"name": "cluster-state", "cron": cron, "ttl": "720h", "includedNamespaces": []any{"*"}},
			// a namespace subset, more often: not the cluster-state RPO
			map[string]any{"name": "shop-hourly", "cron": "0 * * * *", "ttl": "72h", "includedNamespaces": []any{"shop"}},
		}
		return map[string]string{"platform": toJSON(t, p)}
	}
	withEtcdSchedule := func(cron string) map[string]string {
		talos := stackObject(t, "onprem", "talos")
		talos["etcdBackup"] = map[string]any{"schedule": cron}
		return map[string]string{"talos": toJSON(t, talos)}
	}
	withDoks := func(minNodes, maxNodes int) map[string]string {
		d := stackObject(t, "prod", "doks")
		pool := d["nodePool"].(map[string]any)
		pool["minNodes"], pool["maxNodes"] = minNodes, maxNodes
		return map[string]string{"doks": toJSON(t, d)}
	}
	withMonitor := func(interval, timeout, retries, down int) map[string]string {
		e := stackObject(t, "prod", "edge")
		m := e["monitor"].(map[string]any)
		m["interval"], m["timeout"], m["retries"], m["consecutiveDown"] = interval, timeout, retries, down
		return map[string]string{"edge": toJSON(t, e)}
	}
	cases := []struct {
		name  string
		stack string
		set   map[string]string
		check func(t *testing.T, f plan.Figures)
	}{
		{"prod as configured", "prod", nil, func(t *testing.T, f plan.Figures) {
			require.NotNil(t, f.Failover)
			// 60 s x 1 + (1+1) x 5 s + 1 s backoff + propagation: a bound.
			assert.Equal(t, 60+2*5+1+config.HealthPropagationSeconds, f.Failover.DetectionSeconds)
			assert.Contains(t, f.Failover.Derivation, "2 of 3 regions")
			assert.Equal(t, 120, f.Failover.ObjectiveSeconds)
			require.NotNil(t, f.ClusterStateRPO)
			assert.Equal(t, int64(6*3600), f.ClusterStateRPO.Seconds)
			assert.Equal(t, int64(24*3600), f.ClusterStateRPO.ObjectiveSeconds)
			require.NotNil(t, f.DatabaseRPO)
			assert.Equal(t, "continuous (PITR), 7-day window", f.DatabaseRPO.Summary)
			assert.Equal(t, 2, f.DatabaseRPO.Nodes)
			assert.Equal(t, []plan.NodeBound{
				{Cluster: "DOKS hybrid-prod-doks", Pool: "default", Size: "s-4vcpu-8gb", Min: 2, Max: 3},
				{Cluster: "DOKS pool of doks", Pool: "workers-s-4vcpu-8gb", Size: "s-4vcpu-8gb", Min: 3, Max: 6},
			}, f.Nodes, "the system pool, then the workload pool")
			assert.Nil(t, f.EtcdRPO, "prod runs no etcd of its own (DOKS)")
		}},
		{"onprem as configured: hourly etcd snapshots", "onprem", nil, func(t *testing.T, f plan.Figures) {
			require.NotNil(t, f.EtcdRPO)
			assert.Equal(t, int64(3600), f.EtcdRPO.Seconds)
			assert.Equal(t, int64(24*3600), f.EtcdRPO.ObjectiveSeconds)
			require.NotNil(t, f.ClusterStateRPO, "beside Velero's")
		}},
		{"etcd RPO follows the schedule: office hours", "onprem", withEtcdSchedule("0 9-17 * * *"), func(t *testing.T, f plan.Figures) {
			require.NotNil(t, f.EtcdRPO)
			// 17:00 to 09:00 the next day, not the hourly spacing
			assert.Equal(t, int64(16*3600), f.EtcdRPO.Seconds)
		}},
		{"daily schedule: 24 h RPO", "prod", withSchedule("prod", "0 3 * * *"), func(t *testing.T, f plan.Figures) {
			assert.Equal(t, int64(24*3600), f.ClusterStateRPO.Seconds)
			assert.Equal(t, "cluster-state", f.ClusterStateRPO.Schedule)
		}},
		{"every 4 h on onprem", "onprem", withSchedule("onprem", "0 */4 * * *"), func(t *testing.T, f plan.Figures) {
			assert.Equal(t, int64(4*3600), f.ClusterStateRPO.Seconds)
		}},
		{"pool bounds follow minNodes and maxNodes", "prod", withDoks(4, 9), func(t *testing.T, f plan.Figures) {
			require.Len(t, f.Nodes, 2)
			assert.Equal(t, 4, f.Nodes[1].Min, "the workload pool's")
			assert.Equal(t, 9, f.Nodes[1].Max)
		}},
		{"detection follows the monitor", "prod", withMonitor(60, 4, 2, 1), func(t *testing.T, f plan.Figures) {
			assert.Equal(t, 60+3*4+(1+2)+config.HealthPropagationSeconds, f.Failover.DetectionSeconds)
		}},
		{"onprem: Talos roles, no failover or database", "onprem", nil, func(t *testing.T, f plan.Figures) {
			assert.Nil(t, f.Failover)
			assert.Nil(t, f.DatabaseRPO)
			assert.Equal(t, []plan.NodeBound{
				{Cluster: "Talos onprem", Pool: "controlplane", Min: 3, Max: 3},
				{Cluster: "Talos onprem", Pool: "worker", Min: 2, Max: 2},
			}, f.Nodes)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := prodRefs(c.stack)
			opts.Set = c.set
			opts.FirstPass = c.stack == "prod"
			res := mustRun(t, opts)
			f := res.Figures()
			c.check(t, f)
			// every resource is counted once: under its component or outside
			total, components := f.OutsideComponents, 0
			for _, cc := range f.Components {
				total += cc.Resources
				components++
			}
			assert.Equal(t, len(res.Cloud.Resources()), total+components)
		})
	}
}

// The figures are in both renderings of the plan.
func TestPlanPrintsFigures(t *testing.T) {
	doc, _ := planJSON(t, "--stack", "prod")
	figures, ok := doc["figures"].(map[string]any)
	require.True(t, ok, "the JSON plan has a figures object")
	for _, k := range []string{"failover", "clusterStateRpo", "databaseRpo", "nodes", "resourcesPerComponent", "resourcesOutsideComponents"} {
		assert.Contains(t, figures, k)
	}
	doc, _ = planJSON(t, "--stack", "onprem")
	assert.Contains(t, doc["figures"], "etcdRpo", "onprem's JSON plan shows the etcd RPO")
}

// Every type both stacks declare has an assumed create duration, so the
// longest-chain figure counts everything.
func TestEveryTypeHasADuration(t *testing.T) {
	for _, stack := range config.Stacks {
		f := mustRun(t, prodRefs(stack)).Figures()
		require.NotNil(t, f.LongestChain, stack)
		assert.Empty(t, f.LongestChain.Unpriced, "%s: add these types to internal/plan/durations.json", stack)
		require.NotNil(t, f.OriginChain, "%s has a public origin", stack)
		assert.LessOrEqual(t, f.OriginChain.Seconds, f.LongestChain.Seconds)
	}
}

// The public origin of either stack does not wait for kube-prometheus-stack
// or for storage: the monitoring CRDs come from their own release, and
// only charts with volumes wait for the provisioners.
func TestOriginChainSkipsMonitoringAndStorage(t *testing.T) {
	for _, stack := range config.Stacks {
		chain := mustRun(t, prodRefs(stack)).Figures().OriginChain
		require.NotNil(t, chain)
		var names []string
		for _, s := range chain.Steps {
			names = append(names, s.Name)
		}
		assert.Contains(t, names, "traefik", stack)
		for _, slow := range []string{"kps", "local-path-provisioner", "nfs-subdir-external-provisioner", "loki"} {
			assert.NotContains(t, names, slow, "%s: the origin waits for %s", stack, slow)
		}
	}
}

// The chain follows dependencies, providers and components' children, and
// adds up the most specific duration of each step.
func TestLongestChainAlgorithm(t *testing.T) {
	d := &plan.Durations{Entries: []plan.Duration{
		{Type: "t:a", Seconds: 10}, {Type: "t:b", Seconds: 5}, {Type: "t:b", Name: "slow", Seconds: 50},
		{Type: "t:b", Name: "slow", Stack: "other", Seconds: 500}, {Type: "t:c", Seconds: 1},
	}}
	rs := []*mockcloud.Resource{
		{URN: "a", Type: "t:a", Name: "a", Custom: true},
		{URN: "comp", Type: "hybrid:x:X", Name: "comp"},
		{URN: "fast", Type: "t:b", Name: "fast", Custom: true, Parent: "comp", DependsOn: []string{"a"}},
		{URN: "slow", Type: "t:b", Name: "slow", Custom: true, Parent: "comp"},
		{URN: "p", Type: "pulumi:providers:x", Name: "p", Custom: true, DependsOn: []string{"fast"}},
		{URN: "c", Type: "t:c", Name: "c", Custom: true, Provider: "p"},
		{URN: "after-comp", Type: "t:c", Name: "after-comp", Custom: true, DependsOn: []string{"comp"}},
		{URN: "odd", Type: "t:unknown", Name: "odd", Custom: true},
	}
	chain := plan.LongestChain("this", rs, d)
	assert.Equal(t, 51, chain.Seconds, "slow (50) then after-comp (1): a component ends with its slowest child")
	assert.Equal(t, []plan.ChainStep{{Type: "t:b", Name: "slow", Seconds: 50}, {Type: "t:c", Name: "after-comp", Seconds: 1}}, chain.Steps)
	assert.Equal(t, []string{"t:unknown"}, chain.Unpriced)
	toC := plan.LongestChainTo("this", rs, d, func(r *mockcloud.Resource) bool { return r.URN == "c" })
	assert.Equal(t, 16, toC.Seconds, "a (10), fast (5), then c (1) through its provider")
	assert.Nil(t, plan.LongestChainTo("this", rs, d, func(*mockcloud.Resource) bool { return false }))
}
