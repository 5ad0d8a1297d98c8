package config

import "net/netip"

// Values derived from validated config. Validation has proved that every
// range and address here parses, so the parse errors are not checked again.

// TunnelAddresses returns the two ends of the WireGuard tunnel: the DO
// gateway takes the first host of network.tunnelCidr, on-prem the second.
func (n Network) TunnelAddresses() (gateway, onprem netip.Prefix) {
	pfx, _ := parsePrefix(n.TunnelCidr)
	gw := pfx.Addr().Next()
	return netip.PrefixFrom(gw, pfx.Bits()), netip.PrefixFrom(gw.Next(), pfx.Bits())
}

// CloudRoutes lists the cloud ranges reachable through the tunnel: the VPC,
// the DOKS pod range (routable in the VPC with VPC-native networking) and the
// tunnel itself. The DOKS service range is left out on purpose: ClusterIPs
// only exist inside cluster nodes and cannot be reached through a router.
// The prod stack exports them as onpremRoutes.
func (n Network) CloudRoutes() []string {
	return []string{n.VpcCidr, n.DoksPodCidr, n.TunnelCidr}
}

// LanPrefix is the layer-2 segment of the Talos nodes.
func (t Talos) LanPrefix() netip.Prefix {
	pfx, _ := parsePrefix(t.LanCidr)
	return pfx
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

// IngressAddress is the public failover origin for Cloudflare: the configured
// talos.ingressAddress, else the on-prem router's public address.
func (c *Config) IngressAddress() string {
	if c.Talos.IngressAddress != "" {
		return c.Talos.IngressAddress
	}
	return c.Network.OnpremPublicIP
}
