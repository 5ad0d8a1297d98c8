package talosupgrade_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/hybridcloud/platform/internal/talosupgrade"
	"github.com/hybridcloud/platform/internal/talosupgrade/stackout"
)

func kubeNodeObject(n stackout.Node, kubelet string, ready bool) *corev1.Node {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name},
		Status: corev1.NodeStatus{
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: n.Name}, {Type: corev1.NodeInternalIP, Address: n.IP}},
			NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: kubelet},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}},
		},
	}
}

// staticPod is a control-plane mirror pod as Talos labels it.
func staticPod(n stackout.Node, component, tag string, ready bool) *corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: component + "-" + n.Name, Namespace: "kube-system",
			Labels: map[string]string{"k8s-app": component, "tier": "control-plane"},
		},
		Spec:   corev1.PodSpec{NodeName: n.Name, Containers: []corev1.Container{{Name: component, Image: "registry.k8s.io/" + component + ":" + tag}}},
		Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}},
	}
}

// The reader finds a node by its InternalIP and attributes to it only its
// own control-plane pods.
func TestKubeAPIReadsTheNodeByAddress(t *testing.T) {
	objs := []runtime.Object{
		kubeNodeObject(cp1, "v1.35.4", true),
		kubeNodeObject(cp2, "v1.35.3", true),
		kubeNodeObject(w1, "v1.35.4", false),
	}
	for _, c := range talosupgrade.ControlPlaneComponents {
		objs = append(objs, staticPod(cp1, c, "v1.35.4", true), staticPod(cp2, c, "v1.35.3", c != "kube-scheduler"))
	}
	k := &talosupgrade.KubeAPI{Client: fake.NewClientset(objs...)}
	ctx := context.Background()

	got, err := k.Node(ctx, cp2.IP)
	require.NoError(t, err)
	assert.Equal(t, "cp-2", got.Name)
	assert.Equal(t, "v1.35.3", got.Kubelet)
	assert.True(t, got.Ready)
	assert.Equal(t, talosupgrade.Component{Image: "registry.k8s.io/kube-apiserver:v1.35.3", Ready: true}, got.Components["kube-apiserver"])
	assert.Equal(t, talosupgrade.Component{Image: "registry.k8s.io/kube-scheduler:v1.35.3", Ready: false}, got.Components["kube-scheduler"])

	got, err = k.Node(ctx, w1.IP)
	require.NoError(t, err)
	assert.False(t, got.Ready)
	assert.Empty(t, got.Components, "a worker has no control-plane pods; cp-1's are not its")

	_, err = k.Node(ctx, cp3.IP)
	assert.ErrorContains(t, err, "no Kubernetes node has InternalIP "+cp3.IP)
}

// scripted is a Kubernetes API whose nodes reach the target after a number
// of reads (never when negative), recording the reads.
type scripted struct {
	mu     sync.Mutex
	behind map[string]int // node name -> reads still behind
	reads  []string
}

func (s *scripted) Node(ctx context.Context, ip string) (talosupgrade.KubeNode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := name[ip]
	s.reads = append(s.reads, n)
	version := "v" + k8s
	if left, ok := s.behind[n]; ok && left != 0 {
		version = "v1.34.9"
		s.behind[n] = left - 1
	}
	node, _ := atTarget{}.Node(ctx, ip)
	node.Kubelet = version
	if c, ok := node.Components["kube-apiserver"]; ok && version != "v"+k8s {
		c.Image = "registry.k8s.io/kube-apiserver:" + version
		node.Components["kube-apiserver"] = c
	}
	return node, nil
}

func TestKubernetesNodeByNode(t *testing.T) {
	cases := []struct {
		name   string
		behind map[string]int
		dryRun bool
		// want: the nodes read, in order, condensed ("cp-2 x3" = three reads).
		want        []string
		wantHealth  int
		wantActions map[string]string
		wantErrNode *stackout.Node
	}{
		{
			name:        "every node at the version: read once each, no health check",
			want:        []string{"cp-1", "cp-2", "cp-3", "worker-1", "worker-2"},
			wantActions: map[string]string{"cp-2": talosupgrade.ActionSkipped, "worker-1": talosupgrade.ActionSkipped},
		},
		{
			name:        "a node still behind is waited for, then the cluster health",
			behind:      map[string]int{"cp-2": 3, "worker-1": 1},
			want:        []string{"cp-1", "cp-2 x4", "cp-3", "worker-1 x2", "worker-2"},
			wantHealth:  2,
			wantActions: map[string]string{"cp-2": talosupgrade.ActionWaited, "cp-3": talosupgrade.ActionSkipped, "worker-1": talosupgrade.ActionWaited},
		},
		{
			name:        "a node that stays behind stops the run: later nodes are not read",
			behind:      map[string]int{"cp-3": -1},
			want:        []string{"cp-1", "cp-2", "cp-3 many"},
			wantErrNode: &cp3,
		},
		{
			name:        "dry run: each node read once, the behind ones reported",
			behind:      map[string]int{"cp-1": -1, "worker-2": -1},
			dryRun:      true,
			want:        []string{"cp-1", "cp-2", "cp-3", "worker-1", "worker-2"},
			wantActions: map[string]string{"cp-1": talosupgrade.ActionBehind, "cp-2": talosupgrade.ActionSkipped, "worker-2": talosupgrade.ActionBehind},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTalos{nodes: nodesAt(newTalos, nil)}
			talosconfig := serve(t, f)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c, err := talosupgrade.Dial(ctx, talosconfig)
			require.NoError(t, err)
			defer c.Close()
			kube := &scripted{behind: tc.behind}
			var log bytes.Buffer
			u := &talosupgrade.Upgrade{
				Talos: c, Kubernetes: kube, Outputs: outputs(talosconfig), DryRun: tc.dryRun,
				RebootTimeout: time.Second, HealthTimeout: 300 * time.Millisecond, Poll: 5 * time.Millisecond, Log: &log,
			}
			_, results, err := u.Run(ctx)

			assert.Equal(t, tc.want, condense(kube.reads), "log:\n%s", log.String())
			calls, _ := f.recorded()
			health := 0
			for _, c := range calls {
				if c.Method == "HealthCheck" {
					health++
				}
				assert.NotEqual(t, "Upgrade", c.Method, "Talos is at the target")
			}
			assert.Equal(t, tc.wantHealth, health)
			actions := map[string]string{}
			for _, r := range results {
				actions[r.Node.Name] = r.Action
				if r.Action == talosupgrade.ActionBehind {
					assert.Contains(t, r.Message, "kubelet v1.34.9", r.Node.Name)
				}
			}
			for n, a := range tc.wantActions {
				assert.Equal(t, a, actions[n], n)
			}
			requireStep(t, err, tc.wantErrNode, talosupgrade.StepKubernetes)
			if tc.wantErrNode != nil {
				assert.Contains(t, err.Error(), "kube-apiserver image registry.k8s.io/kube-apiserver:v1.34.9")
			}
		})
	}
}

// condense turns [a b b b c] into [a "b x3" c]; more than 10 reads is "many".
func condense(reads []string) []string {
	var out []string
	for i := 0; i < len(reads); {
		j := i
		for j < len(reads) && reads[j] == reads[i] {
			j++
		}
		switch n := j - i; {
		case n == 1:
			out = append(out, reads[i])
		case n > 10:
			out = append(out, reads[i]+" many")
		default:
			out = append(out, fmt.Sprintf("%s x%d", reads[i], n))
		}
		i = j
	}
	return out
}
