// Package gatewayconf renders the WireGuard gateway Droplet's configuration:
// the wg-quick file for wg0 and the cloud-config that installs it. It is
// plain Go, without the Pulumi SDKs, so that the real tools can check what
// it renders (tests/network: cloud-init's schema, wg-quick and iptables in
// network namespaces) without linking the cloud SDKs.
//
// What the gateway forwards, and nothing else:
//
//   - on-prem (network.onpremCidr, the wg0 peer's allowed IPs) to the VPC
//     and the DOKS pod range, out of the VPC interface, masqueraded to the
//     gateway's VPC address;
//   - the VPC and the DOKS pod range to on-prem, into wg0, masqueraded to
//     the gateway's tunnel address.
//
// Nothing from wg0 leaves through the public interface, and nothing from the
// public interface enters wg0: the gateway is no Internet exit for on-prem.
package gatewayconf

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/hybridcloud/platform/internal/config"
)

// VPCInterface is the Droplet's VPC (private) interface. DigitalOcean's
// Droplets have the public interface eth0 and the VPC interface eth1
// (unverified: DigitalOcean's Droplet networking documentation would settle
// it; the PreUp check below refuses to bring wg0 up when eth1 does not carry
// the VPC range, so a wrong name fails loudly instead of misrouting).
const VPCInterface = "eth1"

// Interface is the tunnel interface; wg-quick names it after its file.
const Interface = "wg0"

// TunnelMTU is wg0's MTU: 1500 minus WireGuard's worst-case 80 bytes of
// overhead, the value wg-quick picks itself on a 1500-byte link (checked:
// set_mtu_up in wg-quick of Debian's wireguard-tools 1.0.20210914 sets the
// link MTU minus 80). It is written explicitly so that ClampedMSS follows
// from it. The Talos end uses the same value (components/talos wireguardMTU).
const TunnelMTU = 1420

// ClampedMSS is the TCP MSS that fits the tunnel: the MTU minus the 20-byte
// IPv4 and 20-byte TCP headers. Hosts on either side see a 1500-byte link
// and offer 1460; without the clamp, full-size segments are dropped in the
// tunnel wherever ICMP "fragmentation needed" does not make it back (path
// MTU black holes). Checked: iptables-extensions(8) of iptables 1.8.9,
// TCPMSS --set-mss: "If the MSS of the packet is already lower than value,
// it will not be increased".
const ClampedMSS = TunnelMTU - 40

// Config is the gateway's side of the tunnel.
type Config struct {
	PrivateKey string
	// Address is the gateway's tunnel address with prefix, e.g. 10.250.0.1/30.
	Address    string
	ListenPort int
	// Peer is the on-prem end.
	PeerPublicKey  string
	PeerEndpoint   string
	PeerAllowedIPs []string
	// VpcRange is on the VPC interface (a connected route); PodRange, the
	// DOKS pod range, is routed through that interface too.
	VpcRange  string
	PodRange  string
	Onprem    string
	Keepalive int
}

// New derives the gateway's configuration from the validated address plan;
// the tunnel addresses are config.Network.TunnelAddresses.
func New(n config.Network, privateKey string) Config {
	gateway, onprem := n.TunnelAddresses()
	return Config{
		PrivateKey:     privateKey,
		Address:        gateway.String(),
		ListenPort:     n.WireguardPort,
		PeerPublicKey:  n.OnpremWireguardPublicKey,
		PeerEndpoint:   netip.AddrPortFrom(n.OnpremPublicIP, uint16(n.WireguardPort)).String(),
		PeerAllowedIPs: []string{n.OnpremCidr.String(), netip.PrefixFrom(onprem.Addr(), 32).String()},
		VpcRange:       n.VpcCidr.String(),
		PodRange:       n.DoksPodCidr.String(),
		Onprem:         n.OnpremCidr.String(),
		Keepalive:      25,
	}
}

// CloudRoutes lists the cloud ranges the gateway advertises to on-prem
// (prod's onpremRoutes output: the on-prem peer's allowed IPs and routes):
// the VPC, the DOKS pod range and the tunnel. The gateway routes each of
// them: the VPC and the pod range through VPCInterface (PostUp), the tunnel
// on wg0. tests/network checks that with the kernel's own route lookup, so
// a range added here without a route fails there. The DOKS service range is
// left out on purpose: ClusterIPs only exist inside cluster nodes and cannot
// be reached through a router.
// The list itself has one owner, config.Network.CloudRoutes.
func CloudRoutes(n config.Network) []netip.Prefix { return n.CloudRoutes() }

// PreUp refuses to bring the tunnel up unless VPCInterface carries the VPC
// range: every rule below names that interface.
func (c Config) PreUp() []string {
	return []string{fmt.Sprintf("ip -4 route show %s dev %s | grep -q .", c.VpcRange, VPCInterface)}
}

