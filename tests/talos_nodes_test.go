package tests

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/talosupgrade/stackout"
)

// Every node takes a changed machine config live when Talos can, and
// staged (for its next reboot) when the change needs one: never `auto`,
// which would reboot every control-plane node of one `up` at once.
func TestEveryNodeAppliesStagedIfNeedingReboot(t *testing.T) {
	res := runOnprem(t, nil)
	cfg := loadConfig(t, config.StackOnprem)
	require.Len(t, res.Cloud.ByType(typeApply), len(cfg.Talos.Nodes), "one ConfigurationApply per node")
	for _, n := range cfg.Talos.Nodes {
		apply := res.Cloud.Get(typeApply, n.Name)
		require.NotNil(t, apply, "node %s has no ConfigurationApply", n.Name)
		assert.Equal(t, "staged_if_needing_reboot", in(t, apply, "applyMode"), "node %s", n.Name)
	}
}

// The machines of the stack file, and two more control-plane nodes a
// five-node control plane had.
var machineIPs = map[string]string{
	"cp-1": "192.168.10.11", "cp-2": "192.168.10.12", "cp-3": "192.168.10.13",
	"cp-4": "192.168.10.14", "cp-5": "192.168.10.15",
	"worker-1": "192.168.10.21", "worker-2": "192.168.10.22",
}

var stackFileNodes = []string{"cp-1", "cp-2", "cp-3", "worker-1", "worker-2"}

// lastApplied is the talosNodes output of the stack's previous update.
func lastApplied(names ...string) []any {
	var out []any
	for _, n := range names {
		role := config.RoleWorker
		if strings.HasPrefix(n, "cp-") {
			role = config.RoleControlPlane
		}
		out = append(out, map[string]any{"name": n, "ip": machineIPs[n], "role": role})
	}
	return out
}

// withNodes makes talos.nodes the stack file's nodes minus drop, and
// talos.decommissioned the given names.
func withNodes(drop, decommissioned []string) func(map[string]any) {
	return func(m map[string]any) {
		var nodes []any
		for _, n := range m["nodes"].([]any) {
			if !slices.Contains(drop, n.(map[string]any)["name"].(string)) {
				nodes = append(nodes, n)
			}
		}
		m["nodes"] = nodes
		if decommissioned != nil {
			m["decommissioned"] = decommissioned
		}
	}
}

// TestNodeRemovals plans onprem as the next update after one that applied
// config to the nodes in previous (the stack's own talosNodes output).
func TestNodeRemovals(t *testing.T) {
	fiveCPs := append([]string{"cp-4", "cp-5"}, stackFileNodes...)
	for _, tc := range []struct {
		name     string
		previous []string
		mutate   func(map[string]any)
		// refused: the problems, each key = value; empty: the plan succeeds
		// and the gone nodes are declared nowhere.
		refused []string
		gone    []string
	}{
		{name: "unmarked worker removal", previous: stackFileNodes, mutate: withNodes([]string{"worker-2"}, nil),
			refused: []string{`talos.nodes = "worker-2"`}},
		{name: "unmarked control-plane removal, five to three", previous: fiveCPs, mutate: nil,
			refused: []string{`talos.nodes = "cp-4"`, `talos.nodes = "cp-5"`}},
		{name: "another node marked instead", previous: stackFileNodes, mutate: withNodes([]string{"worker-2"}, []string{"worker-3"}),
			refused: []string{`talos.nodes = "worker-2"`}},
		{name: "decommissioning below three control planes", previous: stackFileNodes,
			mutate:  withNodes([]string{"cp-2", "cp-3"}, []string{"cp-2", "cp-3"}),
			refused: []string{`talos.nodes = "1 control-plane nodes"`}},
		{name: "marked worker", previous: stackFileNodes, mutate: withNodes([]string{"worker-2"}, []string{"worker-2"}),
			gone: []string{"worker-2"}},
		{name: "marked control planes, five to three", previous: fiveCPs, mutate: withNodes(nil, []string{"cp-4", "cp-5"}),
			gone: []string{"cp-4", "cp-5"}},
		// The marked update exported talosNodes without worker-2: the entry
		// may go.
		{name: "marking dropped after the marked update", previous: []string{"cp-1", "cp-2", "cp-3", "worker-1"},
			mutate: withNodes([]string{"worker-2"}, nil), gone: []string{"worker-2"}},
		{name: "node added", previous: []string{"cp-1", "cp-2", "cp-3", "worker-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := onpremOpts(t, tc.mutate)
			opts.StackOutputs[onpremStack] = map[string]any{stackout.Nodes: lastApplied(tc.previous...)}
			res, err := runStack(t, opts)
			if len(tc.refused) > 0 {
				var verr *config.ValidationError
				require.True(t, errors.As(err, &verr), "want a refusal, got %v", err)
				require.Len(t, verr.Problems, len(tc.refused), "%v", err)
				for i, want := range tc.refused {
					assert.Equal(t, want, strings.TrimPrefix(verr.Problems[i].Key, config.Project+":")+` = "`+verr.Problems[i].Value+`"`)
				}
				if !strings.Contains(tc.refused[0], "control-plane nodes") {
					assert.Contains(t, err.Error(), config.DecommissionRunbook, "the refusal points to the procedure")
					assert.Contains(t, err.Error(), "talos.decommissioned")
				}
				for _, r := range res.Cloud.Resources() {
					assert.Equal(t, typeStackRef, r.Type, "%s declared although the change is refused", r.URN)
				}
				return
			}
			require.NoError(t, err)
			raw, err := json.Marshal(res.Outputs[stackout.Nodes].Value)
			require.NoError(t, err)
			var nodes []stackout.Node
			require.NoError(t, json.Unmarshal(raw, &nodes))
			var exported []string
			for _, n := range nodes {
				exported = append(exported, n.Name)
			}
			for _, name := range tc.gone {
				assert.Nil(t, res.Cloud.Get(typeApply, name), "%s still gets its machine config", name)
				assert.NotContains(t, exported, name, "%s is still exported to the next update and to cmd/talos-upgrade", name)
				// Nothing declared mentions the machine: no apply, talosctl
				// endpoint, health check node, etcd scrape target or VIP holder.
				ip := machineIPs[name]
				for _, r := range res.Cloud.Resources() {
					if r.Type == typeStackRef {
						continue
					}
					raw, err := json.Marshal(plainInputs(r))
					require.NoError(t, err)
					assert.NotContains(t, string(raw), `"`+ip+`"`, "%s names %s (%s)", r.URN, name, ip)
				}
				for _, inv := range res.Cloud.Invokes() {
					raw, err := json.Marshal(plan.Plain(inv.Args))
					require.NoError(t, err)
					assert.NotContains(t, string(raw), `"`+ip+`"`, "invoke %s names %s (%s)", inv.Token, name, ip)
				}
				for k, o := range res.Outputs {
					raw, err := json.Marshal(o.Value)
					require.NoError(t, err)
					assert.NotContains(t, string(raw), `"`+ip+`"`, "output %s names %s (%s)", k, name, ip)
				}
			}
			active := res.Config.Talos.Nodes
			require.Len(t, res.Cloud.ByType(typeApply), len(active), "one ConfigurationApply per active node")
		})
	}
}
