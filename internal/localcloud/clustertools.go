package localcloud

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hybridcloud/platform/internal/localcluster"
)

// The real Kubernetes layer: the control-plane binaries that
// internal/localcluster runs, and the real pulumi-kubernetes provider
// plugin. Each is built from its own wrapper module under tools/ (the
// versions are pinned there, in go.mod and go.sum) into Bin, and reused
// while the wrapper's files and the build recipe are unchanged: a stamp
// file in Bin/.stamps records their hash. Cold, they cost minutes
// (docs/ci.md, "The local engine's tools"); a warm check is a hash.

// KubernetesProviderModule is the provider's Go module, which has no
// semver tags; tools/kubernetes-provider/go.mod pins it at the only
// pseudo-version the module proxy serves, KubernetesProviderPseudoVersion:
// the commit of the repository's tag v4.25.0 (checked: pulumi-kubernetes
// tag v4.25.0 = f47bc2d6f199, 2026-01-15 03:34:56 UTC). The pseudo-versions
// of later releases' commits (v4.32.0's among them) are refused (403), so
// the program pins the SDK at v4.25.0 too (docs/decisions/kubernetes-provider-version.md).
const (
	KubernetesProviderModule        = "github.com/pulumi/pulumi-kubernetes/provider/v4"
	KubernetesProviderPseudoVersion = "v4.0.0-20260115033456-f47bc2d6f199"
	// KubernetesProviderRelease is the release that commit is, which the
	// plugin reports (ldflag -X on provider/pkg/version.Version, the
	// variable the upstream Makefile sets: checked at both v4.25.0 and
	// v4.32.0, provider/pkg/version/version.go and Makefile VERSION_PATH).
	KubernetesProviderRelease    = "4.25.0"
	kubernetesProviderVersionVar = KubernetesProviderModule + "/pkg/version.Version"
)

// providerBin is where the real provider goes, relative to Bin: not in Bin
// itself, which is on the engine's PATH, where the engine would take any
// pulumi-resource-kubernetes before the installed plugin (it warns "using
// pulumi-resource-kubernetes from $PATH"), stand-in or not.
const providerBin = "kubernetes-provider/pulumi-resource-kubernetes"

// ClusterTools are the control-plane binaries.
type ClusterTools struct {
	Etcd, APIServer, ControllerManager, Scheduler, Kubectl, Kwok string
}

// Binaries are the ones localcluster runs.
func (c ClusterTools) Binaries() localcluster.Binaries {
	return localcluster.Binaries{Etcd: c.Etcd, APIServer: c.APIServer, ControllerManager: c.ControllerManager,
		Scheduler: c.Scheduler, Kwok: c.Kwok}
}

// wrapper is the build of one wrapper module under tools/.
type wrapper struct {
	name string            // directory under tools/
	bins map[string]string // output name in Bin -> package to build
	// ldflags computes the linker flags (it may ask the module for versions).
	ldflags func(dir string) (string, error)
	// prepare writes generated, ignored inputs into dir before a build.
	prepare func(dir string) error
	// check verifies the built binaries (by output name) against the
	// versions the wrapper module in dir pins.
	check func(dir string, bins map[string]string) error
}

// EnsureCluster finds or builds etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kubectl and kwok.
func (t *Toolchain) EnsureCluster() error {
	return t.locked(func() error {
		for _, w := range []wrapper{etcdWrapper(), kubernetesWrapper(), kwokWrapper()} {
			if err := t.buildWrapper(w); err != nil {
				return err
			}
		}
		b := func(n string) string { return filepath.Join(t.Bin, n) }
		t.Cluster = ClusterTools{Etcd: b("etcd"), APIServer: b("kube-apiserver"), ControllerManager: b("kube-controller-manager"),
			Scheduler: b("kube-scheduler"), Kubectl: b("kubectl"), Kwok: b("kwok")}
		return nil
	})
}

// EnsureKubernetesProvider finds or builds the real pulumi-kubernetes
// provider plugin, pulumi-resource-kubernetes, and doctl, which the DOKS
// kubeconfig the program gives that provider runs for a token
// (components/doks/provider.go).
func (t *Toolchain) EnsureKubernetesProvider() error {
	return t.locked(func() error {
		for _, w := range []wrapper{providerWrapper(), doctlWrapper()} {
			if err := t.buildWrapper(w); err != nil {
				return err
			}
		}
		t.KubernetesProvider = filepath.Join(t.Bin, providerBin)
		t.Doctl = filepath.Join(t.Bin, "doctl")
		return nil
	})
}

