// Package machineconfig renders the Talos machine configs of the on-prem
// cluster: the inputs of the base config per role and each node's patches in
// merge order. It holds pure functions of the validated stack config and the
// tunnel, and declares no resource, so that the talos.Cluster component and a
// test that validates the result with the real Talos machinery
// (tests/talosmachinery) use the very same code.
package machineconfig

import (
	"net/netip"

	"github.com/hybridcloud/platform/internal/config"
)

// Input is what the machine configs are built from.
type Input struct {
	// Talos and Network are the validated stack config.
	Talos   config.Talos
	Network config.Network
	// LocalStoragePath is bind-mounted into the kubelet so that hostPath
	// volumes under it work; empty for none.
	LocalStoragePath string
	// Tunnel is the wg0 link on Talos.WireguardNode, without its private
	// key: Patches.Tunnel takes that separately.
	Tunnel Tunnel
}

// Tunnel is the on-prem end of the WireGuard tunnel.
type Tunnel struct {
	// Address is the on-prem tunnel address with the tunnel's prefix length.
	Address    netip.Prefix
	ListenPort int
	Peer       Peer
}

// Peer is the DO gateway, as the prod stack exports it.
type Peer struct {
	PublicKey string
	Endpoint  string // PUBLIC_IP:PORT
	// AllowedIPs are the ranges routed through the tunnel.
	AllowedIPs []netip.Prefix
	// Gateway is the gateway's tunnel address: the next hop for AllowedIPs.
	Gateway netip.Addr
}

// Base is what the base machine config of each role is generated from
// (talos:machine/getConfiguration).
type Base struct {
	ClusterName string
	// Endpoint is the Kubernetes API on the control-plane VIP.
	Endpoint string
	// TalosVersion selects the config contract; KubernetesVersion the
	// control-plane images.
	TalosVersion      string
	KubernetesVersion string
}

// BaseFor returns the base-config inputs of the cluster.
func BaseFor(t config.Talos) Base {
	return Base{
		ClusterName:       t.ClusterName,
		Endpoint:          Endpoint(t),
		TalosVersion:      t.TalosVersion,
		KubernetesVersion: t.KubernetesVersion,
	}
}

// Endpoint is the cluster endpoint baked into every machine config.
func Endpoint(t config.Talos) string {
	return "https://" + t.Vip.String() + ":6443"
}

func (a *Input) wireguardNode() config.TalosNode {
	for _, n := range a.Talos.Nodes {
		if n.Name == a.Talos.WireguardNode {
			return n
		}
	}
	return config.TalosNode{}
}

// Patches are the rendered patches: readable YAML, except the WireGuard
// patch, which holds the private key and is rendered on its own by Tunnel.
type Patches struct {
	in           Input
	cluster      string
	controlPlane string
	node         map[string]string
}

// Render renders every patch that holds no secret.
func Render(in Input) (*Patches, error) {
	p := &Patches{in: in, node: map[string]string{}}
	var err error
	if p.cluster, err = render(clusterPatch(&in)); err != nil {
		return nil, err
	}
	if p.controlPlane, err = render(controlPlanePatch(&in)); err != nil {
		return nil, err
	}
	for _, n := range in.Talos.Nodes {
		if p.node[n.Name], err = render(nodePatch(&in, n), nodeHostname(n)); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Public lists node n's readable patches in merge order: cluster, role,
// node. When CarriesTunnel(n), the tunnel patch follows them, last.
func (p *Patches) Public(n config.TalosNode) []string {
	out := []string{p.cluster}
	if n.Role == config.RoleControlPlane {
		out = append(out, p.controlPlane)
	}
	return append(out, p.node[n.Name])
}

// CarriesTunnel reports whether node n carries the wg0 link.
func (p *Patches) CarriesTunnel(n config.TalosNode) bool {
	return n.Name == p.in.Talos.WireguardNode
}

// Tunnel renders the wg0 patch with the on-prem private key: the caller
// keeps it a secret.
func (p *Patches) Tunnel(privateKey string) (string, error) {
	return render(wireguardPatch(&p.in, privateKey))
}

// ForNode lists every patch of node n in merge order, the tunnel patch
// (rendered with privateKey) included where it belongs.
func (p *Patches) ForNode(n config.TalosNode, privateKey string) ([]string, error) {
	out := p.Public(n)
	if p.CarriesTunnel(n) {
		wg, err := p.Tunnel(privateKey)
		if err != nil {
			return nil, err
		}
		out = append(out, wg)
	}
	return out, nil
}
