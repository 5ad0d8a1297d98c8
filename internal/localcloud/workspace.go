package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/standin"
)

// Bucket is the state bucket of a local run.
const Bucket = "hybrid-platform-local-state"

// Passphrase encrypts the local stacks' secrets. Local runs only: the stacks
// live in a throwaway S3 server and hold stand-in secrets.
const Passphrase = "local-stand-in-cloud-passphrase"

// StandinToken is the credential the stand-in DigitalOcean and Cloudflare
// providers require (they refuse to run without one, as the real ones do).
const StandinToken = "standin-token-not-a-real-credential"

// Workspace is a copy of the project wired to a local engine run: Pulumi.yaml
// runs the prebuilt program binary, the stack files are the repository's
// own, and PULUMI_HOME, the stand-in cloud's store and the S3 server are all
// under Dir.
type Workspace struct {
	Dir   string // project directory (Pulumi.yaml, Pulumi.<stack>.yaml)
	Home  string // PULUMI_HOME: plugins and credentials
	Cloud string // the stand-in cloud's store
	Tools *Toolchain
	S3    *S3
	Log   io.Writer // command echo and output; default os.Stderr
	// Clusters, when set, are the local control planes (WorkspaceOptions).
	Clusters        *ClusterAccess
	skipCheckpoints bool
	// Stream, when set, also receives each command's output as it comes
	// (a long `up` is then followed live, in a log file say).
	Stream io.Writer
}

// WorkspaceOptions choose the plugins of a workspace.
type WorkspaceOptions struct {
	// RealKubernetes installs the real pulumi-kubernetes provider
	// (Toolchain.KubernetesProvider, from EnsureKubernetesProvider) as the
	// kubernetes plugin, instead of the stand-in; DigitalOcean, Cloudflare
	// and Talos keep their stand-ins. Off by default until the engine tests
	// run against the local control planes (internal/localcluster).
	//
	// The plugin is installed at the version the SDK requests, the only one
	// the engine accepts; that must be KubernetesProviderRelease, the
	// release the provider is built from, or the workspace is refused.
	RealKubernetes bool
	// Clusters, with RealKubernetes, are the local control planes the real
	// provider deploys to: the stand-ins hand out their access (standin.
	// AccessEnv), doctl gets DOKS tokens from their simulated DigitalOcean
	// credentials endpoint, and the charts come from their mirror
	// (platform.chartRepository).
	Clusters *ClusterAccess
	// SkipCheckpoints saves the state once per operation instead of after
	// every step (PULUMI_SKIP_CHECKPOINTS; checked: pulumi sdk v3.274.1
	// go/common/env/env.go). With the real Kubernetes provider the state
	// holds every CRD's schema: prod's is about 14 MB, and a bring-up
	// wrote some 800 versions of it to the versioned bucket (11 GB; the
	// CLI used more CPU than any server). The tests read the final state
	// only.
	SkipCheckpoints bool
}

// ClusterAccess is what a workspace needs of running local control planes
// (localcluster.ControlPlane: WriteAccess, DOAPI, ChartRepository).
type ClusterAccess struct {
	AccessFile      string // localcluster.ControlPlane.WriteAccess
	DOAPI           string // base URL of the credentials endpoint
	ChartRepository string
}

// NewWorkspace lays out a workspace in dir, installs the stand-in plugins
// into its PULUMI_HOME and logs the CLI in to the S3 backend.
func NewWorkspace(tc *Toolchain, s3 *S3, dir string) (*Workspace, error) {
	return NewWorkspaceWith(tc, s3, dir, WorkspaceOptions{})
}

