package talosupgrade

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/resources/k8s"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hybridcloud/platform/internal/talosupgrade/stackout"
)

// Kubernetes reads what a node runs from the Kubernetes API.
type Kubernetes interface {
	// Node reads the node whose InternalIP is ip.
	Node(ctx context.Context, ip string) (KubeNode, error)
}

// KubeNode is what one node runs, as the Kubernetes API reports it.
type KubeNode struct {
	Name string
	// Kubelet is status.nodeInfo.kubeletVersion, such as v1.35.4.
	Kubelet string
	Ready   bool
	// Components are the control-plane static pods on the node, by
	// component (kube-apiserver, ...): absent on workers.
	Components map[string]Component
}

// Component is one control-plane static pod.
type Component struct {
	Image string
	Ready bool
}

// ControlPlaneComponents are the static pods Talos runs on a control-plane
// node (machinery resources/k8s/k8s.go:25-31 @v1.12.5), labelled
// k8s-app=<component> in kube-system
// (internal/app/machined/pkg/controllers/k8s/control_plane_static_pod.go:456-466
// @v1.12.5 in siderolabs/talos).
var ControlPlaneComponents = []string{k8s.APIServerID, k8s.ControllerManagerID, k8s.SchedulerID}

// mismatch says why node n does not run Kubernetes version want ("v1.35.4"),
// or "" when it does.
func mismatch(n stackout.Node, got KubeNode, want string) string {
	var out []string
	if got.Kubelet != want {
		out = append(out, fmt.Sprintf("kubelet %s", orNone(got.Kubelet)))
	}
	if !got.Ready {
		out = append(out, "node not Ready")
	}
	if n.ControlPlane() {
		for _, c := range ControlPlaneComponents {
			p, ok := got.Components[c]
			switch {
			case !ok:
				out = append(out, c+" pod missing")
			case imageTag(p.Image) != want:
				out = append(out, fmt.Sprintf("%s image %s", c, p.Image))
			case !p.Ready:
				out = append(out, c+" not Ready")
			}
		}
	}
	return strings.Join(out, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// imageTag is the tag of an image reference, without a digest.
func imageTag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[i+1:]
	}
	return ""
}

func (u *Upgrade) kubernetes(ctx context.Context) ([]Result, error) {
	want := "v" + u.Outputs.KubernetesVersion
	var results []Result
	for _, n := range u.Outputs.Order() {
		got, err := u.kubeNode(ctx, n.IP)
		if err != nil && u.DryRun {
			return results, &StepError{n, StepKubernetesRead, err}
		}
		res := Result{Node: n, Before: got.Kubelet}
		why := mismatch(n, got, want)
		if err != nil {
			// The API may be restarting: waitKube reads again.
			why = err.Error()
		}
		if why == "" {
			res.Action = ActionSkipped
			u.logf("%s: Kubernetes %s", n, want)
			results = append(results, res)
			continue
		}
		if u.DryRun {
			res.Action, res.Message = ActionBehind, why
			u.logf("%s: not at Kubernetes %s: %s", n, want, why)
			results = append(results, res)
			continue
		}
		u.logf("%s: waiting for Kubernetes %s (%s)", n, want, why)
		if err := u.waitKube(ctx, n, want); err != nil {
			return results, &StepError{n, StepKubernetes, err}
		}
		if err := u.health(ctx); err != nil {
			return results, &StepError{n, StepKubernetesHealth, err}
		}
		res.Action = ActionWaited
		results = append(results, res)
	}
	return results, nil
}

func (u *Upgrade) kubeNode(ctx context.Context, ip string) (KubeNode, error) {
	ctx, cancel := context.WithTimeout(ctx, u.callTimeout())
	defer cancel()
	return u.Kubernetes.Node(ctx, ip)
}

func (u *Upgrade) waitKube(ctx context.Context, n stackout.Node, want string) error {
	deadline := time.Now().Add(u.HealthTimeout)
	for {
		got, err := u.kubeNode(ctx, n.IP)
		why := mismatch(n, got, want)
		if err != nil {
			why = err.Error()
		}
		if why == "" {
			u.logf("%s: Kubernetes %s", n, want)
			return nil
		}
		if !time.Now().Add(u.Poll).Before(deadline) {
			return fmt.Errorf("not at %s after %s: %s", want, u.HealthTimeout, why)
		}
		if err := sleep(ctx, u.Poll); err != nil {
			return err
		}
	}
}

// KubeAPI reads nodes through a Kubernetes clientset.
type KubeAPI struct {
	Client kubernetes.Interface
}

// NewKubeAPI connects with a kubeconfig's text.
func NewKubeAPI(kubeconfig string) (*KubeAPI, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(kubeconfig))
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &KubeAPI{Client: cs}, nil
}

// Node implements Kubernetes.
func (k *KubeAPI) Node(ctx context.Context, ip string) (KubeNode, error) {
	nodes, err := k.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return KubeNode{}, err
	}
	i := slices.IndexFunc(nodes.Items, func(n corev1.Node) bool {
		return slices.ContainsFunc(n.Status.Addresses, func(a corev1.NodeAddress) bool {
			return a.Type == corev1.NodeInternalIP && a.Address == ip
		})
	})
	if i < 0 {
		return KubeNode{}, fmt.Errorf("no Kubernetes node has InternalIP %s", ip)
	}
	node := nodes.Items[i]
	out := KubeNode{
		Name:    node.Name,
		Kubelet: node.Status.NodeInfo.KubeletVersion,
		Ready: slices.ContainsFunc(node.Status.Conditions, func(c corev1.NodeCondition) bool {
			return c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
		}),
		Components: map[string]Component{},
	}
	pods, err := k.Client.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{
		LabelSelector: "k8s-app in (" + strings.Join(ControlPlaneComponents, ",") + ")",
		FieldSelector: "spec.nodeName=" + node.Name,
	})
	if err != nil {
		return out, err
	}
	for _, p := range pods.Items {
		c := p.Labels["k8s-app"]
		if p.Spec.NodeName != node.Name || len(p.Spec.Containers) == 0 {
			continue
		}
		out.Components[c] = Component{
			Image: p.Spec.Containers[0].Image,
			Ready: slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
				return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
			}),
		}
	}
	return out, nil
}
