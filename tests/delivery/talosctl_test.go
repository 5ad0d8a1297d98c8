package delivery

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// talosctl at the pinned Talos release (v1.12.11, talos.talosVersion): the
// commands the documents may use and each one's flags, as
// siderolabs/talos defines them at v1.12.11 in cmd/talosctl/cmd/talos/:
// health.go:216-222, reset.go:188-194, etcd.go:152-262 (leave,
// remove-member <member ID>, members, status and snapshot <path> take no
// flags), bootstrap.go:82-83, upgrade.go:157-168, upgrade-k8s.go, get.go,
// version.go, dmesg.go, logs.go, reboot.go:90-91; the trackable actions
// (reset, reboot, upgrade) add track.go:19-23.
var talosctlCommands = map[string][]string{
	"health": {"init-node", "control-plane-nodes", "worker-nodes", "wait-timeout", "k8s-endpoint", "server", "run-e2e"},
	"reset": {"graceful", "reboot", "insecure", "wipe-mode", "user-disks-to-wipe", "system-labels-to-wipe",
		"wait", "debug", "timeout"},
	"reboot":             {"mode", "m", "wait", "debug", "timeout"},
	"upgrade":            {"image", "i", "reboot-mode", "m", "preserve", "p", "stage", "s", "force", "f", "insecure", "wait", "debug", "timeout"},
	"bootstrap":          {"recover-from", "recover-skip-hash-check"},
	"etcd leave":         nil,
	"etcd members":       nil,
	"etcd remove-member": nil,
	"etcd status":        nil,
	"etcd snapshot":      nil,
	"upgrade-k8s": {"from", "to", "endpoint", "with-examples", "with-docs", "dry-run", "pre-pull-images", "upgrade-kubelet",
		"kubelet-image", "apiserver-image", "controller-manager-image", "scheduler-image", "proxy-image"},
	"get":     {"namespace", "output", "o", "watch", "w", "insecure", "i"},
	"version": {"short", "client", "insecure", "i", "json"},
	"dmesg":   {"follow", "f", "tail"},
	"logs":    {"kubernetes", "k", "follow", "f"},
	// service.go:24 (service [<id> [start|stop|restart|status]]): no flags
	"service": nil,
}

// talosctlGlobal are the persistent flags (root.go:59-77 at v1.12.11), each
// taking a value.
var talosctlGlobal = []string{"nodes", "n", "endpoints", "e", "talosconfig", "cluster", "c", "context"}

// kubectl v1.35.4 (bin/kubectl, the Kubernetes release of
// talos.kubernetesVersion): the node commands the Talos runbooks use, and
// their flags as `kubectl drain --help` lists them.
var kubectlNodeCommands = map[string][]string{
	"drain":    {"ignore-daemonsets", "delete-emptydir-data", "timeout", "force", "grace-period", "pod-selector", "disable-eviction", "dry-run", "chunk-size", "skip-wait-for-delete-timeout"},
	"cordon":   nil,
	"uncordon": nil,
}

var placeholder = regexp.MustCompile(`<[^>]*>`)

// talosctlCall is one talosctl command line: its command and its flags.
type talosctlCall struct {
	command string
	flags   []string
}

// parseTalosctl reads the talosctl calls of a shell line, up to the end of
// each command (a pipe, a list operator, a redirection or a comment).
func parseTalosctl(line string) []talosctlCall {
	var calls []talosctlCall
	// A placeholder such as <cp ip> is one word.
	fields := strings.Fields(placeholder.ReplaceAllString(line, "PLACEHOLDER"))
	for i := 0; i < len(fields); i++ {
		if fields[i] != "talosctl" {
			continue
		}
		var c talosctlCall
		for i++; i < len(fields); i++ {
			f := fields[i]
			if strings.ContainsAny(f[:1], "|;&>#") {
				break
			}
			if strings.HasPrefix(f, "-") {
				name, _, hasValue := strings.Cut(strings.TrimLeft(f, "-"), "=")
				if slices.Contains(talosctlGlobal, name) {
					if !hasValue {
						i++ // the flag's value
					}
					continue
				}
				c.flags = append(c.flags, name)
				continue
			}
			switch c.command {
			case "":
				c.command = f
			case "etcd":
				c.command += " " + f
			}
		}
		calls = append(calls, c)
	}
	return calls
}

// Every talosctl command of the documents exists at the pinned Talos
// release with the flags given (the decommission order: TestDecommissionRunbookOrder).
func TestRunbookTalosctlCommandsExist(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range docFiles(t) {
		for _, line := range shellLines(readFile(t, f)) {
			for _, c := range parseTalosctl(line) {
				flags, ok := talosctlCommands[c.command]
				if !assert.True(t, ok, "%s: talosctl %q is not a talosctl v1.12.11 command the runbooks may use:\n%s", f, c.command, line) {
					continue
				}
				seen[c.command] = true
				for _, fl := range c.flags {
					assert.Contains(t, flags, fl, "%s: talosctl %s has no flag --%s:\n%s", f, c.command, fl, line)
				}
			}
		}
	}
	for _, c := range []string{"etcd leave", "etcd remove-member", "reset", "health"} {
		assert.True(t, seen[c], "no runbook uses talosctl %s", c)
	}
}

