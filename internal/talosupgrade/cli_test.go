package talosupgrade_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/hybridcloud/platform/internal/talosupgrade"
)

// fakeKubeAPI serves the two lists the command reads, every node at k8s.
func fakeKubeAPI(t *testing.T) string {
	t.Helper()
	nodes := corev1.NodeList{}
	pods := corev1.PodList{}
	for _, n := range configOrder {
		nodes.Items = append(nodes.Items, *kubeNodeObject(n, "v"+k8s, true))
		if n.ControlPlane() {
			for _, c := range talosupgrade.ControlPlaneComponents {
				pods.Items = append(pods.Items, *staticPod(n, c, "v"+k8s, true))
			}
		}
	}
	nodes.Kind, nodes.APIVersion = "NodeList", "v1"
	pods.Kind, pods.APIVersion = "PodList", "v1"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/nodes":
			_ = json.NewEncoder(w).Encode(nodes)
		case "/api/v1/namespaces/kube-system/pods":
			node := strings.TrimPrefix(r.URL.Query().Get("fieldSelector"), "spec.nodeName=")
			mine := pods
			mine.Items = nil
			for _, p := range pods.Items {
				if p.Spec.NodeName == node {
					mine.Items = append(mine.Items, p)
				}
			}
			_ = json.NewEncoder(w).Encode(mine)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return `apiVersion: v1
kind: Config
clusters: [{name: onprem, cluster: {server: "` + srv.URL + `"}}]
users: [{name: admin, user: {}}]
contexts: [{name: admin@onprem, context: {cluster: onprem, user: admin}}]
current-context: admin@onprem
`
}

// stackOutputs is what `pulumi stack output --json --show-secrets` prints
// (other outputs left out).
func stackOutputs(t *testing.T, talosconfig, kubeconfig string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"talosVersion": newTalos, "installImage": image, "kubernetesVersion": k8s,
		"talosNodes": configOrder, "talosconfig": talosconfig, "kubeconfig": kubeconfig,
		"kubernetesEndpoint": "https://192.168.10.10:6443",
	})
	require.NoError(t, err)
	return b
}

func TestMainDryRunChangesNothing(t *testing.T) {
	f := &fakeTalos{nodes: nodesAt(oldTalos, map[string]string{"cp-2": newTalos})}
	talosconfig, kubeconfig := serve(t, f), fakeKubeAPI(t)
	dir := t.TempDir()
	talosFile, kubeFile := filepath.Join(dir, "talosconfig"), filepath.Join(dir, "kubeconfig")
	require.NoError(t, os.WriteFile(talosFile, []byte(talosconfig), 0o600))
	require.NoError(t, os.WriteFile(kubeFile, []byte(kubeconfig), 0o600))
	hiddenFile := filepath.Join(dir, "outputs.json")
	require.NoError(t, os.WriteFile(hiddenFile, stackOutputs(t, "[secret]", "[secret]"), 0o600))

	for name, args := range map[string]struct {
		args  []string
		stdin []byte
	}{
		"outputs on stdin": {[]string{"--outputs", "-", "--dry-run"}, stackOutputs(t, talosconfig, kubeconfig)},
		"secrets hidden, client configs given as files": {[]string{"--outputs", hiddenFile, "--talosconfig", talosFile, "--kubeconfig", kubeFile, "--dry-run"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			f.mu.Lock()
			f.calls = nil
			f.mu.Unlock()
			var stdout, stderr bytes.Buffer
			code := talosupgrade.Main(args.args, bytes.NewReader(args.stdin), &stdout, &stderr)
			require.Equal(t, 0, code, "stderr:\n%s\nstdout:\n%s", stderr.String(), stdout.String())
			calls, _ := f.recorded()
			for _, c := range calls {
				assert.Equal(t, "Version", c.Method, "a dry run only reads")
			}
			assert.Len(t, calls, len(configOrder))

			// The summary: one line per node, control planes first.
			var rows []string
			for _, l := range strings.Split(stdout.String(), "\n") {
				if fields := strings.Fields(l); len(fields) > 2 && (fields[1] == "controlplane" || fields[1] == "worker") {
					rows = append(rows, fields[0]+" "+strings.Join(fields[2:4], " "))
				}
			}
			assert.Equal(t, []string{
				"cp-1 " + oldTalos + " would", "cp-2 " + newTalos + " already", "cp-3 " + oldTalos + " would",
				"worker-1 " + oldTalos + " would", "worker-2 " + oldTalos + " would",
			}, rows, stdout.String())
		})
	}
}

func TestMainRefusesWhatItCannotUse(t *testing.T) {
	dir := t.TempDir()
	hidden := filepath.Join(dir, "outputs.json")
	require.NoError(t, os.WriteFile(hidden, stackOutputs(t, "[secret]", "[secret]"), 0o600))
	cases := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"no --outputs", []string{"--dry-run"}, 2, []string{"--outputs is required"}},
		{"secrets not shown", []string{"--outputs", hidden}, 1, []string{"output talosconfig", "output kubeconfig", "--show-secrets"}},
		{"no such file", []string{"--outputs", filepath.Join(dir, "none.json")}, 1, []string{"--outputs:", "none.json"}},
		{"zero timeout", []string{"--outputs", hidden, "--reboot-timeout", "0s"}, 2, []string{"must be positive"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, tc.wantCode, talosupgrade.Main(tc.args, strings.NewReader(""), &stdout, &stderr))
			for _, w := range tc.want {
				assert.Contains(t, stderr.String(), w)
			}
		})
	}
}
