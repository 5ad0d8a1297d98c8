package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/plan"
)

// prodRefs returns plan options for a stack with the outputs of the stacks
// it references mocked (onprem reads prod, prod reads onprem), so that each
// stack's tests do not depend on the other composition. The bring-up chain
// itself is tested in bringup_test.go and by the plan's own tests.
func prodRefs(stack string) plan.Options {
	opts := plan.Options{Stack: stack}
	switch stack {
	case config.StackOnprem:
		opts.StackOutputs = map[string]map[string]any{prodStack: prodOutputs()}
	case config.StackProd:
		opts.StackOutputs = map[string]map[string]any{onpremStack: {"ingressAddress": onpremIngress}}
	}
	return opts
}

// onpremIngress is the onprem stack's mocked ingressAddress output.
const onpremIngress = "203.0.113.10"

func planJSON(t *testing.T, args ...string) (map[string]any, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	// plan.Main finds Pulumi.yaml by walking up from the working directory,
	// as `go run ./cmd/plan` does from anywhere in the repository.
	code := plan.Main(append(args, "--format", "json"), &out, &errOut)
	require.Equal(t, 0, code, "plan failed: %s", errOut.String())
	var doc map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), "plan JSON does not parse")
	return doc, out.String()
}

func TestPlanJSONShape(t *testing.T) {
	for _, stack := range config.Stacks {
		t.Run(stack, func(t *testing.T) {
			doc, _ := planJSON(t, "--stack", stack)
			assert.Equal(t, "hybrid-platform", doc["project"])
			assert.Equal(t, stack, doc["stack"])
			require.IsType(t, map[string]any{}, doc["outputs"])
			resources, ok := doc["resources"].([]any)
			require.True(t, ok, "resources must be a list")
			urns := map[string]bool{}
			for _, r := range resources {
				urns[r.(map[string]any)["urn"].(string)] = true
			}
			for _, r := range resources {
				m := r.(map[string]any)
				for _, k := range []string{"urn", "type", "name", "parent", "provider", "protect", "dependsOn", "inputs"} {
					assert.Contains(t, m, k)
				}
				assert.IsType(t, "", m["urn"])
				assert.IsType(t, true, m["protect"])
				assert.IsType(t, map[string]any{}, m["inputs"])
				if p := m["parent"].(string); p != "" {
					assert.True(t, urns[p], "parent %s of %s is not in the plan", p, m["urn"])
				}
				for _, d := range m["dependsOn"].([]any) {
					assert.True(t, urns[d.(string)], "dependency %s of %s is not in the plan", d, m["urn"])
				}
			}
		})
	}
}

// The command itself: flags parsed, project found from the working
// directory, JSON on stdout.
func TestPlanCommandWritesJSON(t *testing.T) {
	doc, _ := planJSON(t, "--stack", "prod")
	assert.Equal(t, "prod", doc["stack"])
	assert.IsType(t, []any{}, doc["resources"])
}

func TestPlanUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{args: nil, code: 2, want: "--stack is required"},
		{args: []string{"--stack", "prod", "--format", "yaml"}, code: 2, want: "want text, json or mermaid"},
		{args: []string{"--stack", "qa"}, code: 1, want: "Pulumi.qa.yaml"},
		{args: []string{"--stack", "Prod"}, code: 1, want: "a lowercase DNS label"},
		{args: []string{"--stack", "prod", "--config-file", "/nonexistent.yaml"}, code: 1, want: "no such file"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := plan.Main(tc.args, &out, &errOut)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, errOut.String(), tc.want)
		})
	}
}

func TestPlanPrintsValidationErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Pulumi.prod.yaml")
	raw, err := os.ReadFile(filepath.Join(projectDir(t), "Pulumi.prod.yaml"))
	require.NoError(t, err)
	bad := strings.Replace(string(raw), "region: nyc3\n    vpcCidr", "region: mars1\n    vpcCidr", 1)
	require.NoError(t, os.WriteFile(file, []byte(bad), 0o600))
	var out, errOut bytes.Buffer
	code := plan.Main([]string{"--stack", "prod", "--config-file", file}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), `hybrid-platform:network.region = "mars1"`)
	assert.Empty(t, out.String())
}

func TestSecureConfigIsRedacted(t *testing.T) {
	// A stack file with secure: entries: the plan cannot decrypt them, stands
	// in stable values, and never prints them.
	file := filepath.Join(t.TempDir(), "Pulumi.prod.yaml")
	raw, err := os.ReadFile(filepath.Join(projectDir(t), "Pulumi.prod.yaml"))
	require.NoError(t, err)
	withSecure := string(raw) + `  hybrid-platform:grafanaAdminPassword:
    secure: v1:c2FsdA==:Y2lwaGVydGV4dA==
  hybrid-platform:wireguardGatewayPrivateKey:
    secure: v1:c2FsdA==:b3RoZXI=
`
	require.NoError(t, os.WriteFile(file, []byte(withSecure), 0o600))
	res := mustRun(t, plan.Options{Stack: "prod", ConfigFile: file})
	// Both secure entries are stood in, as is every secret the file leaves unset.
	var want []string
	for _, spec := range config.SecretSpecsFor(config.KindDigitalOcean) {
		want = append(want, spec.Key)
	}
	assert.ElementsMatch(t, want, res.StandIns)
	assert.Subset(t, res.StandIns, []string{"grafanaAdminPassword", "wireguardGatewayPrivateKey"})
	var text, js bytes.Buffer
	res.WriteText(&text)
	require.NoError(t, res.WriteJSON(&js))
	for _, spec := range config.SecretSpecsFor(config.KindDigitalOcean) {
		assert.NotContains(t, text.String(), spec.StandIn())
		assert.NotContains(t, js.String(), spec.StandIn())
	}
	assert.NotContains(t, js.String(), "Y2lwaGVydGV4dA==")
}

func TestPlanIsDeterministic(t *testing.T) {
	for _, stack := range config.Stacks {
		_, first := planJSON(t, "--stack", stack)
		_, second := planJSON(t, "--stack", stack)
		assert.Equal(t, first, second, "two plans of %s differ", stack)
	}
}
