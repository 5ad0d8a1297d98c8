package talosupgrade_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hybridcloud/platform/internal/talosupgrade"
	"github.com/hybridcloud/platform/internal/talosupgrade/stackout"
)

const (
	oldTalos = "v1.12.10"
	newTalos = "v1.12.11"
	image    = "ghcr.io/siderolabs/installer:" + newTalos
	k8s      = "1.35.4"
)

// The nodes in config order: the workers are listed among the control
// planes on purpose, so that the order cannot come from the list alone.
var (
	cp1 = stackout.Node{Name: "cp-1", IP: "192.168.10.11", Role: "controlplane"}
	w1  = stackout.Node{Name: "worker-1", IP: "192.168.10.21", Role: "worker"}
	cp2 = stackout.Node{Name: "cp-2", IP: "192.168.10.12", Role: "controlplane"}
	cp3 = stackout.Node{Name: "cp-3", IP: "192.168.10.13", Role: "controlplane"}
	w2  = stackout.Node{Name: "worker-2", IP: "192.168.10.22", Role: "worker"}

	configOrder = []stackout.Node{cp1, w1, cp2, w2, cp3}
	name        = map[string]string{cp1.IP: cp1.Name, cp2.IP: cp2.Name, cp3.IP: cp3.Name, w1.IP: w1.Name, w2.IP: w2.Name}
)

// atTarget is a Kubernetes API where every node already runs k8s.
type atTarget struct{}

func (atTarget) Node(_ context.Context, ip string) (talosupgrade.KubeNode, error) {
	tag := "registry.k8s.io/%s:v" + k8s
	return talosupgrade.KubeNode{Name: name[ip], Kubelet: "v" + k8s, Ready: true, Components: map[string]talosupgrade.Component{
		"kube-apiserver":          {Image: fmt.Sprintf(tag, "kube-apiserver"), Ready: true},
		"kube-controller-manager": {Image: fmt.Sprintf(tag, "kube-controller-manager"), Ready: true},
		"kube-scheduler":          {Image: fmt.Sprintf(tag, "kube-scheduler"), Ready: true},
	}}, nil
}

// nodesAt gives every node the version, but those in at, which get theirs.
func nodesAt(version string, at map[string]string) map[string]*fakeNode {
	out := map[string]*fakeNode{}
	for _, n := range configOrder {
		v := version
		if w, ok := at[n.Name]; ok {
			v = w
		}
		out[n.IP] = &fakeNode{version: v, downFor: 3}
	}
	return out
}

func outputs(talosconfig string) *stackout.Outputs {
	return &stackout.Outputs{
		TalosVersion: newTalos, InstallImage: image, KubernetesVersion: k8s,
		Nodes: configOrder, Talosconfig: talosconfig, Kubeconfig: "unused: atTarget",
	}
}

