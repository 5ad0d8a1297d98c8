package network

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/gatewayconf"
)

// The lab: four network namespaces joined by veth pairs.
//
//	onprem (router 203.0.113.10, LAN host 192.168.10.20)
//	   | 203.0.113.0/24
//	inet (the Internet: 1.1.1.1 on its loopback, forwards)
//	   | 198.51.100.0/24
//	gw  eth0 198.51.100.2 (public), eth1 10.100.0.5/16 (VPC), the tunnel
//	   |
//	vpc (a VPC host 10.100.0.9, a DOKS pod 10.244.3.4 on its loopback,
//	     192.168.0.0/16 routed via the gateway as the DOKS Route does)
//
// The WireGuard tunnel runs between onprem and gw over inet, with the real
// wg-quick and the wireguard-go userspace implementation (the kernel here
// has no WireGuard module). The on-prem end sends everything into the
// tunnel (AllowedIPs 0.0.0.0/0), the worst the far side can do, and its
// LAN host advertises an MSS of 1460, as a host on a 1500-byte LAN does.
const (
	gwPublic   = "198.51.100.2"
	gwVPC      = "10.100.0.5"
	vpcHost    = "10.100.0.9"
	podIP      = "10.244.3.4"
	lanHost    = "192.168.10.20"
	internetIP = "1.1.1.1"
)

type lab struct {
	t      *testing.T
	prefix string
	wgGo   string
}

func (l *lab) ns(name string) string { return l.prefix + name }

// run runs a command inside a namespace ("" = here) and fails on error.
func (l *lab) run(ns string, args ...string) string {
	l.t.Helper()
	out, err := l.exec(ns, args...)
	require.NoError(l.t, err, "%s: %s", strings.Join(args, " "), out)
	return out
}

