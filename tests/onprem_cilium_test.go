package tests

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/plan"
)

// ciliumValues are the recorded values of the Talos cluster's Cilium chart.
func ciliumValues(t *testing.T, res *plan.Result) any {
	t.Helper()
	chart := res.Cloud.Get(typeChart, "cilium")
	require.NotNil(t, chart, "no cilium chart")
	return plan.Plain(chart.Inputs)["values"]
}

// What the ingress' one-address pool and L2 announcement policy need from
// the Cilium release (components/ingress, Talos path).
func TestCiliumServesTheIngressAddress(t *testing.T) {
	values := ciliumValues(t, runOnprem(t, nil))
	for _, tc := range []struct {
		path []any
		want any
		why  string
	}{
		{[]any{"kubeProxyReplacement"}, true, "L2 announcements require kube-proxy replacement"},
		{[]any{"l2announcements", "enabled"}, true, "the agent must answer ARP for the load-balancer IP"},
		{[]any{"k8sClientRateLimit", "qps"}, 20.0, "each announced Service's Lease is renewed through the API"},
		{[]any{"k8sClientRateLimit", "burst"}, 50.0, "bursts above the sustained rate for watches and lease renewals"},
		{[]any{"devices"}, []any{"eno1"}, "announcements only work on devices Cilium attaches to"},
	} {
		t.Run(tc.path[len(tc.path)-1].(string), func(t *testing.T) {
			assert.Equal(t, tc.want, dig(t, values, tc.path...), tc.why)
		})
	}
	_, hasExternalIPs := values.(map[string]any)["externalIPs"]
	assert.False(t, hasExternalIPs, "cilium 1.18 has no externalIPs key (the render test refuses unknown keys)")
	// LB-IPAM is on unless disabled: nothing may turn it off.
	assert.Nil(t, dig(t, values, "enableLBIPAM"), "LB-IPAM stays at the chart default (on)")
}

// The devices list follows talos.nodes[].interface: deduplicated, sorted,
// whatever the node order.
func TestCiliumDevicesFollowConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(map[string]any)
		want   []any
	}{
		{name: "stack file (eno1 everywhere)", want: []any{"eno1"}},
		{name: "all renamed", mutate: func(m map[string]any) {
			for i := range m["nodes"].([]any) {
				node(i, "interface", "enp3s0")(m)
			}
		}, want: []any{"enp3s0"}},
		{name: "workers on another NIC", mutate: func(m map[string]any) {
			node(3, "interface", "enp1s0")(m)
			node(4, "interface", "enp1s0")(m)
		}, want: []any{"eno1", "enp1s0"}},
		{name: "one node differs, listed last", mutate: func(m map[string]any) {
			node(4, "interface", "bond0")(m)
		}, want: []any{"bond0", "eno1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			values := ciliumValues(t, runOnprem(t, tc.mutate))
			assert.Equal(t, tc.want, dig(t, values, "devices"))
		})
	}
}

// The control-plane patch opens the metrics endpoints that
// kube-prometheus-stack scrapes on the control-plane nodes, on the ports it
// scrapes; workers get none of it.
func TestTalosControlPlaneMetricsForPrometheus(t *testing.T) {
	res := runOnprem(t, nil)
	cpDocs, _ := patches(t, res.Cloud.Get(typeApply, "cp-1"))
	cp := parseYAML(t, cpDocs[1])
	kps := plan.Plain(named(t, res, typeChart, "kps").Inputs)["values"]

	etcdURL, err := url.Parse(dig(t, cp, "cluster", "etcd", "extraArgs", "listen-metrics-urls").(string))
	require.NoError(t, err)
	for _, tc := range []struct {
		name       string
		got        any
		want       any
		scrapePort any // kube-prometheus-stack's port for the component
		https      any // kube-prometheus-stack's serviceMonitor.https
	}{
		{name: "etcd", got: etcdURL.Scheme + "://" + etcdURL.Hostname(), want: "http://0.0.0.0",
			scrapePort: dig(t, kps, "kubeEtcd", "service", "port"), https: dig(t, kps, "kubeEtcd", "serviceMonitor", "https")},
		{name: "kube-scheduler", got: dig(t, cp, "cluster", "scheduler", "extraArgs", "bind-address"), want: "0.0.0.0",
			scrapePort: dig(t, kps, "kubeScheduler", "service", "port"), https: dig(t, kps, "kubeScheduler", "serviceMonitor", "https")},
		{name: "kube-controller-manager", got: dig(t, cp, "cluster", "controllerManager", "extraArgs", "bind-address"), want: "0.0.0.0",
			scrapePort: dig(t, kps, "kubeControllerManager", "service", "port"), https: dig(t, kps, "kubeControllerManager", "serviceMonitor", "https")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.got, "listens on every address, not only localhost")
			switch tc.name {
			case "etcd":
				port, err := strconv.Atoi(etcdURL.Port())
				require.NoError(t, err)
				assert.Equal(t, 2381, port)
				assert.InDelta(t, port, tc.scrapePort, 0, "Prometheus scrapes etcd on the port the patch opens")
				assert.Nil(t, tc.https, "etcd's metrics listener is plain HTTP")
			case "kube-scheduler":
				assert.InDelta(t, 10259, tc.scrapePort, 0)
				assert.Equal(t, true, tc.https, "the scheduler serves metrics over HTTPS only")
			case "kube-controller-manager":
				assert.InDelta(t, 10257, tc.scrapePort, 0)
				assert.Equal(t, true, tc.https, "the controller-manager serves metrics over HTTPS only")
			}
		})
	}
	// The advertised subnet stays next to the new argument.
	assert.NotEmpty(t, dig(t, cp, "cluster", "etcd", "advertisedSubnets"))

	workerDocs, _ := patches(t, res.Cloud.Get(typeApply, "worker-1"))
	for i, d := range workerDocs {
		doc := parseYAML(t, d)
		for _, key := range []string{"etcd", "scheduler", "controllerManager"} {
			assert.Nil(t, dig(t, doc, "cluster", key), "worker patch %d carries no %s settings", i, key)
		}
	}
}
