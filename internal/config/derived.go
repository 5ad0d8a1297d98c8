package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// Values derived from validated config, the one place each is derived.

// TunnelAddresses returns the two ends of the WireGuard tunnel, with the
// tunnel's prefix length: the DO gateway takes the first host of
// network.tunnelCidr, on-prem the second.
func (n Network) TunnelAddresses() (gateway, onprem netip.Prefix) {
	t := n.TunnelCidr
	gw := t.Addr().Next()
	return netip.PrefixFrom(gw, t.Bits()), netip.PrefixFrom(gw.Next(), t.Bits())
}

// CloudRoutes lists the cloud ranges reachable through the tunnel: the VPC,
// the DOKS pod range (routable in the VPC with VPC-native networking) and the
// tunnel itself. The DOKS service range is left out on purpose: ClusterIPs
// only exist inside cluster nodes and cannot be reached through a router.
// The prod stack exports them as onpremRoutes.
func (n Network) CloudRoutes() []netip.Prefix {
	return []netip.Prefix{n.VpcCidr, n.DoksPodCidr, n.TunnelCidr}
}

// ControlPlanes returns the control-plane nodes in config order.
func (t Talos) ControlPlanes() []TalosNode {
	var out []TalosNode
	for _, n := range t.Nodes {
		if n.Role == RoleControlPlane {
			out = append(out, n)
		}
	}
	return out
}

// ControlPlaneIPs returns the control-plane nodes' addresses in config order.
func (t Talos) ControlPlaneIPs() []netip.Addr {
	var out []netip.Addr
	for _, n := range t.ControlPlanes() {
		out = append(out, n.IP)
	}
	return out
}

// IngressAddress is the public failover origin for Cloudflare: the configured
// talos.ingressAddress, else the on-prem router's public address.
func (c *Config) IngressAddress() string {
	if c.Talos.IngressAddress != "" {
		return c.Talos.IngressAddress
	}
	return c.Network.OnpremPublicIP.String()
}

// Strings renders typed values (ranges, addresses) as text, for resource
// inputs.
func Strings[T fmt.Stringer](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}

// CloudName is a workload pool's name at DigitalOcean: the configured name
// and the Droplet size ("_" written "-": "so1_5" is the only slug prefix
// with one, and no slug of the validated set differs from another only
// there). A pool's size is ForceNew, so a new size replaces the
// KubernetesNodePool; the replacement is created before the old pool is
// deleted, and a name that follows the size keeps the two from clashing
// while both exist. Schedule workloads by the pool's labels, not by this
// name (the doks.digitalocean.com/node-pool label carries it).
func (np NodePool) CloudName() string {
	return np.Name + "-" + strings.ReplaceAll(np.Size, "_", "-")
}