func (l *lab) exec(ns string, args ...string) (string, error) {
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", l.ns(ns)}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(),
		"WG_QUICK_USERSPACE_IMPLEMENTATION="+l.wgGo,
		"WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// link joins two namespaces with a veth pair and addresses both ends.
func (l *lab) link(nsA, ifA, addrA, nsB, ifB, addrB string) {
	l.t.Helper()
	tmpA, tmpB := l.prefix+"a", l.prefix+"b"
	l.run("", "ip", "link", "add", tmpA, "type", "veth", "peer", "name", tmpB)
	l.run("", "ip", "link", "set", tmpA, "netns", l.ns(nsA))
	l.run("", "ip", "link", "set", tmpB, "netns", l.ns(nsB))
	l.run(nsA, "ip", "link", "set", tmpA, "name", ifA)
	l.run(nsB, "ip", "link", "set", tmpB, "name", ifB)
	l.run(nsA, "ip", "addr", "add", addrA, "dev", ifA)
	l.run(nsB, "ip", "addr", "add", addrB, "dev", ifB)
	l.run(nsA, "ip", "link", "set", ifA, "up")
	l.run(nsB, "ip", "link", "set", ifB, "up")
}

// newLab builds the namespaces and the links, without the tunnel.
func newLab(t *testing.T) *lab {
	t.Helper()
	tool(t, "ip")
	tool(t, "iptables")
	tool(t, "curl")
	tool(t, "wg-quick")
	l := &lab{t: t, prefix: fmt.Sprintf("hn%d", os.Getpid()%100000)}
	wgGo, err := exec.LookPath("wireguard-go")
	if err != nil {
		wgGo, err = exec.LookPath(filepath.Join(goBin(t), "wireguard"))
	}
	require.NoError(t, err, "wireguard-go is required: go install golang.zx2c4.com/wireguard@<version in .ci/run>")
	l.wgGo = wgGo
	for _, ns := range []string{"onprem", "inet", "gw", "vpc"} {
		l.run("", "ip", "netns", "add", l.ns(ns))
		t.Cleanup(func() {
			// Stop what runs in the namespace (wireguard-go), by PID, then drop it.
			if out, err := l.exec("", "ip", "netns", "pids", l.ns(ns)); err == nil {
				for _, pid := range strings.Fields(out) {
					if p, err := strconv.Atoi(pid); err == nil {
						if proc, err := os.FindProcess(p); err == nil {
							_ = proc.Kill()
						}
					}
				}
			}
			_, _ = l.exec("", "ip", "netns", "del", l.ns(ns))
		})
		l.run(ns, "ip", "link", "set", "lo", "up")
	}
	l.link("onprem", "up0", "203.0.113.10/24", "inet", "isp0", "203.0.113.1/24")
	l.link("inet", "isp1", "198.51.100.1/24", "gw", "eth0", gwPublic+"/24")
	l.link("gw", "eth1", gwVPC+"/16", "vpc", "vpc0", vpcHost+"/16")
	l.run("inet", "ip", "addr", "add", internetIP+"/32", "dev", "lo")
	l.run("inet", "sysctl", "-qw", "net.ipv4.ip_forward=1")
	l.run("gw", "ip", "route", "add", "default", "via", "198.51.100.1")
	l.run("gw", "sysctl", "-qw", "net.ipv4.ip_forward=1")
	l.run("onprem", "ip", "addr", "add", lanHost+"/32", "dev", "lo")
	l.run("onprem", "ip", "route", "add", "198.51.100.0/24", "via", "203.0.113.1")
	l.run("vpc", "ip", "addr", "add", podIP+"/32", "dev", "lo")
	l.run("vpc", "ip", "route", "add", "192.168.0.0/16", "via", gwVPC)
	return l
}

func goBin(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOPATH").Output()
	require.NoError(t, err)
	return filepath.Join(strings.Split(strings.TrimSpace(string(out)), string(os.PathListSeparator))[0], "bin")
}

// wgQuickUp writes a wg-quick file named after the interface and brings it
// up in a namespace with the real wg-quick.
func (l *lab) wgQuickUp(ns, iface, conf string) (string, error) {
	dir := l.t.TempDir()
	f := filepath.Join(dir, iface+".conf")
	require.NoError(l.t, os.WriteFile(f, []byte(conf), 0o600))
	return l.exec(ns, "wg-quick", "up", f)
}

// tunnel brings up both ends: the gateway with the generated wg0 file (under
// another interface name: the UAPI socket directory is shared between
// namespaces, and the rules use %i), the on-prem end sending everything in.
func (l *lab) tunnel(gwConf string, onpremPrivate, gwPublicKey string, n config.Network) {
	l.t.Helper()
	out, err := l.wgQuickUp("gw", l.prefix+"g", gwConf)
	require.NoError(l.t, err, "wg-quick up (gateway): %s", out)
	_, onpremTunnel := tunnelAddrs(n)
	onprem := fmt.Sprintf("[Interface]\nAddress = %s/30\nPrivateKey = %s\nListenPort = %d\nTable = off\n\n[Peer]\nPublicKey = %s\nEndpoint = %s:%d\nAllowedIPs = 0.0.0.0/0\nPersistentKeepalive = 5\n",
		onpremTunnel, onpremPrivate, n.WireguardPort, gwPublicKey, gwPublic, n.WireguardPort)
	out, err = l.wgQuickUp("onprem", l.prefix+"o", onprem)
	require.NoError(l.t, err, "wg-quick up (on-prem): %s", out)
	// A LAN host behind the on-prem router offers the MSS of a 1500-byte link.
	l.run("onprem", "ip", "route", "add", "default", "dev", l.prefix+"o", "advmss", "1460")
}

func tunnelAddrs(n config.Network) (gw, onprem netip.Addr) {
	g, o := n.TunnelAddresses()
	return g.Addr(), o.Addr()
}

// counter adds a counting rule (raw PREROUTING: every packet that arrives,
// for the namespace or not) and returns a function reading its packets.
func (l *lab) counter(ns, name string, match ...string) func() int {
	l.t.Helper()
	args := append([]string{"iptables", "-t", "raw", "-A", "PREROUTING"}, match...)
	l.run(ns, append(args, "-m", "comment", "--comment", name)...)
	re := regexp.MustCompile(`^\[(\d+):\d+\] .*--comment "?` + regexp.QuoteMeta(name) + `"?( |$)`)
	return func() int {
		for _, line := range strings.Split(l.run(ns, "iptables-save", "-c", "-t", "raw"), "\n") {
			if m := re.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				return n
			}
		}
		l.t.Fatalf("counter %s not found", name)
		return 0
	}
}