// PostUp is what wg-quick runs once wg0 is up (%i is wg0), in order.
func (c Config) PostUp() []string {
	vpc := VPCInterface
	return []string{
		// Issue 15 item 10: the DOKS pod range is not on the VPC interface,
		// so without this route on-prem traffic to pods (and the replies to
		// pods that reach on-prem) would follow the default route out of the
		// public interface. With VPC-native DOKS networking the pod range is
		// routable in the VPC (unverified on a Droplet: `ip route get` and a
		// ping of a pod IP from the gateway after bring-up would settle it).
		fmt.Sprintf("ip -4 route replace %s dev %s", c.PodRange, vpc),
		// Toward on-prem: the tunnel address, so on-prem needs no route back
		// to the cloud ranges' sources.
		fmt.Sprintf("iptables -t nat -A POSTROUTING -s %s -o %%i -j MASQUERADE", c.VpcRange),
		fmt.Sprintf("iptables -t nat -A POSTROUTING -s %s -o %%i -j MASQUERADE", c.PodRange),
		// Toward the VPC (and pods): the gateway's VPC address, which the
		// database firewall admits (the gateway Droplet). Issue 15 item 11:
		// only out of the VPC interface; the old `! -o wg0` also masqueraded
		// on-prem sources out of the public interface, an Internet exit.
		fmt.Sprintf("iptables -t nat -A POSTROUTING -s %s -o %s -j MASQUERADE", c.Onprem, vpc),
		// Forward only between wg0 and the VPC interface, then drop the rest
		// of what enters or leaves wg0 (the public interface above all).
		fmt.Sprintf("iptables -A FORWARD -i %%i -o %s -j ACCEPT", vpc),
		fmt.Sprintf("iptables -A FORWARD -i %s -o %%i -j ACCEPT", vpc),
		"iptables -A FORWARD -i %i -j DROP",
		"iptables -A FORWARD -o %i -j DROP",
		// Issue 15 item 11: clamp the MSS of SYNs both ways through wg0.
		fmt.Sprintf("iptables -t mangle -A FORWARD -i %%i -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss %d", ClampedMSS),
		fmt.Sprintf("iptables -t mangle -A FORWARD -o %%i -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss %d", ClampedMSS),
	}
}

// PostDown undoes PostUp, in reverse order.
func (c Config) PostDown() []string {
	up := c.PostUp()
	down := make([]string, 0, len(up))
	for i := len(up) - 1; i >= 0; i-- {
		cmd := strings.Replace(up[i], " -A ", " -D ", 1)
		cmd = strings.Replace(cmd, "ip -4 route replace ", "ip -4 route del ", 1)
		down = append(down, cmd)
	}
	return down
}

// WgQuick renders /etc/wireguard/wg0.conf.
func (c Config) WgQuick() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[Interface]\nAddress = %s\nListenPort = %d\nPrivateKey = %s\nMTU = %d\n", c.Address, c.ListenPort, c.PrivateKey, TunnelMTU)
	for _, cmd := range c.PreUp() {
		fmt.Fprintf(&b, "PreUp = %s\n", cmd)
	}
	for _, cmd := range c.PostUp() {
		fmt.Fprintf(&b, "PostUp = %s\n", cmd)
	}
	for _, cmd := range c.PostDown() {
		fmt.Fprintf(&b, "PostDown = %s\n", cmd)
	}
	fmt.Fprintf(&b, "\n[Peer]\nPublicKey = %s\nEndpoint = %s\nAllowedIPs = %s\nPersistentKeepalive = %d\n",
		c.PeerPublicKey, c.PeerEndpoint, strings.Join(c.PeerAllowedIPs, ", "), c.Keepalive)
	return b.String()
}

// CloudInit renders the gateway's cloud-config: the WireGuard package, IP
// forwarding, wg0 from wg-quick, and the service enabled at boot.
func (c Config) CloudInit() string {
	var b strings.Builder
	b.WriteString("#cloud-config\n")
	b.WriteString("package_update: true\npackages:\n  - wireguard\n  - iptables\n")
	b.WriteString("write_files:\n")
	b.WriteString("  - path: /etc/sysctl.d/99-wireguard-forward.conf\n    permissions: '0644'\n    content: |\n      net.ipv4.ip_forward = 1\n")
	b.WriteString("  - path: /etc/wireguard/wg0.conf\n    permissions: '0600'\n    content: |\n")
	for _, line := range strings.Split(strings.TrimRight(c.WgQuick(), "\n"), "\n") {
		if line == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("      " + line + "\n")
	}
	b.WriteString("runcmd:\n")
	b.WriteString("  - sysctl --system\n")
	b.WriteString("  - systemctl enable --now wg-quick@wg0\n")
	return b.String()
}