// Every kubectl node command (drain, cordon, uncordon) has the flags given.
func TestRunbookKubectlNodeCommandsExist(t *testing.T) {
	for _, f := range docFiles(t) {
		for _, line := range shellLines(readFile(t, f)) {
			fields := strings.Fields(line)
			for i := 0; i+1 < len(fields); i++ {
				flags, ok := kubectlNodeCommands[fields[i+1]]
				if fields[i] != "kubectl" || !ok {
					continue
				}
				for _, w := range fields[i+2:] {
					if strings.ContainsAny(w[:1], "|;&>#") {
						break
					}
					if strings.HasPrefix(w, "--") {
						name, _, _ := strings.Cut(strings.TrimPrefix(w, "--"), "=")
						assert.Contains(t, flags, name, "%s: kubectl %s has no flag --%s:\n%s", f, fields[i+1], name, line)
					}
				}
			}
		}
	}
}

// The parser itself: a wrong flag and a wrong command are caught.
func TestParseTalosctl(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []talosctlCall
	}{
		{"talosctl -e 10.0.0.1 -n 10.0.0.2 etcd leave", []talosctlCall{{command: "etcd leave"}}},
		{"talosctl --nodes=10.0.0.2 reset --graceful=false --reboot", []talosctlCall{{command: "reset", flags: []string{"graceful", "reboot"}}}},
		{"talosctl -n 10.0.0.2 etcd members | grep cp-3", []talosctlCall{{command: "etcd members"}}},
		{"talosctl -n 10.0.0.2 etcd remove-member 3a5b # the ID", []talosctlCall{{command: "etcd remove-member"}}},
		{"talosctl -e <healthy cp ip> -n <ip> reset --graceful=false", []talosctlCall{{command: "reset", flags: []string{"graceful"}}}},
	} {
		assert.Equal(t, tc.want, parseTalosctl(tc.line), tc.line)
	}
	for _, bad := range []string{"talosctl -n 10.0.0.2 reset --graceful-leave", "talosctl -n 10.0.0.2 etcd remove 3a5b"} {
		c := parseTalosctl(bad)[0]
		flags, ok := talosctlCommands[c.command]
		known := ok
		for _, fl := range c.flags {
			known = known && slices.Contains(flags, fl)
		}
		assert.False(t, known, "%q must be refused", bad)
	}
}

// decommissionOrder is the order docs/runbooks/decommission-talos-node.md
// must take a node out in: its workloads away, its etcd membership gone
// (leave, or remove-member for a dead node) while quorum holds, its Node
// object deleted, the machine reset, and only then the config change that
// lets the program forget it. Each step is matched by a command prefix.
var decommissionOrder = []struct {
	step     string
	prefixes []string
}{
	{"drain", []string{"kubectl drain"}},
	{"etcd member removal", []string{"etcd leave", "etcd remove-member"}},
	{"Kubernetes node deletion", []string{"kubectl delete node"}},
	{"reset", []string{" reset "}},
	{"the marked up", []string{"pulumi up"}},
}

// firstSteps returns, for each step of decommissionOrder, the index of the
// first shell line that runs it (-1: none).
func firstSteps(lines []string) []int {
	first := make([]int, len(decommissionOrder))
	for i, s := range decommissionOrder {
		first[i] = -1
		for j, l := range lines {
			for _, p := range s.prefixes {
				if strings.Contains(" "+l+" ", p) && first[i] < 0 {
					first[i] = j
				}
			}
		}
	}
	return first
}

// orderFault says what is out of order or missing, or "".
func orderFault(lines []string) string {
	first := firstSteps(lines)
	for i, s := range decommissionOrder {
		if first[i] < 0 {
			return "no command for " + s.step
		}
		for k := range i {
			if first[i] < first[k] {
				return s.step + " comes before " + decommissionOrder[k].step
			}
		}
	}
	return ""
}

func TestDecommissionRunbookOrder(t *testing.T) {
	lines := shellLines(readFile(t, "docs/runbooks/decommission-talos-node.md"))
	assert.Empty(t, orderFault(lines), "docs/runbooks/decommission-talos-node.md")

	// The check itself refuses a wrong order and a missing step.
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"documented order", []string{"kubectl drain n", "talosctl -n x etcd leave", "kubectl delete node n", "talosctl -n x reset --graceful=false", "pulumi up -s onprem"}, ""},
		{"dead node", []string{"kubectl drain n", "talosctl -n y etcd remove-member 3a", "kubectl delete node n", "talosctl -n x reset", "pulumi up -s onprem"}, ""},
		{"reset before etcd removal", []string{"kubectl drain n", "talosctl -n x reset", "talosctl -n x etcd leave", "kubectl delete node n", "pulumi up -s onprem"}, "reset comes before etcd member removal"},
		{"up before reset", []string{"kubectl drain n", "talosctl -n x etcd leave", "kubectl delete node n", "pulumi up -s onprem", "talosctl -n x reset"}, "the marked up comes before reset"},
		{"no drain", []string{"talosctl -n x etcd leave", "kubectl delete node n", "talosctl -n x reset", "pulumi up -s onprem"}, "no command for drain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, orderFault(tc.lines))
		})
	}
}
