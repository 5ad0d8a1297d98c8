package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
)

// The first `up` of onprem from nothing: the health check runs on every
// node, without the node-Ready checks that would wait for the CNI this
// program installs later, with a bounded wait; and a Bootstrap that would be
// replaced fails at once instead of retrying "already bootstrapped".
func TestTalosHealthGateAndBootstrapGuard(t *testing.T) {
	res := runOnprem(t, nil)
	bootstraps := res.Cloud.ByType(typeBootstrap)
	require.Len(t, bootstraps, 1)
	assert.True(t, bootstraps[0].Protect, "a replaced Bootstrap spins for 10 minutes on an already bootstrapped etcd")

	var health []map[string]any
	for _, inv := range res.Cloud.Invokes() {
		if inv.Token == "talos:cluster/getHealth:getHealth" {
			health = append(health, inv.Args.Mappable())
		}
	}
	require.Len(t, health, 1, "one health gate")
	h := health[0]
	assert.Equal(t, true, h["skipKubernetesChecks"], "nodes are not Ready before Cilium: the full checks would deadlock the first up")
	timeouts, ok := h["timeouts"].(map[string]any)
	require.True(t, ok, "the wait is bounded")
	assert.Equal(t, "10m", timeouts["read"])

	cfg := loadConfig(t, "onprem")
	var cps, workers []any
	for _, n := range cfg.Talos.Nodes {
		if n.Role == config.RoleControlPlane {
			cps = append(cps, n.IP.String())
		} else {
			workers = append(workers, n.IP.String())
		}
	}
	assert.ElementsMatch(t, cps, h["controlPlaneNodes"])
	assert.ElementsMatch(t, workers, h["workerNodes"])
	assert.ElementsMatch(t, cps, h["endpoints"], "talos endpoints are the control-plane nodes, never the VIP")
}