// NewWorkspaceWith is NewWorkspace with a choice of plugins.
func NewWorkspaceWith(tc *Toolchain, s3 *S3, dir string, opts WorkspaceOptions) (*Workspace, error) {
	w := &Workspace{Dir: filepath.Join(dir, "project"), Home: filepath.Join(dir, "pulumi-home"),
		Cloud: filepath.Join(dir, "cloud"), Tools: tc, S3: s3, Log: os.Stderr, Clusters: opts.Clusters,
		skipCheckpoints: opts.SkipCheckpoints}
	if opts.Clusters != nil && !opts.RealKubernetes {
		return nil, fmt.Errorf("WorkspaceOptions.Clusters needs RealKubernetes: the stand-in Kubernetes provider connects to nothing")
	}
	for _, d := range []string{w.Dir, w.Home, w.Cloud} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if err := w.writeProject(); err != nil {
		return nil, err
	}
	versions, err := pluginVersions(tc.Root)
	if err != nil {
		return nil, err
	}
	for _, pkg := range standin.Packages {
		file := tc.Standin
		if pkg == "kubernetes" && opts.RealKubernetes {
			if tc.KubernetesProvider == "" {
				return nil, fmt.Errorf("RealKubernetes: the real provider is not built (Toolchain.EnsureKubernetesProvider)")
			}
			if versions[pkg] != KubernetesProviderRelease {
				// The engine would run the provider under another release's
				// name: tests would not test what production runs.
				return nil, fmt.Errorf("RealKubernetes: the SDK asks for kubernetes plugin %s, but the built provider is %s: pin github.com/pulumi/pulumi-kubernetes/sdk/v4 and tools/kubernetes-provider at the same release",
					versions[pkg], KubernetesProviderRelease)
			}
			file = tc.KubernetesProvider
		}
		if _, err := w.Pulumi(context.Background(), nil, "plugin", "install", "resource", pkg, versions[pkg],
			"--file", file, "--reinstall"); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// LanguageHostFor writes, in dir, a language plugin for the Go runtime that
// runs the pinned language host (tc.LanguageGo) with `-binary program`. A
// Pulumi.yaml uses it with `plugins: {languages: [{name: go, path: dir}]}`
// (LanguagePlugins; sdk v3.274.1 go/common/workspace/project.go Plugins,
// and plugins.go getPluginInfoAndPath tries project plugins first).
//
// Why: the pinned CLI (v3.274.1) passes a Go project's runtime options to the
// language host only inside its RPCs (langruntime_plugin.go
// buildArgsForNewPlugin: the engine address alone), while the host of sdk
// v3.62.0 reads `binary` only from its -binary flag (pulumi-language-go
// main.go:95) and otherwise links the program into a new temporary file at
// every command: 12 s and 2.9 GB on 2 cores for this program, measured with
// `go build -o <new file> .`.
func LanguageHostFor(tc *Toolchain, dir, program string) error {
	if tc.LanguageGo == "" || !filepath.IsAbs(program) {
		return fmt.Errorf("LanguageHostFor: needs the built language host and an absolute program path (have %q, %q)", tc.LanguageGo, program)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	script := fmt.Sprintf("#!/bin/sh\n# Generated by internal/localcloud (LanguageHostFor).\nexec %s -binary %s \"$@\"\n",
		shellQuote(tc.LanguageGo), shellQuote(program))
	return os.WriteFile(filepath.Join(dir, "pulumi-language-go"), []byte(script), 0o700)
}

// LanguagePlugins is the Pulumi.yaml `plugins` value that makes the CLI run
// the language plugin LanguageHostFor wrote in dir.
func LanguagePlugins(dir string) map[string]any {
	return map[string]any{"languages": []map[string]string{{"name": "go", "path": dir}}}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeProject copies Pulumi.yaml with its runtime pointed at the prebuilt
// program (and `main` at the repository, where the language host lists the
// SDK modules), the language host that runs it (LanguageHostFor), and the
// stack files unchanged.
func (w *Workspace) writeProject() error {
	src, err := os.ReadFile(filepath.Join(w.Tools.Root, "Pulumi.yaml"))
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(w.Dir, w.Tools.Root)
	if err != nil {
		return err
	}
	runtime := fmt.Sprintf("runtime:\n  name: go\n  options:\n    binary: %s\nmain: %s\n", w.Tools.Program, rel)
	if !bytes.Contains(src, []byte("\nruntime: go\n")) {
		return fmt.Errorf("expected a line `runtime: go` in %s", filepath.Join(w.Tools.Root, "Pulumi.yaml"))
	}
	project := bytes.Replace(src, []byte("\nruntime: go\n"), []byte("\n"+runtime), 1)
	if bytes.Contains(src, []byte("\nplugins:")) {
		return fmt.Errorf("%s declares plugins: the local workspace adds its own language host there", filepath.Join(w.Tools.Root, "Pulumi.yaml"))
	}
	host := filepath.Join(filepath.Dir(w.Dir), "language-host")
	if err := LanguageHostFor(w.Tools, host, w.Tools.Program); err != nil {
		return err
	}
	plugins, err := yaml.Marshal(map[string]any{"plugins": LanguagePlugins(host)})
	if err != nil {
		return err
	}
	project = append(append(project, '\n'), plugins...)
	if err := os.WriteFile(filepath.Join(w.Dir, "Pulumi.yaml"), project, 0o600); err != nil {
		return err
	}
	for _, stack := range config.Stacks {
		name := "Pulumi." + stack + ".yaml"
		data, err := os.ReadFile(filepath.Join(w.Tools.Root, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(w.Dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// Env is the environment every pulumi command runs with.
func (w *Workspace) Env() []string {
	env := os.Environ()
	set := map[string]string{
		"PATH":                     w.Tools.Bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"PULUMI_HOME":              w.Home,
		"PULUMI_BACKEND_URL":       w.S3.BackendURL(Bucket),
		"AWS_ACCESS_KEY_ID":        w.S3.Creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":    w.S3.Creds.SecretAccessKey,
		"AWS_REGION":               "us-east-1",
		"PULUMI_CONFIG_PASSPHRASE": Passphrase,
		"PULUMI_SKIP_UPDATE_CHECK": "true",
		// Never try to download a plugin: the stand-ins are installed.
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"HYBRID_STANDIN_DIR":                          w.Cloud,
		"DIGITALOCEAN_TOKEN":                          StandinToken,
		"CLOUDFLARE_API_TOKEN":                        StandinToken,
		"KUBECONFIG":                                  "",
	}
	if w.skipCheckpoints {
		set["PULUMI_SKIP_CHECKPOINTS"] = "true"
	}
	if c := w.Clusters; c != nil {
		set[standin.AccessEnv] = c.AccessFile
		// doctl (the DOKS kubeconfig's exec plugin, run by the real
		// provider) reads these (doctl v1.166.0 commands/doit.go: the
		// DIGITALOCEAN_ prefix for access-token and api-url), and caches
		// tokens under XDG_CONFIG_HOME/doctl.
		set["DIGITALOCEAN_ACCESS_TOKEN"] = StandinToken
		set["DIGITALOCEAN_API_URL"] = c.DOAPI
		set["XDG_CONFIG_HOME"] = filepath.Join(filepath.Dir(w.Dir), "xdg-config")
	}
	out := env[:0:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, override := set[k]; !override && !strings.HasPrefix(k, "PULUMI_") {
			out = append(out, kv)
		}
	}
	for k, v := range set {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	sort.Strings(out)
	return out
}

// Result is what one pulumi command did.
type Result struct {
	Args           []string
	Stdout, Stderr string
	Took           time.Duration
}

// Pulumi runs the CLI in the workspace. stdin may be nil. A non-zero exit is
// an error that carries the command's output.
func (w *Workspace) Pulumi(ctx context.Context, stdin io.Reader, args ...string) (Result, error) {
	cmd := exec.CommandContext(ctx, w.Tools.Pulumi, append([]string{"--non-interactive", "--color", "never"}, args...)...)
	cmd.Dir = w.Dir
	cmd.Env = w.Env()
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if w.Stream != nil {
		cmd.Stdout = io.MultiWriter(&stdout, w.Stream)
	}
	start := time.Now()
	err := cmd.Run()
	r := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Took: time.Since(start)}
	if w.Log != nil {
		fmt.Fprintf(w.Log, "$ pulumi %s  (%s)\n", strings.Join(redacted(args), " "), r.Took.Round(100*time.Millisecond))
	}
	if err != nil {
		return r, fmt.Errorf("pulumi %s: %w\n--- stdout\n%s\n--- stderr\n%s", strings.Join(redacted(args), " "), err, r.Stdout, r.Stderr)
	}
	return r, nil
}

// redacted is args with the value of every `--secret key=value` hidden, for
// logs and errors.
func redacted(args []string) []string {
	out := slices.Clone(args)
	for i := 1; i < len(out); i++ {
		if out[i-1] == "--secret" {
			if k, _, ok := strings.Cut(out[i], "="); ok {
				out[i] = k + "=[secret]"
			}
		}
	}
	return out
}

// ChangeConfig sets one value of a stack's config, as an operator does with
// `pulumi config set --path`, and returns the function that puts the stack
// file back byte for byte. A preview does not write
// state, so after the restore nothing differs from before the change: no
// preview is needed to prove the revert.
func (w *Workspace) ChangeConfig(ctx context.Context, stack, path, value string) (restore func() error, err error) {
	file := filepath.Join(w.Dir, "Pulumi."+stack+".yaml")
	before, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	restore = func() error { return os.WriteFile(file, before, 0o600) }
	if _, err := w.Pulumi(ctx, nil, "config", "set", "--stack", stack, "--path", path, value); err != nil {
		return nil, errors.Join(err, restore())
	}
	changed, err := os.ReadFile(file)
	if err != nil {
		return nil, errors.Join(err, restore())
	}
	if bytes.Equal(before, changed) {
		return nil, errors.Join(fmt.Errorf("pulumi config set %s=%s left %s unchanged", path, value, file), restore())
	}
	return restore, nil
}

// PulumiEach runs one pulumi command per stack, all at once (each stack has
// its own lock and state), and returns the results in the order of stacks.
func (w *Workspace) PulumiEach(ctx context.Context, stacks []string, args func(stack string) []string) ([]Result, []error) {
	results := make([]Result, len(stacks))
	errs := make([]error, len(stacks))
	var wg sync.WaitGroup
	for i, stack := range stacks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = w.Pulumi(ctx, nil, args(stack)...)
		}()
	}
	wg.Wait()
	return results, errs
}

// PairKinds are the kinds the hybrid pair's stack files set (key "kind");
// tests/config_test.go holds them to Pulumi.prod.yaml and Pulumi.onprem.yaml.
var PairKinds = map[string]config.EnvKind{config.StackProd: config.KindDigitalOcean, config.StackOnprem: config.KindOnprem}

// SecretValues are the values a local run sets for the secret config keys
// of one of the hybrid pair's stacks: the same stand-ins as the offline
// plan, of the right shape, never real.
func SecretValues(stack string) map[string]string {
	out := map[string]string{}
	for _, s := range config.SecretSpecsFor(PairKinds[stack]) {
		out[s.Key] = s.StandIn()
	}
	return out
}

// InitStacks logs in to the S3 backend, creates both stacks with passphrase
// secrets and sets every secret config key with `pulumi config set-all --secret`
// (test values only: they are on the command line).
//
// The login is what an operator does; inside the project, backend.url in
// Pulumi.yaml would still win over a stored login, which is why every
// command also carries PULUMI_BACKEND_URL (the CLI's first choice).
func (w *Workspace) InitStacks(ctx context.Context) error {
	if _, err := w.Pulumi(ctx, nil, "login", w.S3.BackendURL(Bucket)); err != nil {
		return err
	}
	for _, stack := range config.Stacks {
		if _, err := w.Pulumi(ctx, nil, "stack", "init", stack, "--secrets-provider", "passphrase"); err != nil {
			return err
		}
		// One set-all per stack (checked: pulumi v3.274.1 `config set-all
		// --help`): each CLI start costs about 0.7 s, and these were six
		// sequential commands a stack.
		args := []string{"config", "set-all", "--stack", stack, "--path"}
		if w.Clusters != nil {
			args = append(args, "--plaintext", "platform.chartRepository="+w.Clusters.ChartRepository)
		}
		values := SecretValues(stack)
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			args = append(args, "--secret", k+"="+values[k])
		}
		if _, err := w.Pulumi(ctx, nil, args...); err != nil {
			return err
		}
	}
	return nil
}

// UpParallel is how many resource operations a local `up` runs at once. The
// CLI's default is 4 per CPU (checked: pulumi v3.274.1
// pkg/cmd/pulumi/operations/up.go defaultParallel), 8 on a 2-core machine;
// with the real Kubernetes provider most operations wait on an await (a CRD
// established, a Deployment ready), not on the CPU, and a higher bound lets
// the waits overlap. With this and SkipCheckpoints together, prod's first
// up went from unfinished after 13 minutes to about 1.5 minutes; the two
// were not measured apart.
const UpParallel = 48

// Up runs `pulumi up` on a stack.
func (w *Workspace) Up(ctx context.Context, stack string) (Result, error) {
	return w.Pulumi(ctx, nil, "up", "--yes", "--stack", stack, "--skip-preview", "--suppress-progress",
		"--parallel", strconv.Itoa(UpParallel))
}

// BringUp is the documented bring-up order: prod (the on-prem origin falls
// back to config), onprem (reads prod's outputs), prod again (reads onprem's
// ingress address).
func (w *Workspace) BringUp(ctx context.Context) ([]Result, error) {
	var out []Result
	for _, stack := range []string{config.StackProd, config.StackOnprem, config.StackProd} {
		r, err := w.Up(ctx, stack)
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// Outputs returns a stack's outputs; secrets in plaintext when showSecrets.
func (w *Workspace) Outputs(ctx context.Context, stack string, showSecrets bool) (map[string]any, error) {
	args := []string{"stack", "output", "--json", "--stack", stack}
	if showSecrets {
		args = append(args, "--show-secrets")
	}
	r, err := w.Pulumi(ctx, nil, args...)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		return nil, fmt.Errorf("pulumi stack output: %w", err)
	}
	return out, nil
}