// connect sends a TCP connection attempt from src in a namespace.
func (l *lab) connect(ns, src, dst string, port int) {
	_, _ = l.exec(ns, "curl", "-s", "--interface", src, "--connect-timeout", "2", "--max-time", "3",
		fmt.Sprintf("http://%s:%d/", dst, port))
}

// pathFindings sends traffic through the gateway configured by gwConf and
// returns what went where it should not.
func pathFindings(t *testing.T, gwConf string, n config.Network, onpremPrivate, gwPublicKey string) []string {
	l := newLab(t)
	l.tunnel(gwConf, onpremPrivate, gwPublicKey, n)
	gwTunnel, _ := tunnelAddrs(n)
	var findings []string
	find := func(ok bool, format string, a ...any) {
		if !ok {
			findings = append(findings, fmt.Sprintf(format, a...))
		}
	}

	// Every advertised range is routed by the gateway through the VPC
	// interface or the tunnel: the kernel's own lookup.
	for _, r := range gatewayconf.CloudRoutes(n) {
		addr := r.Addr().Next().Next()
		out := l.run("gw", "ip", "-4", "route", "get", addr.String())
		find(strings.Contains(out, " dev "+gatewayconf.VPCInterface+" ") || strings.Contains(out, " dev "+l.prefix+"g "),
			"advertised range %s: the gateway routes %s %s", r, addr, strings.TrimSpace(out))
	}

	toVPC := l.counter("vpc", "lan-to-vpc", "-s", gwVPC, "-d", vpcHost, "-p", "tcp", "--dport", "5432", "--syn")
	toVPCBigMSS := l.counter("vpc", "lan-to-vpc-mss", "-d", vpcHost, "-p", "tcp", "--syn", "-m", "tcpmss", "--mss", strconv.Itoa(gatewayconf.ClampedMSS+1)+":65535")
	toPod := l.counter("vpc", "lan-to-pod", "-s", gwVPC, "-d", podIP, "-p", "tcp", "--dport", "8080", "--syn")
	podLeak := l.counter("inet", "pod-range-on-internet", "-d", n.DoksPodCidr.String())
	exit := l.counter("inet", "internet-exit", "-d", internetIP, "-p", "tcp", "--dport", "443")
	fromPod := l.counter("onprem", "pod-to-lan", "-s", gwTunnel.String(), "-d", lanHost, "-p", "tcp", "--dport", "9", "--syn")
	fromPodBigMSS := l.counter("onprem", "pod-to-lan-mss", "-d", lanHost, "-p", "tcp", "--syn", "-m", "tcpmss", "--mss", strconv.Itoa(gatewayconf.ClampedMSS+1)+":65535")
	replyToPod := l.counter("vpc", "reply-to-pod", "-d", podIP, "-p", "tcp", "--sport", "9", "--tcp-flags", "RST", "RST")

	l.connect("onprem", lanHost, vpcHost, 5432)
	l.connect("onprem", lanHost, podIP, 8080)
	l.connect("onprem", lanHost, internetIP, 443)
	l.connect("vpc", podIP, lanHost, 9)

	find(toVPC() > 0, "on-prem to the VPC host: no SYN from the gateway's VPC address arrived")
	find(toVPCBigMSS() == 0, "on-prem to the VPC host: the SYN arrived with an MSS above %d (no clamp)", gatewayconf.ClampedMSS)
	find(toPod() > 0, "on-prem to a DOKS pod: no SYN from the gateway's VPC address arrived at the pod")
	find(podLeak() == 0, "traffic for the DOKS pod range left through the public interface (%d packets)", podLeak())
	find(exit() == 0, "on-prem reached the Internet through the gateway (%d packets)", exit())
	find(fromPod() > 0, "a DOKS pod to on-prem: no SYN from the gateway's tunnel address arrived")
	find(fromPodBigMSS() == 0, "a DOKS pod to on-prem: the SYN arrived with an MSS above %d (no clamp)", gatewayconf.ClampedMSS)
	find(replyToPod() > 0, "a DOKS pod to on-prem: the reply did not come back to the pod")
	return findings
}