// doctlWrapper builds doctl at the version tools/doctl/go.mod pins, the one
// the deploy runners install (.github/actions/doctl).
func doctlWrapper() wrapper {
	return wrapper{
		name: "doctl",
		bins: map[string]string{"doctl": DoctlModule + "/cmd/doctl"},
		check: func(dir string, bins map[string]string) error {
			want, err := goListVersion(dir, DoctlModule)
			if err != nil {
				return err
			}
			if v := moduleVersion(bins["doctl"], DoctlModule); v != want {
				return fmt.Errorf("built from %s %q, want %s", DoctlModule, v, want)
			}
			return nil
		},
	}
}

// DoctlModule is doctl's Go module.
const DoctlModule = "github.com/digitalocean/doctl"

func etcdWrapper() wrapper {
	return wrapper{
		name: "etcd",
		// The server module's root package is etcd's main.
		bins: map[string]string{"etcd": "go.etcd.io/etcd/server/v3"},
		check: func(dir string, bins map[string]string) error {
			v, err := goListVersion(dir, "go.etcd.io/etcd/server/v3")
			if err != nil {
				return err
			}
			return expectOutput(bins["etcd"], []string{"--version"}, "etcd Version: "+strings.TrimPrefix(v, "v"))
		},
	}
}

func kubernetesWrapper() wrapper {
	return wrapper{
		name: "kubernetes",
		bins: map[string]string{
			"kube-apiserver":          "k8s.io/kubernetes/cmd/kube-apiserver",
			"kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
			"kube-scheduler":          "k8s.io/kubernetes/cmd/kube-scheduler",
			"kubectl":                 "k8s.io/kubernetes/cmd/kubectl",
		},
		// The version the release build stamps, through the variables of
		// hack/lib/version.sh (checked: k8s.io/kubernetes@v1.35.4
		// kube::version::ldflags; k8s.io/component-base@v0.35.4 version/base.go).
		ldflags: func(dir string) (string, error) {
			v, err := goListVersion(dir, "k8s.io/kubernetes")
			if err != nil {
				return "", err
			}
			major, minor, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
			minor, _, _ = strings.Cut(minor, ".")
			flags := []string{"-s", "-w"}
			for _, pkg := range []string{"k8s.io/client-go/pkg/version", "k8s.io/component-base/version"} {
				flags = append(flags, "-X", pkg+".gitVersion="+v, "-X", pkg+".gitMajor="+major,
					"-X", pkg+".gitMinor="+minor, "-X", pkg+".gitTreeState=clean")
			}
			return strings.Join(flags, " "), nil
		},
		check: func(dir string, bins map[string]string) error {
			v, err := goListVersion(dir, "k8s.io/kubernetes")
			if err != nil {
				return err
			}
			for _, n := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
				if err := expectOutput(bins[n], []string{"--version"}, "Kubernetes "+v); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func kwokWrapper() wrapper {
	return wrapper{
		name: "kwok",
		bins: map[string]string{"kwok": "sigs.k8s.io/kwok/cmd/kwok"},
		check: func(dir string, bins map[string]string) error {
			v, err := goListVersion(dir, "sigs.k8s.io/kwok")
			if err != nil {
				return err
			}
			return expectOutput(bins["kwok"], []string{"--version"}, v)
		},
	}
}

func providerWrapper() wrapper {
	return wrapper{
		name: "kubernetes-provider",
		bins: map[string]string{providerBin: "."},
		ldflags: func(string) (string, error) {
			return "-s -w -X " + kubernetesProviderVersionVar + "=" + KubernetesProviderRelease, nil
		},
		prepare: writeProviderEmbeds,
		check: func(_ string, bins map[string]string) error {
			if v := moduleVersion(bins[providerBin], KubernetesProviderModule); v != KubernetesProviderPseudoVersion {
				return fmt.Errorf("built from %s %q, want %s", KubernetesProviderModule, v, KubernetesProviderPseudoVersion)
			}
			return nil
		},
	}
}

// writeProviderEmbeds writes the two files the provider's main package
// embeds and that its repository generates (provider/cmd/pulumi-resource-
// kubernetes/generate.go, run by `make provider`): schema-embed.json, the
// schema with its version set, and terraform-mapping-embed.json, the
// mapping compacted. They come from the provider module itself.
func writeProviderEmbeds(dir string) error {
	v, err := goListVersion(dir, KubernetesProviderModule)
	if err != nil {
		return err
	}
	mod, err := localcluster.ModuleDir(KubernetesProviderModule + "@" + v)
	if err != nil {
		return err
	}
	src := filepath.Join(mod, "cmd", "pulumi-resource-kubernetes")
	raw, err := os.ReadFile(filepath.Join(src, "schema.json"))
	if err != nil {
		return err
	}
	var schema map[string]json.RawMessage
	if err := json.Unmarshal(raw, &schema); err != nil {
		return fmt.Errorf("schema.json: %w", err)
	}
	schema["version"], _ = json.Marshal(KubernetesProviderRelease)
	out, err := json.Marshal(schema)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "schema-embed.json"), out, 0o644); err != nil {
		return err
	}
	raw, err = os.ReadFile(filepath.Join(src, "terraform-mapping.json"))
	if err != nil {
		return err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return fmt.Errorf("terraform-mapping.json: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "terraform-mapping-embed.json"), compact.Bytes(), 0o644)
}

// buildWrapper builds w's binaries into Bin unless the stamp of an earlier
// build of the same inputs is there and so are the binaries.
func (t *Toolchain) buildWrapper(w wrapper) error {
	start := time.Now()
	dir := filepath.Join(t.Root, "tools", w.name)
	ldflags := ""
	if w.ldflags != nil {
		var err error
		if ldflags, err = w.ldflags(dir); err != nil {
			return fmt.Errorf("tools/%s: %w", w.name, err)
		}
	}
	names := make([]string, 0, len(w.bins))
	bins := map[string]string{}
	for n := range w.bins {
		names = append(names, n)
		bins[n] = filepath.Join(t.Bin, n)
	}
	sort.Strings(names)
	stamp, err := wrapperStamp(dir, ldflags, w.bins)
	if err != nil {
		return fmt.Errorf("tools/%s: %w", w.name, err)
	}
	stampFile := filepath.Join(t.Bin, ".stamps", w.name)
	if have, err := os.ReadFile(stampFile); err == nil && string(have) == stamp && allExist(bins) {
		fmt.Fprintf(t.Log, "localcloud: %-40s reused (%s)\n", "tools/"+w.name, strings.Join(names, ", "))
		return nil
	}
	fmt.Fprintf(t.Log, "localcloud: building tools/%s: %s (cold: minutes)\n", w.name, strings.Join(names, ", "))
	if w.prepare != nil {
		if err := w.prepare(dir); err != nil {
			return fmt.Errorf("tools/%s: %w", w.name, err)
		}
	}
	args := []string{"build"}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	if len(names) == 1 {
		if err := os.MkdirAll(filepath.Dir(bins[names[0]]), 0o755); err != nil {
			return err
		}
		args = append(args, "-o", bins[names[0]], w.bins[names[0]])
	} else {
		args = append(args, "-o", t.Bin+string(os.PathSeparator))
		for _, n := range names {
			if filepath.Base(w.bins[n]) != n {
				return fmt.Errorf("tools/%s: package %s does not build %s", w.name, w.bins[n], n)
			}
			args = append(args, w.bins[n])
		}
	}
	if err := t.goRun(dir, args...); err != nil {
		return err
	}
	if w.check != nil {
		if err := w.check(dir, bins); err != nil {
			return fmt.Errorf("tools/%s: %w", w.name, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(stampFile), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(t.Log, "localcloud: built tools/%s in %s\n", w.name, time.Since(start).Round(time.Second))
	return os.WriteFile(stampFile, []byte(stamp), 0o644)
}

// wrapperStamp hashes what a wrapper build depends on: the Go version, the
// linker flags, the packages, and the wrapper's go.mod, go.sum and Go files.
// The module cache is content-addressed by go.sum, so this is the whole input.
func wrapperStamp(dir, ldflags string, bins map[string]string) (string, error) {
	goVersion, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOVERSION: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "recipe 1\ngo %s\nldflags %s\n", bytes.TrimSpace(goVersion), ldflags)
	for _, n := range sortedKeys(bins) {
		fmt.Fprintf(h, "bin %s %s\n", n, bins[n])
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	files = append(files, filepath.Join(dir, "go.mod"), filepath.Join(dir, "go.sum"))
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "file %s %d\n", filepath.Base(f), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// locked runs fn holding the build lock: one build at a time, across
// processes (the tests and `make local-up` may run together).
func (t *Toolchain) locked(fn func() error) error {
	t.defaults()
	if err := os.MkdirAll(t.Bin, 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(filepath.Join(t.Bin, ".build.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

func allExist(paths map[string]string) bool {
	for _, p := range paths {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// expectOutput runs bin with args and wants want in its output.
func expectOutput(bin string, args []string, want string) error {
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, out)
	}
	if !strings.Contains(string(out), want) {
		return fmt.Errorf("%s %s printed %q, want %q in it", bin, strings.Join(args, " "), strings.TrimSpace(string(out)), want)
	}
	return nil
}

// goListVersion is the version of module mod in the build list of the
// module in dir.
func goListVersion(dir, mod string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", mod)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", mod, err)
	}
	return strings.TrimSpace(string(out)), nil
}