// run upgrades the fake cluster through the real machinery client, over TLS.
func run(t *testing.T, f *fakeTalos, dryRun bool) (results []talosupgrade.Result, log string, err error) {
	t.Helper()
	talosconfig := serve(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := talosupgrade.Dial(ctx, talosconfig)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	var buf bytes.Buffer
	u := &talosupgrade.Upgrade{
		Talos: c, Kubernetes: atTarget{}, Outputs: outputs(talosconfig), DryRun: dryRun,
		RebootTimeout: 2 * time.Second, HealthTimeout: 2 * time.Second, Poll: 5 * time.Millisecond,
		CallTimeout: time.Second, Log: &buf,
	}
	results, _, err = u.Run(ctx)
	return results, buf.String(), err
}

// story condenses the calls into what an operator cares about: "health",
// "upgrade NODE", "back NODE" (the first Version answer with the target
// after the node's Upgrade), "read NODE" (a Version read before any Upgrade
// of the node).
func story(calls []call) []string {
	var out []string
	pending := map[string]bool{}
	for _, c := range calls {
		n := name[c.Node]
		switch c.Method {
		case "HealthCheck":
			out = append(out, "health")
		case "Upgrade":
			out = append(out, "upgrade "+n)
			pending[c.Node] = true
		case "Version":
			switch {
			case pending[c.Node] && c.Answer == newTalos:
				out = append(out, "back "+n)
				delete(pending, c.Node)
			case !pending[c.Node]:
				out = append(out, "read "+n)
			}
		}
	}
	return out
}

func TestUpgradeOrderSkipAndStop(t *testing.T) {
	cases := []struct {
		name        string
		nodes       map[string]*fakeNode
		healthFails map[int]string
		dryRun      bool
		want        []string
		// wantErr: the node and step of the first failure.
		wantErrNode *stackout.Node
		wantErrStep string
	}{
		{
			name:  "control planes first, then workers, one at a time, health after each",
			nodes: nodesAt(oldTalos, nil),
			want: []string{
				"read cp-1", "health", "upgrade cp-1", "back cp-1", "health",
				"read cp-2", "upgrade cp-2", "back cp-2", "health",
				"read cp-3", "upgrade cp-3", "back cp-3", "health",
				"read worker-1", "upgrade worker-1", "back worker-1", "health",
				"read worker-2", "upgrade worker-2", "back worker-2", "health",
			},
		},
		{
			name:  "nodes already at the target are read and skipped",
			nodes: nodesAt(oldTalos, map[string]string{"cp-1": newTalos, "cp-2": newTalos, "worker-2": newTalos}),
			want: []string{
				"read cp-1", "read cp-2",
				"read cp-3", "health", "upgrade cp-3", "back cp-3", "health",
				"read worker-1", "upgrade worker-1", "back worker-1", "health",
				"read worker-2",
			},
		},
		{
			name:  "every node at the target: nothing rebooted, no health check",
			nodes: nodesAt(newTalos, nil),
			want:  []string{"read cp-1", "read cp-2", "read cp-3", "read worker-1", "read worker-2"},
		},
		{
			name:        "a failed health check stops the run: no call to a later node",
			nodes:       nodesAt(oldTalos, nil),
			healthFails: map[int]string{2: "etcd to be healthy: 192.168.10.12: service \"etcd\" not in expected state \"Running\""},
			want:        []string{"read cp-1", "health", "upgrade cp-1", "back cp-1", "health", "read cp-2", "upgrade cp-2", "back cp-2", "health"},
			wantErrNode: &cp2, wantErrStep: talosupgrade.StepHealthAfter,
		},
		{
			name:        "an unhealthy cluster is not touched",
			nodes:       nodesAt(oldTalos, nil),
			healthFails: map[int]string{0: "all k8s nodes to report ready: node worker-1 is not ready"},
			want:        []string{"read cp-1", "health"},
			wantErrNode: &cp1, wantErrStep: talosupgrade.StepHealthBefore,
		},
		{
			name:   "dry run: versions read, no Upgrade call, no health check",
			nodes:  nodesAt(oldTalos, map[string]string{"cp-2": newTalos}),
			dryRun: true,
			want:   []string{"read cp-1", "read cp-2", "read cp-3", "read worker-1", "read worker-2"},
		},
		{
			name: "a node that boots its previous image stops the run",
			nodes: func() map[string]*fakeNode {
				n := nodesAt(oldTalos, nil)
				n[cp1.IP].bootsInto = oldTalos
				return n
			}(),
			want:        []string{"read cp-1", "health", "upgrade cp-1"},
			wantErrNode: &cp1, wantErrStep: talosupgrade.StepReboot,
		},
		{
			name: "a refused Upgrade call stops the run",
			nodes: func() map[string]*fakeNode {
				n := nodesAt(newTalos, map[string]string{"cp-3": oldTalos, "worker-1": oldTalos})
				n[cp3.IP].upgradeErr = status.Error(codes.FailedPrecondition, "etcd member is not healthy")
				return n
			}(),
			want:        []string{"read cp-1", "read cp-2", "read cp-3", "health", "upgrade cp-3"},
			wantErrNode: &cp3, wantErrStep: talosupgrade.StepUpgrade,
		},
		{
			name: "an unreachable node stops the run before anything else",
			nodes: func() map[string]*fakeNode {
				n := nodesAt(oldTalos, nil)
				n[cp2.IP].unreachable = true
				return n
			}(),
			want:        []string{"read cp-1", "health", "upgrade cp-1", "back cp-1", "health", "read cp-2"},
			wantErrNode: &cp2, wantErrStep: talosupgrade.StepReadVersion,
		},
		{
			name:        "a node newer than the target is never downgraded",
			nodes:       nodesAt(oldTalos, map[string]string{"cp-1": "v1.13.0"}),
			want:        []string{"read cp-1"},
			wantErrNode: &cp1, wantErrStep: talosupgrade.StepReadVersion,
		},
		{
			name:        "a jump over a minor release is refused",
			nodes:       nodesAt("v1.10.7", nil),
			want:        []string{"read cp-1"},
			wantErrNode: &cp1, wantErrStep: talosupgrade.StepReadVersion,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTalos{nodes: tc.nodes, healthFails: tc.healthFails}
			_, log, err := run(t, f, tc.dryRun)
			calls, violations := f.recorded()
			assert.Equal(t, tc.want, story(calls), "log:\n%s", log)
			assert.Empty(t, violations)
			requireStep(t, err, tc.wantErrNode, tc.wantErrStep)
		})
	}
}

