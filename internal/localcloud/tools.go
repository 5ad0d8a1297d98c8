// Package localcloud runs this program through the real Pulumi engine with no
// cloud account: the pinned Pulumi CLI built from the module proxy, the Go
// language host, state in a real S3 server (versitygw, standing in for DO
// Spaces) and the stand-in provider plugins of internal/standin. It backs
// `make local-up` and the engine integration tests (tests/engine).
package localcloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hybridcloud/platform/internal/standin"
)

// Pinned tool versions. The CLI version must equal .pulumi-version (what CI
// and the deploy workflows install) and tools/pulumi/go.mod; a test checks.
const (
	PulumiVersion    = "v3.274.1"
	LanguageGoModule = "github.com/pulumi/pulumi/sdk/v3"
	// LanguageGoVersion is the last SDK release the module proxy serves with
	// the Go language host inside it; it works with the pinned CLI.
	LanguageGoVersion = "v3.62.0"
	VersitygwModule   = "github.com/versity/versitygw"
	VersitygwVersion  = "v1.8.0"
	// PulumiCLIPackage is the CLI's main package, in tools/pulumi.
	PulumiCLIPackage = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)

// Toolchain finds or builds the binaries a local engine run needs. Built
// binaries go into Bin (the repository's ignored bin/) and are reused.
type Toolchain struct {
	Root string    // repository root
	Bin  string    // where binaries go; default Root/bin
	Log  io.Writer // progress; default os.Stderr

	Pulumi, LanguageGo, Versitygw, Standin, Program, PolicyPack string // resolved paths

	// Set by EnsureCluster and EnsureKubernetesProvider (clustertools.go).
	Cluster            ClusterTools
	KubernetesProvider string // the real pulumi-resource-kubernetes
	Doctl              string // the real doctl, for the DOKS kubeconfig's exec plugin
}

func (t *Toolchain) defaults() {
	if t.Bin == "" {
		t.Bin = filepath.Join(t.Root, "bin")
	}
	if t.Log == nil {
		t.Log = os.Stderr
	}
}

// Ensure resolves every tool, building what is missing. A CLI already on PATH
// at the pinned version is used as it is; so is versitygw. The stand-in
// provider and the program are always rebuilt (the Go build cache makes an
// unchanged rebuild cheap), so they never lag behind the source.
func (t *Toolchain) Ensure() error {
	return t.locked(t.ensure)
}

func (t *Toolchain) ensure() error {
	steps := []struct {
		name string
		fn   func() (string, error)
		dst  *string
	}{
		{"pulumi CLI " + PulumiVersion, t.pulumi, &t.Pulumi},
		{"pulumi-language-go (sdk " + LanguageGoVersion + ")", t.languageGo, &t.LanguageGo},
		{"versitygw " + VersitygwVersion, t.versitygw, &t.Versitygw},
		{"stand-in provider plugin", t.standin, &t.Standin},
		{"the program", t.program, &t.Program},
		{"the policy pack", t.policyPack, &t.PolicyPack},
	}
	for _, s := range steps {
		start := time.Now()
		p, err := s.fn()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		*s.dst = p
		fmt.Fprintf(t.Log, "localcloud: %-40s %s (%s)\n", s.name, p, time.Since(start).Round(time.Second))
	}
	return nil
}

// pulumi returns a CLI at the pinned version: on PATH, in Bin, or built from
// the wrapper module in tools/pulumi (module proxy only; cold: minutes).
func (t *Toolchain) pulumi() (string, error) {
	for _, p := range []string{lookPath("pulumi"), filepath.Join(t.Bin, "pulumi")} {
		if p != "" && cliVersion(p) == PulumiVersion {
			return p, nil
		}
	}
	out := filepath.Join(t.Bin, "pulumi")
	fmt.Fprintf(t.Log, "localcloud: building the Pulumi CLI %s from the module proxy (cold: about 10 minutes, 2.5 GB)\n", PulumiVersion)
	err := t.goRun(filepath.Join(t.Root, "tools", "pulumi"), "build", "-o", out,
		"-ldflags", "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version="+PulumiVersion,
		PulumiCLIPackage)
	if err != nil {
		return "", err
	}
	if v := cliVersion(out); v != PulumiVersion {
		return "", fmt.Errorf("built CLI reports version %q, want %s", v, PulumiVersion)
	}
	return out, nil
}

// languageGo returns the Go language host, next to the CLI so the CLI finds it.
func (t *Toolchain) languageGo() (string, error) {
	out := filepath.Join(t.Bin, "pulumi-language-go")
	if moduleVersion(out, LanguageGoModule) == LanguageGoVersion {
		return out, nil
	}
	err := t.goRun(filepath.Join(t.Root, "tools", "language-go"), "build", "-o", out,
		"github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go")
	return out, err
}

