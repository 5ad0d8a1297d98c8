package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/plan"
)

// keyDisableDefaults is the engine's key (pkg/v3 resource/deploy/default_providers.go).
const keyDisableDefaults = "pulumi:disable-default-providers"

// strictRuns are the stack runs whose registrations must all name a
// provider: both stacks as configured, and prod's first pass.
func strictRuns() map[string]plan.Options {
	first := plan.Options{Stack: config.StackProd, FirstPass: true}
	return map[string]plan.Options{
		config.StackProd:   prodRefs(config.StackProd),
		config.StackOnprem: prodRefs(config.StackOnprem),
		"prod-first-pass":  first,
	}
}

// pkgOf is the package of a type or invoke token ("digitalocean" of
// "digitalocean:index/vpc:Vpc").
func pkgOf(token string) string {
	return strings.SplitN(token, ":", 2)[0]
}

// explicitProviderFault says what is wrong with the provider a registration
// of package pkg names, or "" when it is an explicit provider of that
// package that the program registered.
func explicitProviderFault(cloud *mockcloud.Cloud, pkg, provider string) string {
	switch {
	case provider == "":
		return "names no provider: the engine would use (or, with default providers disabled, refuse) the default one"
	case strings.Contains(provider, "::default"):
		return "names a default provider " + provider
	}
	p := cloud.ByURN(provider)
	if p == nil {
		return "names provider " + provider + ", which the program did not register"
	}
	if p.Type != "pulumi:providers:"+pkg {
		return "names provider " + provider + " of type " + p.Type
	}
	return ""
}

// Every custom resource, remote component and invoke of a provider package
// names an explicit provider the program registered, of its own package:
// with default providers disabled (Pulumi.yaml), the engine refuses any
// that does not (TestEngineRefusesDefaultProvider in tests/engine).
func TestEveryRegistrationNamesAnExplicitProvider(t *testing.T) {
	for name, opts := range strictRuns() {
		t.Run(name, func(t *testing.T) {
			res := mustRun(t, opts)
			packages := map[string]bool{}
			for _, r := range res.Cloud.Resources() {
				pkg := pkgOf(r.Type)
				// The engine always allows the pulumi package (StackReference,
				// the providers themselves); components of this program have
				// no provider.
				if pkg == "pulumi" || pkg == "hybrid" {
					continue
				}
				packages[pkg] = true
				assert.Empty(t, explicitProviderFault(res.Cloud, pkg, r.Provider), "%s %s (%s)", r.Type, r.Name, r.URN)
			}
			invokes := res.Cloud.Invokes()
			for _, inv := range invokes {
				pkg := pkgOf(inv.Token)
				packages[pkg] = true
				assert.Empty(t, explicitProviderFault(res.Cloud, pkg, inv.Provider), "invoke %s", inv.Token)
			}
			// The run exercised the clouds it is meant to: a run that
			// registered nothing would pass the checks above.
			want := map[string][]string{
				config.StackProd:   {"cloudflare", "digitalocean", "kubernetes"},
				config.StackOnprem: {"kubernetes", "talos"},
			}[opts.Stack]
			for _, pkg := range want {
				assert.True(t, packages[pkg], "the %s run registered nothing of %s", name, pkg)
			}
			assert.NotEmpty(t, invokes, "the %s run made no invoke", name)
		})
	}
}

// The check above fails on a registration without a provider, with a
// default provider, or with another package's provider.
func TestExplicitProviderFaultCatchesEachFault(t *testing.T) {
	res := mustRun(t, prodRefs(config.StackProd))
	var doProvider, k8sProvider string
	for _, r := range res.Cloud.Resources() {
		switch r.Type {
		case "pulumi:providers:digitalocean":
			doProvider = r.URN
		case "pulumi:providers:kubernetes":
			k8sProvider = r.URN
		}
	}
	require.NotEmpty(t, doProvider)
	require.NotEmpty(t, k8sProvider)
	for _, tc := range []struct {
		name, provider, want string
	}{
		{"none", "", "names no provider"},
		{"default", "urn:pulumi:prod::hybrid-platform::pulumi:providers:digitalocean::default_4_76_0", "default provider"},
		{"unregistered", "urn:pulumi:prod::hybrid-platform::pulumi:providers:digitalocean::other", "did not register"},
		{"another package's", k8sProvider, "of type pulumi:providers:kubernetes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Contains(t, explicitProviderFault(res.Cloud, "digitalocean", tc.provider), tc.want)
		})
	}
	assert.Empty(t, explicitProviderFault(res.Cloud, "digitalocean", doProvider))
}

// Pulumi.yaml disables the default provider of every provider package the
// stacks use, in the value format the engine parses (a JSON list of
// package names, which the CLI makes of a YAML list), and no stack file
// overrides it (a stack's own value would win over the project's).
func TestDefaultProvidersDisabledForEveryPackageUsed(t *testing.T) {
	project, err := plan.ReadProject(projectDir(t))
	require.NoError(t, err)
	decl, ok := project.Config[keyDisableDefaults]
	require.True(t, ok, "Pulumi.yaml does not set %s", keyDisableDefaults)
	assert.Empty(t, decl.Type, "%s is another namespace's key: a value, not a declaration", keyDisableDefaults)
	assert.Nil(t, decl.Default, "%s takes `value:`; the CLI rejects `default:` outside the project namespace", keyDisableDefaults)
	raw, err := json.Marshal(decl.Value)
	require.NoError(t, err)
	var disabled []string
	require.NoError(t, json.Unmarshal(raw, &disabled), "%s must be a list of package names, is %s", keyDisableDefaults, raw)

	used := map[string]bool{}
	for _, opts := range strictRuns() {
		res := mustRun(t, opts)
		for _, r := range res.Cloud.Resources() {
			if pkg := pkgOf(r.Type); pkg != "pulumi" && pkg != "hybrid" {
				used[pkg] = true
			}
		}
		for _, inv := range res.Cloud.Invokes() {
			used[pkgOf(inv.Token)] = true
		}
	}
	require.NotEmpty(t, used)
	for pkg := range used {
		assert.Contains(t, disabled, pkg, "the stacks use %s, whose default provider is not disabled", pkg)
	}

	for _, stack := range config.Stacks {
		b, err := os.ReadFile(filepath.Join(projectDir(t), "Pulumi."+stack+".yaml"))
		require.NoError(t, err)
		var doc struct {
			Config map[string]any `yaml:"config"`
		}
		require.NoError(t, yaml.Unmarshal(b, &doc))
		_, overridden := doc.Config[keyDisableDefaults]
		assert.False(t, overridden, "Pulumi.%s.yaml sets %s, which would replace the project's list", stack, keyDisableDefaults)
	}
}
