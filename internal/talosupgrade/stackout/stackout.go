// Package stackout is the contract between the onprem stack and
// cmd/talos-upgrade: the names of the stack outputs the upgrade reads, and
// how it reads them from `pulumi stack output --json --show-secrets`. It
// holds no client, so that the stack (stacks/onprem.go) and the mock suite
// can use it without linking the Talos API client.
package stackout

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/hybridcloud/platform/internal/config"
)

// The onprem stack outputs the upgrade reads.
const (
	// TalosVersion is talos.talosVersion: the Talos release every node must run.
	TalosVersion = "talosVersion"
	// InstallImage is talos.installImage: the installer the Upgrade API
	// call is given.
	InstallImage = "installImage"
	// KubernetesVersion is talos.kubernetesVersion.
	KubernetesVersion = "kubernetesVersion"
	// Nodes is talos.nodes reduced to name, ip and role, in config order.
	Nodes = "talosNodes"
	// Talosconfig and Kubeconfig are the cluster's client configs (secrets).
	Talosconfig = "talosconfig"
	Kubeconfig  = "kubeconfig"
)

// Node is one Talos machine as the stack exports it.
type Node struct {
	Name string `json:"name"`
	IP   string `json:"ip"`
	Role string `json:"role"`
}

// ControlPlane reports whether the node runs etcd and the Kubernetes control plane.
func (n Node) ControlPlane() bool { return n.Role == config.RoleControlPlane }

func (n Node) String() string { return fmt.Sprintf("%s (%s, %s)", n.Name, n.IP, n.Role) }

// Outputs are the onprem stack outputs the upgrade needs.
type Outputs struct {
	TalosVersion      string `json:"talosVersion"`
	InstallImage      string `json:"installImage"`
	KubernetesVersion string `json:"kubernetesVersion"`
	Nodes             []Node `json:"talosNodes"`
	Talosconfig       string `json:"talosconfig"`
	Kubeconfig        string `json:"kubeconfig"`
}

// hidden is how `pulumi stack output --json` prints a secret without
// --show-secrets.
const hidden = "[secret]"

var (
	talosVersionRe = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)
	k8sVersionRe   = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
)

// Parse reads the JSON of `pulumi stack output --json --show-secrets -s
// onprem`. Validate checks it.
func Parse(data []byte) (*Outputs, error) {
	var o Outputs
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("stack outputs: not the JSON of `pulumi stack output --json`: %w", err)
	}
	return &o, nil
}

// Validate says what is missing or malformed, naming each output.
func (o *Outputs) Validate() error {
	var errs []error
	bad := func(key, value, want string) {
		errs = append(errs, fmt.Errorf("output %s = %q: want %s", key, value, want))
	}
	if !talosVersionRe.MatchString(o.TalosVersion) {
		bad(TalosVersion, o.TalosVersion, "a Talos release such as v1.12.11 (is the onprem stack up with this program's version?)")
	}
	if o.InstallImage == "" {
		bad(InstallImage, o.InstallImage, "the installer image reference")
	}
	if !k8sVersionRe.MatchString(o.KubernetesVersion) {
		bad(KubernetesVersion, o.KubernetesVersion, "a Kubernetes version such as 1.35.4")
	}
	for key, v := range map[string]string{Talosconfig: o.Talosconfig, Kubeconfig: o.Kubeconfig} {
		switch v {
		case hidden:
			bad(key, v, "its value: run `pulumi stack output --json --show-secrets`")
		case "":
			bad(key, v, "the cluster's client config, which the onprem stack exports as a secret")
		}
	}
	controlPlanes := 0
	seen := map[string]bool{}
	for i, n := range o.Nodes {
		key := fmt.Sprintf("%s[%d]", Nodes, i)
		if n.Name == "" || seen[n.Name] {
			bad(key+".name", n.Name, "a unique node name")
		}
		seen[n.Name] = true
		if _, err := netip.ParseAddr(n.IP); err != nil {
			bad(key+".ip", n.IP, "an IP address")
		}
		switch n.Role {
		case config.RoleControlPlane:
			controlPlanes++
		case config.RoleWorker:
		default:
			bad(key+".role", n.Role, strings.Join([]string{config.RoleControlPlane, config.RoleWorker}, " or "))
		}
	}
	if controlPlanes == 0 {
		errs = append(errs, fmt.Errorf("output %s lists no %s node", Nodes, config.RoleControlPlane))
	}
	return errors.Join(errs...)
}

// Order is the upgrade order: the control-plane nodes first, then the
// workers, each in config order.
func (o *Outputs) Order() []Node {
	var cps, workers []Node
	for _, n := range o.Nodes {
		if n.ControlPlane() {
			cps = append(cps, n)
		} else {
			workers = append(workers, n)
		}
	}
	return append(cps, workers...)
}