// versitygw returns the S3 server: on PATH at the pinned version, else in Bin.
func (t *Toolchain) versitygw() (string, error) {
	for _, p := range []string{lookPath("versitygw"), filepath.Join(t.Bin, "versitygw")} {
		if p != "" && moduleVersion(p, VersitygwModule) == VersitygwVersion {
			return p, nil
		}
	}
	cmd := exec.Command("go", "install", VersitygwModule+"/cmd/versitygw@"+VersitygwVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+t.Bin)
	cmd.Stdout, cmd.Stderr = t.Log, t.Log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install versitygw: %w", err)
	}
	return filepath.Join(t.Bin, "versitygw"), nil
}

func (t *Toolchain) standin() (string, error) {
	out := filepath.Join(t.Bin, "pulumi-resource-standin")
	return out, t.goRun(t.Root, "build", "-o", out, "./cmd/pulumi-resource-standin")
}

func (t *Toolchain) program() (string, error) {
	out := filepath.Join(t.Bin, "hybrid-platform")
	return out, t.goRun(t.Root, "build", "-o", out, ".")
}

// policyPack builds the policy pack as a binary, which the CLI runs directly
// (`pulumi preview --policy-pack bin/hybrid-policypack`). The directory form
// needs the language host to build the pack, and the one the module proxy
// serves (v3.62.0) predates the request field that names the pack's
// directory: it would build the program instead.
func (t *Toolchain) policyPack() (string, error) {
	out := filepath.Join(t.Bin, "hybrid-policypack")
	return out, t.goRun(t.Root, "build", "-o", out, "./policypack")
}

func (t *Toolchain) goRun(dir string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = t.Log, t.Log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s (in %s): %w", strings.Join(args, " "), dir, err)
	}
	return nil
}

func lookPath(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}

// cliVersion asks a Pulumi CLI for its version; "" when it cannot answer.
func cliVersion(path string) string {
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	cmd := exec.Command(path, "version")
	cmd.Env = append(os.Environ(), "PULUMI_SKIP_UPDATE_CHECK=true")
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// moduleVersion reads the version of a module a Go binary was built with.
func moduleVersion(path, module string) string {
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	out, err := exec.Command("go", "version", "-m", "-json", path).Output()
	if err != nil {
		return ""
	}
	var info struct {
		Main struct{ Path, Version string }
		Deps []struct{ Path, Version string }
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return ""
	}
	if info.Main.Path == module {
		return info.Main.Version
	}
	for _, d := range info.Deps {
		if d.Path == module {
			return d.Version
		}
	}
	return ""
}

// lockFile takes an exclusive lock on path, waiting for it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// sdkModules are the Go SDK modules of the packages the stand-in serves.
var sdkModules = map[string]string{
	"digitalocean": "github.com/pulumi/pulumi-digitalocean/sdk/v4",
	"cloudflare":   "github.com/pulumi/pulumi-cloudflare/sdk/v5",
	"kubernetes":   "github.com/pulumi/pulumi-kubernetes/sdk/v4",
	"talos":        "github.com/pulumiverse/pulumi-talos/sdk",
}

// SDKDir returns the directory of a provider package's Go SDK (go/PKG in its
// module, as go.mod pins it) in the module cache.
func SDKDir(root, pkg string) (string, error) {
	mod, ok := sdkModules[pkg]
	if !ok {
		return "", fmt.Errorf("no Go SDK module known for package %q", pkg)
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dir, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w: %s", mod, err, stderr.String())
	}
	return filepath.Join(strings.TrimSpace(string(dir)), "go", pkg), nil
}

// pluginVersions reads the plugin version each provider SDK asks the engine
// for, from the pulumi-plugin.json the SDK module ships.
func pluginVersions(root string) (map[string]string, error) {
	out := map[string]string{}
	for _, pkg := range standin.Packages {
		dir, err := SDKDir(root, pkg)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(filepath.Join(dir, "pulumi-plugin.json"))
		if err != nil {
			return nil, err
		}
		var info struct{ Name, Version string }
		if err := json.Unmarshal(data, &info); err != nil {
			return nil, err
		}
		if info.Name != pkg || info.Version == "" {
			return nil, fmt.Errorf("%s: pulumi-plugin.json names %q %q", dir, info.Name, info.Version)
		}
		out[pkg] = info.Version
	}
	return out, nil
}

// FindRoot returns the repository root: the nearest directory at or above
// dir whose go.mod declares this module.
func FindRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			bytes.HasPrefix(data, []byte("module github.com/hybridcloud/platform\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of github.com/hybridcloud/platform at or above %s", dir)
		}
	}
}
