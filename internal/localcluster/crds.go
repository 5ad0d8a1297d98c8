package localcluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// The custom resource definitions that the clusters themselves provide, not
// the program: the harness registers them before anything else runs, as the
// managed add-ons do on a real cluster. Upstream definitions are read at run
// time from Go modules in the module cache (downloaded and verified against
// the checksum database by `go mod download`); none is committed here.
const (
	// CiliumModule carries the CRDs the cilium operator registers at start
	// (pkg/k8s/apis/cilium.io/client/crds/{v2,v2alpha1}/*.yaml, embedded by
	// its client/register.go). The cilium chart in ../shared/charts is
	// 1.18.12, but the module proxy serves no 1.18.x of this module (it lists
	// v1.15.6, v1.15.19 and v1.20.2), so the CRDs are v1.20.2's: the nearest
	// served release that serves what the program declares
	// (CiliumLoadBalancerIPPool cilium.io/v2, CiliumL2AnnouncementPolicy
	// cilium.io/v2alpha1; v1.15 has no v2 pool). Differences between 1.18.12's
	// schemas and these are unverified.
	CiliumModule = "github.com/cilium/cilium@v1.20.2"
	// SnapshotterModule carries the CSI snapshot CRDs (config/crd) that DOKS
	// installs for its CSI driver's snapshots. Which external-snapshotter
	// release DOKS 1.35 runs is unverified; v8.7.0 is the newest served.
	SnapshotterModule = "github.com/kubernetes-csi/external-snapshotter/client/v8@v8.7.0"
)

// ciliumCRDs are the cilium operator's CRDs.
func ciliumCRDs() ([][]byte, error) {
	dir, err := ModuleDir(CiliumModule)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, v := range []string{"v2", "v2alpha1"} {
		m, err := filepath.Glob(filepath.Join(dir, "pkg/k8s/apis/cilium.io/client/crds", v, "*.yaml"))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	return readCRDs(files)
}

// snapshotCRDs are VolumeSnapshot, VolumeSnapshotClass and
// VolumeSnapshotContent (snapshot.storage.k8s.io). The group snapshot CRDs
// beside them are not installed: DOKS does not document them.
func snapshotCRDs() ([][]byte, error) {
	dir, err := ModuleDir(SnapshotterModule)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "config/crd", "snapshot.storage.k8s.io_*.yaml"))
	if err != nil {
		return nil, err
	}
	return readCRDs(files)
}

// routeCRD is the DOKS routing agent's Route. The agent is not open source
// and no module carries its definition, so this one is the harness's own and
// minimal: the group, version and kind the DigitalOcean documentation uses
// ("How to Use the Routing Agent", networking.doks.digitalocean.com/v1alpha1
// Route with spec.destinations and spec.gateways as lists of strings), a
// cluster scope (the documented examples carry no namespace; unverified),
// and any other field kept as given. It checks less than the real one does.
func routeCRD() []byte {
	strs := map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	crd := map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata": map[string]any{
			"name":        "routes.networking.doks.digitalocean.com",
			"annotations": map[string]string{"hybrid-platform/simulated": "minimal definition written by internal/localcluster"},
		},
		"spec": map[string]any{
			"group": "networking.doks.digitalocean.com",
			"scope": "Cluster",
			"names": map[string]any{"kind": "Route", "listKind": "RouteList", "plural": "routes", "singular": "route"},
			"versions": []any{map[string]any{
				"name": "v1alpha1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"spec": map[string]any{
							"type":                                 "object",
							"required":                             []string{"destinations", "gateways"},
							"x-kubernetes-preserve-unknown-fields": true,
							"properties":                           map[string]any{"destinations": strs, "gateways": strs},
						},
					},
				}},
			}},
		},
	}
	b, _ := json.Marshal(crd)
	return b
}

// talosServiceAccountCRD is Talos' own ServiceAccount (talos.dev/v1alpha1),
// which machined registers on a cluster whose control-plane machine config
// enables kubernetesTalosAPIAccess; the etcd snapshot job declares one.
// Talos builds the definition in Go, in a module the proxy does not serve
// (siderolabs/talos itself; only pkg/machinery is served), so this is a
// copy: names, scope and schema as in siderolabs/talos v1.12.11
// internal/app/machined/pkg/controllers/k8s/internal/k8stemplates/crds.go
// (TalosServiceAccountCRDTemplate: Namespaced, shortName tsa, spec.roles a
// list of strings, status.failureReason a string) with the constants of
// machinery v1.12.5 constants/constants.go:1151-1167. Simulated: no Talos
// controller answers it here, so no talosconfig Secret appears.
func talosServiceAccountCRD() []byte {
	str := map[string]any{"type": "string"}
	crd := map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata": map[string]any{
			"name":        "serviceaccounts.talos.dev",
			"annotations": map[string]string{"hybrid-platform/simulated": "copy of Talos v1.12.11's definition, written by internal/localcluster"},
		},
		"spec": map[string]any{
			"group":      "talos.dev",
			"scope":      "Namespaced",
			"conversion": map[string]any{"strategy": "None"},
			"names": map[string]any{"kind": "ServiceAccount", "listKind": "ServiceAccountList", "plural": "serviceaccounts",
				"singular": "serviceaccount", "shortNames": []string{"tsa"}},
			"versions": []any{map[string]any{
				"name": "v1alpha1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"spec": map[string]any{"type": "object", "properties": map[string]any{
							"roles": map[string]any{"type": "array", "items": str},
						}},
						"status": map[string]any{"type": "object", "properties": map[string]any{"failureReason": str}},
					},
				}},
			}},
		},
	}
	b, _ := json.Marshal(crd)
	return b
}

// readCRDs reads CRD YAML files (one or more documents each) as JSON.
func readCRDs(files []string) ([][]byte, error) {
	if len(files) == 0 {
		return nil, errors.New("no CRD files found")
	}
	sort.Strings(files)
	var out [][]byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if doc == nil {
				continue
			}
			if doc["kind"] != "CustomResourceDefinition" {
				return nil, fmt.Errorf("%s: a %v, not a CustomResourceDefinition", f, doc["kind"])
			}
			b, err := json.Marshal(doc)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, b)
		}
	}
	return out, nil
}

// ModuleDir returns the directory of module@version in the module cache,
// downloading it through the module proxy (verified against the checksum
// database) when it is not there yet. It runs outside any module, so no
// go.mod is consulted or changed.
func ModuleDir(modVersion string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", modVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", modVersion, info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w: %s", modVersion, err, strings.TrimSpace(stderr.String()))
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no directory in %s", modVersion, out)
	}
	return info.Dir, nil
}