// tunnelInputs are the prod address plan with fresh keys for both ends, and
// the gateway's generated wg0 file.
func tunnelInputs(t *testing.T) (n config.Network, gwConf, onpremPriv, gwPub string) {
	n = prodNetwork(t)
	gwPriv, gwPub := keyPair(t)
	onpremPriv, onpremPub := keyPair(t)
	n.OnpremWireguardPublicKey = onpremPub
	return n, gateway(t, n, gwPriv).WgQuick(), onpremPriv, gwPub
}

// The gateway built from the generated wg0.conf forwards exactly what
// docs/digitalocean.md says: on-prem to the VPC and the DOKS pods, those to
// on-prem, with the MSS clamped to the tunnel, and nothing to the Internet.
func TestGatewayForwardsOnlyBetweenTunnelAndVPC(t *testing.T) {
	n, conf, onpremPriv, gwPub := tunnelInputs(t)
	assert.Empty(t, pathFindings(t, conf, n, onpremPriv, gwPub))
}

// legacy is the gateway file before issue 15 items 10 and 11: no route for
// the pod range, on-prem masqueraded out of every interface but wg0, every
// forward accepted, no MSS clamp.
func legacy(conf string) string {
	var out []string
	for _, line := range strings.Split(conf, "\n") {
		switch {
		case strings.Contains(line, "route replace"), strings.Contains(line, "route del"),
			strings.Contains(line, "TCPMSS"), strings.Contains(line, "-j DROP"):
			continue
		case strings.Contains(line, "-s 192.168.0.0/16 -o "+gatewayconf.VPCInterface+" -j MASQUERADE"):
			line = strings.Replace(line, "-o "+gatewayconf.VPCInterface, "! -o %i", 1)
		case strings.Contains(line, "FORWARD -i %i -o "):
			line = strings.Replace(line, " -o "+gatewayconf.VPCInterface, "", 1)
		case strings.Contains(line, "FORWARD -i "+gatewayconf.VPCInterface+" -o %i"):
			line = strings.Replace(line, "-i "+gatewayconf.VPCInterface+" ", "", 1)
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// The same lab finds each fault of the old gateway file, so a clean run of
// the test above means something.
func TestGatewayPathChecksBite(t *testing.T) {
	n, conf, onpremPriv, gwPub := tunnelInputs(t)
	old := legacy(conf)
	require.Contains(t, old, "-s 192.168.0.0/16 ! -o %i -j MASQUERADE")
	findings := strings.Join(pathFindings(t, old, n, onpremPriv, gwPub), "\n")
	t.Log(findings)
	for _, want := range []string{
		"advertised range " + n.DoksPodCidr.String(),
		"no clamp",
		"no SYN from the gateway's VPC address arrived at the pod",
		"left through the public interface",
		"on-prem reached the Internet",
		"the reply did not come back to the pod",
	} {
		assert.Contains(t, findings, want)
	}
}

// wg-quick refuses to bring the gateway up when the VPC interface does not
// carry the VPC range, instead of installing rules for the wrong interface.
func TestGatewayRefusesWithoutVPCInterface(t *testing.T) {
	n := prodNetwork(t)
	gwPriv, _ := keyPair(t)
	_, onpremPub := keyPair(t)
	n.OnpremWireguardPublicKey = onpremPub
	l := newLab(t)
	l.run("gw", "ip", "addr", "flush", "dev", gatewayconf.VPCInterface)
	out, err := l.wgQuickUp("gw", l.prefix+"g", gateway(t, n, gwPriv).WgQuick())
	require.Error(t, err, "wg-quick up without the VPC range on %s: %s", gatewayconf.VPCInterface, out)
	assert.NotContains(t, l.run("gw", "iptables-save", "-t", "nat"), "MASQUERADE", "no rule was installed")
}
