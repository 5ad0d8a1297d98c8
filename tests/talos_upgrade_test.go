package tests

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/talosupgrade/stackout"
)

// cmd/talos-upgrade reads the onprem stack outputs as `pulumi stack output
// --json --show-secrets` prints them: the stack must export all it needs,
// in the shape it reads, with the client configs kept secret.
func TestOnpremExportsWhatTheTalosUpgradeReads(t *testing.T) {
	res := runOnprem(t, nil)
	values := map[string]any{}
	for k, o := range res.Outputs {
		values[k] = o.Value
	}
	for _, k := range []string{stackout.TalosVersion, stackout.InstallImage, stackout.KubernetesVersion, stackout.Nodes} {
		require.Contains(t, res.Outputs, k)
		assert.True(t, res.Outputs[k].Known, k)
		assert.False(t, res.Outputs[k].Secret, "%s is no secret: the plan and the job log may show it", k)
	}
	for _, k := range []string{stackout.Talosconfig, stackout.Kubeconfig} {
		assert.True(t, res.Outputs[k].Secret, "%s holds the cluster's admin credentials", k)
	}
	data, err := json.Marshal(values)
	require.NoError(t, err)
	out, err := stackout.Parse(data)
	require.NoError(t, err)
	require.NoError(t, out.Validate())

	// Every node of talos.nodes is upgraded, control planes first.
	talos, _, _, _ := onpremConfig(t)
	require.Len(t, out.Nodes, len(talos.Nodes))
	order := out.Order()
	seenWorker := false
	for _, n := range order {
		seenWorker = seenWorker || !n.ControlPlane()
		assert.False(t, seenWorker && n.ControlPlane(), "control plane %s after a worker", n.Name)
	}
	assert.True(t, seenWorker, "the onprem stack file has workers")
}

// The plan cannot know what the nodes run, and says where to read it
// instead of showing the configured versions as if they ran.
func TestPlanSaysWhereTheRunningVersionsAre(t *testing.T) {
	var text bytes.Buffer
	runOnprem(t, nil).WriteText(&text)
	assert.Contains(t, text.String(), "running Talos and Kubernetes versions: not known offline, and in no state")
	assert.Contains(t, text.String(), "go run ./cmd/talos-upgrade --dry-run")
}