// What each call carried: the installer image of the stack, and the node
// lists of the stack for the server-side health check, which runs on a
// control-plane node.
func TestUpgradeCallsCarryTheStackValues(t *testing.T) {
	f := &fakeTalos{nodes: nodesAt(newTalos, map[string]string{"worker-2": oldTalos})}
	results, _, err := run(t, f, false)
	require.NoError(t, err)
	calls, _ := f.recorded()
	var upgrades, health []call
	for _, c := range calls {
		switch c.Method {
		case "Upgrade":
			upgrades = append(upgrades, c)
		case "HealthCheck":
			health = append(health, c)
		}
	}
	require.Len(t, upgrades, 1)
	assert.Equal(t, call{Method: "Upgrade", Node: w2.IP, Image: image}, upgrades[0])
	require.Len(t, health, 2, "before the reboot and after")
	for _, h := range health {
		assert.Equal(t, cp1.IP, h.Node)
		assert.Equal(t, []string{cp1.IP, cp2.IP, cp3.IP}, h.ControlPlanes)
		assert.Equal(t, []string{w1.IP, w2.IP}, h.Workers)
	}
	actions := map[string]string{}
	for _, r := range results {
		actions[r.Node.Name] = r.Action
	}
	assert.Equal(t, map[string]string{
		"cp-1": talosupgrade.ActionSkipped, "cp-2": talosupgrade.ActionSkipped, "cp-3": talosupgrade.ActionSkipped,
		"worker-1": talosupgrade.ActionSkipped, "worker-2": talosupgrade.ActionUpgraded,
	}, actions)
}

// A run stopped by a failed health check, then run again: the nodes it
// upgraded are skipped, and the retry first waits for a healthy cluster.
func TestRetryRebootsNothingTwice(t *testing.T) {
	f := &fakeTalos{nodes: nodesAt(oldTalos, nil), healthFails: map[int]string{2: "etcd to be healthy"}}
	_, _, err := run(t, f, false)
	requireStep(t, err, &cp2, talosupgrade.StepHealthAfter)

	first, _ := f.recorded()
	f.mu.Lock()
	f.calls = nil
	f.mu.Unlock()
	_, log, err := run(t, f, false)
	require.NoError(t, err)
	second, _ := f.recorded()
	assert.Equal(t, []string{"upgrade cp-1", "upgrade cp-2"}, upgradesIn(first))
	assert.Equal(t, []string{
		"read cp-1", "read cp-2",
		"read cp-3", "health", "upgrade cp-3", "back cp-3", "health",
		"read worker-1", "upgrade worker-1", "back worker-1", "health",
		"read worker-2", "upgrade worker-2", "back worker-2", "health",
	}, story(second), "log:\n%s", log)
}

func upgradesIn(calls []call) []string {
	var out []string
	for _, s := range story(calls) {
		if len(s) > 8 && s[:8] == "upgrade " {
			out = append(out, s)
		}
	}
	return out
}

// A node that does not come back in time: the error says so and keeps the
// last error it saw.
func TestRebootTimeoutNamesTheLastError(t *testing.T) {
	nodes := nodesAt(newTalos, map[string]string{"worker-1": oldTalos})
	nodes[w1.IP].downFor = 1 << 20
	f := &fakeTalos{nodes: nodes}
	_, _, err := run(t, f, false)
	requireStep(t, err, &w1, talosupgrade.StepReboot)
	assert.Contains(t, err.Error(), "rebooting")
}

// requireStep checks the first failure of a run: none when node is nil,
// else a StepError naming the node (in the message too) and the step.
func requireStep(t *testing.T, err error, node *stackout.Node, step string) {
	t.Helper()
	if node == nil {
		require.NoError(t, err)
		return
	}
	var se *talosupgrade.StepError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, *node, se.Node)
	assert.Equal(t, step, se.Step)
	assert.Contains(t, err.Error(), node.Name, "the error names the node")
}
