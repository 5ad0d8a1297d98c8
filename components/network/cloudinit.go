package network

import (
	"fmt"
	"strings"
)

// wireguardConfig is the gateway's side of the tunnel.
type wireguardConfig struct {
	PrivateKey      string
	Address         string // gateway tunnel address with prefix, e.g. 10.250.0.1/30
	ListenPort      int
	PeerPublicKey   string
	PeerEndpoint    string
	PeerAllowedIPs  []string
	CloudRanges     []string // VPC and DOKS pods: forwarded toward on-prem
	OnpremRange     string
	KeepaliveSecond int
}

// wgQuick renders /etc/wireguard/wg0.conf. Forwarded traffic is masqueraded
// in both directions: toward on-prem it leaves with the gateway's tunnel
// address, toward the VPC with the gateway's VPC address, so that the
// database firewall (which admits the gateway Droplet) and return routing
// work without routes on the far side.
func (w wireguardConfig) wgQuick() string {
	var up, down []string
	for _, r := range w.CloudRanges {
		up = append(up, fmt.Sprintf("iptables -t nat -A POSTROUTING -s %s -o %%i -j MASQUERADE", r))
		down = append(down, fmt.Sprintf("iptables -t nat -D POSTROUTING -s %s -o %%i -j MASQUERADE", r))
	}
	up = append(up,
		fmt.Sprintf("iptables -t nat -A POSTROUTING -s %s ! -o %%i -j MASQUERADE", w.OnpremRange),
		"iptables -A FORWARD -i %i -j ACCEPT",
		"iptables -A FORWARD -o %i -j ACCEPT")
	down = append(down,
		fmt.Sprintf("iptables -t nat -D POSTROUTING -s %s ! -o %%i -j MASQUERADE", w.OnpremRange),
		"iptables -D FORWARD -i %i -j ACCEPT",
		"iptables -D FORWARD -o %i -j ACCEPT")
	var b strings.Builder
	fmt.Fprintf(&b, "[Interface]\nAddress = %s\nListenPort = %d\nPrivateKey = %s\n", w.Address, w.ListenPort, w.PrivateKey)
	for _, c := range up {
		fmt.Fprintf(&b, "PostUp = %s\n", c)
	}
	for _, c := range down {
		fmt.Fprintf(&b, "PostDown = %s\n", c)
	}
	fmt.Fprintf(&b, "\n[Peer]\nPublicKey = %s\nEndpoint = %s\nAllowedIPs = %s\nPersistentKeepalive = %d\n",
		w.PeerPublicKey, w.PeerEndpoint, strings.Join(w.PeerAllowedIPs, ", "), w.KeepaliveSecond)
	return b.String()
}

// cloudInit renders the gateway's cloud-config: the WireGuard package, IP
// forwarding, wg0 from wg-quick, and the service enabled at boot.
func cloudInit(w wireguardConfig) string {
	var b strings.Builder
	b.WriteString("#cloud-config\n")
	b.WriteString("package_update: true\npackages:\n  - wireguard\n  - iptables\n")
	b.WriteString("write_files:\n")
	b.WriteString("  - path: /etc/sysctl.d/99-wireguard-forward.conf\n    permissions: '0644'\n    content: |\n      net.ipv4.ip_forward = 1\n")
	b.WriteString("  - path: /etc/wireguard/wg0.conf\n    permissions: '0600'\n    content: |\n")
	for _, line := range strings.Split(strings.TrimRight(w.wgQuick(), "\n"), "\n") {
		b.WriteString("      " + line + "\n")
	}
	b.WriteString("runcmd:\n")
	b.WriteString("  - sysctl --system\n")
	b.WriteString("  - systemctl enable --now wg-quick@wg0\n")
	return b.String()
}
