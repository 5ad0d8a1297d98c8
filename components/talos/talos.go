// Package talos is the Cluster component: the on-prem Talos Linux
// Kubernetes cluster, from machine secrets to a working CNI, in the order
// Talos needs:
//
//	Secrets -> machine config per role -> ConfigurationApply per node
//	-> Bootstrap (after every control-plane apply) -> Kubeconfig
//	-> kubernetes.Provider -> Cilium
package talos

import (
	"net/netip"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/components/talos/machineconfig"
	"github.com/hybridcloud/platform/internal/argcheck"
	"github.com/hybridcloud/platform/internal/config"
)

// Type is the component's type token; OldType the one it had, which
// existing stacks hold.
const (
	Type    = "hybrid:talos:Cluster"
	OldType = "hybrid:talos:TalosCluster"
)

// Cluster is the on-prem Talos cluster.
type Cluster struct {
	pulumi.ResourceState

	// Endpoint is the Kubernetes API on the control-plane VIP.
	Endpoint pulumi.StringOutput `pulumi:"endpoint"`
	// Kubeconfig is the admin kubeconfig (secret).
	Kubeconfig pulumi.StringOutput `pulumi:"kubeconfig"`
	// Talosconfig is the talosctl client config (secret).
	Talosconfig pulumi.StringOutput `pulumi:"talosconfig"`

	// Provider talks to this cluster; later components pass it.
	Provider *kubernetes.Provider
	// Cni is the Cilium chart. Pods need it for networking: components
	// that run pods depend on it.
	Cni pulumi.Resource
}

// Args configures a Cluster.
type Args struct {
	// Talos and Network are the validated stack config.
	Talos   config.Talos
	Network config.Network
	// LocalStoragePath is bind-mounted into the kubelet so that hostPath
	// volumes under it work; empty for none.
	LocalStoragePath string
	// WireGuard is the wg0 tunnel to the DO gateway on Talos.WireguardNode.
	WireGuard WireGuard
	// ChartRepository, when set, is the Helm repository the Cilium chart
	// comes from (platform.chartRepository); empty means upstream.
	ChartRepository string
}

// WireGuard is the on-prem end of the tunnel.
type WireGuard struct {
	// PrivateKey is the on-prem peer's private key (secret).
	PrivateKey pulumi.StringInput
	// Address is the on-prem tunnel address with the tunnel's prefix length.
	Address    netip.Prefix
	ListenPort int
	Peer       Peer
}

// Peer is the DO gateway, as the prod stack exports it.
type Peer = machineconfig.Peer

func (a *Args) wireguardNode() config.TalosNode {
	for _, n := range a.Talos.Nodes {
		if n.Name == a.Talos.WireguardNode {
			return n
		}
	}
	return config.TalosNode{}
}

// machineInput is what the machine configs are rendered from: everything
// but the private key.
func (a *Args) machineInput() machineconfig.Input {
	return machineconfig.Input{
		Talos: a.Talos, Network: a.Network, LocalStoragePath: a.LocalStoragePath,
		Tunnel: machineconfig.Tunnel{Address: a.WireGuard.Address, ListenPort: a.WireGuard.ListenPort, Peer: a.WireGuard.Peer},
	}
}

func (a *Args) check() error {
	if a == nil {
		return argcheck.Nil("talos")
	}
	e := argcheck.For("talos")
	if len(a.Talos.ControlPlanes()) == 0 {
		e.Invalid("Talos.Nodes", "no control-plane node")
	}
	if a.wireguardNode().Name == "" {
		e.Invalid("Talos.WireguardNode", "%q is not one of Talos.Nodes", a.Talos.WireguardNode)
	}
	e.Required("WireGuard.PrivateKey", a.WireGuard.PrivateKey == nil)
	e.Required("WireGuard.Address", !a.WireGuard.Address.IsValid())
	e.Required("WireGuard.Peer.Gateway", !a.WireGuard.Peer.Gateway.IsValid())
	e.Required("WireGuard.Peer.PublicKey", a.WireGuard.Peer.PublicKey == "")
	e.Required("WireGuard.Peer.Endpoint", a.WireGuard.Peer.Endpoint == "")
	e.Required("WireGuard.Peer.AllowedIPs", len(a.WireGuard.Peer.AllowedIPs) == 0)
	return e.Err()
}

// New declares the cluster. name is the component's name; the
// cluster's own name comes from Args.Talos.ClusterName.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	c := &Cluster{}
	opts = append(opts, pulumi.Aliases([]pulumi.Alias{{Type: pulumi.String(OldType)}}))
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, err
	}
	m, err := newMachines(ctx, c, args)
	if err != nil {
		return nil, err
	}
	c.Endpoint = pulumi.String(machineconfig.Endpoint(args.Talos)).ToStringOutput()
	c.Kubeconfig = m.kubeconfig
	c.Talosconfig = m.talosconfig
	if err := newCilium(ctx, c, name, args); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"endpoint":    c.Endpoint,
		"kubeconfig":  c.Kubeconfig,
		"talosconfig": c.Talosconfig,
	}); err != nil {
		return nil, err
	}
	return c, nil
}
