package talosmachinery

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// patchEdit breaks the program's patches of one node.
type patchEdit func(t *testing.T, s *stack, patches []string) []string

// replace swaps text in the node's patches; the text must be there, so a
// change in the program's patches shows up here rather than silently
// weakening the case.
func replace(old, new string) patchEdit {
	return func(t *testing.T, _ *stack, patches []string) []string {
		t.Helper()
		out := make([]string, len(patches))
		found := false
		for i, p := range patches {
			if strings.Contains(p, old) {
				found = true
			}
			out[i] = strings.ReplaceAll(p, old, new)
		}
		require.True(t, found, "no patch contains %q", old)
		return out
	}
}

// extra appends a patch after the program's, built from the stack.
func extra(f func(s *stack) string) patchEdit {
	return func(_ *testing.T, s *stack, patches []string) []string {
		return append(patches, f(s))
	}
}

// brokenPatches are mistakes a patch could make, each applied to the
// program's own patches of one node; Talos must refuse each one with its own
// error. The hostname row is the mistake this package found in the program:
// Talos 1.12 keeps the hostname in a HostnameConfig document.
var brokenPatches = []struct {
	name, node string
	edit       patchEdit
	wantErr    string
}{
	{name: "kubelet extraArgs as a list", node: "worker-1",
		edit:    replace("extraArgs:\n      rotate-server-certificates: \"true\"", "extraArgs:\n      - --rotate-server-certificates=true"),
		wantErr: "cannot unmarshal !!seq into map[string]string"},
	{name: "keepalive without a unit", node: "cp-1",
		edit:    replace("persistentKeepaliveInterval: 25s", "persistentKeepaliveInterval: \"25\""),
		wantErr: "cannot unmarshal !!str `25` into time.Duration"},
	{name: "VIP on a worker", node: "worker-1",
		edit: extra(func(s *stack) string {
			return "machine:\n  network:\n    interfaces:\n      - interface: eno1\n        vip:\n          ip: " + s.in.Talos.Vip.String() + "\n"
		}),
		wantErr: "virtual (shared) IP is not allowed on non-controlplane nodes"},
	{name: "unknown key", node: "cp-2", edit: replace("nodeLabels:", "nodeLabelz:"),
		wantErr: "unknown keys found during decoding:\nmachine:\n    nodeLabelz:"},
	{name: "hostname in the v1alpha1 document", node: "cp-2",
		edit:    extra(func(*stack) string { return "machine:\n  network:\n    hostname: cp-2\n" }),
		wantErr: "static hostname is already set in v1alpha1 config"},
	{name: "JSON6902 patch", node: "worker-2",
		edit:    extra(func(*stack) string { return `[{"op": "add", "path": "/machine/nodeLabels/x", "value": "y"}]` }),
		wantErr: "JSON6902 patches are not supported for multi-document machine configuration"},
	{name: "an etcd backup role that does not exist", node: "cp-1",
		edit:    replace("- os:etcd:backup", "- os:etcd:backups"),
		wantErr: `invalid role "os:etcd:backups" in allowed roles for Kubernetes Talos API Access`},
	{name: "a misspelt Talos API access key", node: "cp-2",
		edit:    replace("allowedKubernetesNamespaces:", "allowedNamespaces:"),
		wantErr: "unknown keys found during decoding:\nmachine:\n    features:\n        kubernetesTalosAPIAccess:\n            allowedNamespaces:"},
	{name: "Talos API access on a worker", node: "worker-1",
		edit: extra(func(*stack) string {
			return "machine:\n  features:\n    kubernetesTalosAPIAccess:\n      enabled: true\n      allowedRoles: [os:etcd:backup]\n      allowedKubernetesNamespaces: [etcd-backup]\n"
		}),
		wantErr: "feature Kubernetes Talos API Access can only be enabled on control plane machines"},
	// Only a warning to Talos: strict validation makes it fail.
	{name: "deprecated install extensions", node: "cp-3",
		edit: extra(func(*stack) string {
			return "machine:\n  install:\n    extensions:\n      - image: ghcr.io/siderolabs/gvisor:20250505.0\n"
		}),
		wantErr: ".machine.install.extensions is deprecated"},
}

func TestBrokenPatchesAreRefusedByTalos(t *testing.T) {
	s := mustLoad(t)
	for _, tc := range brokenPatches {
		t.Run(tc.name, func(t *testing.T) {
			n := s.node(t, tc.node)
			_, err := s.finalConfig(t, n, tc.edit(t, s, s.patches(t, n)))
			require.Error(t, err)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}
