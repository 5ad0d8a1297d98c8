package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/localcloud"
)

// keyDisableDefaults is the engine's key (pkg/v3 v3.274.1
// resource/deploy/default_providers.go, shouldDenyRequest).
const keyDisableDefaults = "pulumi:disable-default-providers"

// TestEngineRefusesDefaultProvider runs a small program
// (testdata/nodefault) under the pinned CLI with the repository's own
// pulumi:disable-default-providers value (copied from Pulumi.yaml): each
// resource and invoke of a disabled package that names no provider is
// refused by the engine. Two controls show the refusal is the setting's: the
// same resource with an explicit provider previews, and so does the same
// resource without one once the stack's list no longer names its package.
func TestEngineRefusesDefaultProvider(t *testing.T) {
	c := ctx(t)
	dir := t.TempDir()
	writeStrictProject(t, dir)

	run := func(args ...string) (string, error) {
		return pulumiIn(c, dir, args...)
	}
	_, err := run("stack", "init", "refuse", "--secrets-provider", "passphrase")
	require.NoError(t, err)

	const stack = "urn:pulumi:refuse::strict-providers::"
	for _, tc := range []struct {
		name, pkg, what string // what: the URN or invoke token the engine names
	}{
		{"digitalocean-resource", "digitalocean", stack + "digitalocean:index/vpc:Vpc::vpc"},
		{"digitalocean-invoke", "digitalocean", "digitalocean:index/getKubernetesVersions:getKubernetesVersions"},
		{"cloudflare-resource", "cloudflare", stack + "cloudflare:index/record:Record::record"},
		{"cloudflare-invoke", "cloudflare", "cloudflare:index/getZone:getZone"},
		{"kubernetes-resource", "kubernetes", stack + "kubernetes:core/v1:Namespace::apps"},
		{"talos-resource", "talos", stack + "talos:machine/secrets:Secrets::secrets"},
		{"talos-invoke", "talos", "talos:machine/getConfiguration:getConfiguration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := run("preview", "--stack", "refuse", "--suppress-progress", "--config", "case="+tc.name)
			require.Error(t, err, "the engine ran a %s registration without a provider", tc.pkg)
			// sdk/v3 v3.274.1 go/common/diag/errors.go, GetDefaultProviderDenied (error 2015).
			assert.Contains(t, got, fmt.Sprintf("Default provider for '%s' disabled. '%s' must use an explicit provider.", tc.pkg, tc.what))
		})
	}

	t.Run("control: an explicit provider is accepted", func(t *testing.T) {
		got, err := run("preview", "--stack", "refuse", "--suppress-progress", "--config", "case=digitalocean-resource-explicit")
		require.NoError(t, err, "%s", got)
		assert.NotContains(t, got, "Default provider for")
	})
	t.Run("control: the default provider runs when the list does not name the package", func(t *testing.T) {
		// A stack's own value replaces the project's (pkg/v3 v3.274.1
		// workspace/config.go, mergeConfig).
		_, err := run("config", "set", "--stack", "refuse", keyDisableDefaults, `["aws"]`)
		require.NoError(t, err)
		got, err := run("preview", "--stack", "refuse", "--suppress-progress", "--config", "case=digitalocean-resource")
		require.NoError(t, err, "%s", got)
		assert.NotContains(t, got, "Default provider for")
	})
}

// writeStrictProject writes the test program's Pulumi.yaml: its own name,
// its source as main, the language host that runs it built once, and the
// repository's pulumi:disable-default-providers entry as it stands in
// Pulumi.yaml.
func writeStrictProject(t *testing.T, dir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	require.NoError(t, err)
	var repo struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &repo))
	entry, ok := repo.Config[keyDisableDefaults]
	require.True(t, ok, "Pulumi.yaml sets no %s", keyDisableDefaults)
	src := filepath.Join(root, "tests", "engine", "testdata", "nodefault")
	main, err := filepath.Rel(dir, src)
	require.NoError(t, err)
	// Built once, and run by the language host as a binary: left to the
	// host, each of the nine previews would link it anew.
	bin := filepath.Join(dir, "nodefault")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = src
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	host := filepath.Join(dir, "language-host")
	require.NoError(t, localcloud.LanguageHostFor(ws.Tools, host, bin))
	project, err := yaml.Marshal(map[string]any{
		"name":    "strict-providers",
		"runtime": "go",
		"main":    main,
		"config":  map[string]any{keyDisableDefaults: entry},
		"plugins": localcloud.LanguagePlugins(host),
	})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o600))
}

// pulumiIn runs the CLI in dir with the workspace's environment (its
// PULUMI_HOME and stand-in plugins, the S3 backend, the passphrase) and
// returns stdout and stderr together.
func pulumiIn(c context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(c, ws.Tools.Pulumi, append([]string{"--non-interactive", "--color", "never"}, args...)...)
	cmd.Dir = dir
	cmd.Env = ws.Env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	fmt.Fprintf(ws.Log, "$ pulumi %s\n", strings.Join(args, " "))
	return out.String(), err
}
