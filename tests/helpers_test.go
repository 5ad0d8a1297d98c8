// Package tests holds the stack-level tests. They run the real stack
// compositions under the mock cloud (internal/mockcloud) through the same
// entry point as the offline plan. Keeping them in one package means one test
// binary links the provider SDKs, which dominates test time.
package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/plan"
)

// projectDir is the repository root, where Pulumi.yaml lives.
func projectDir(t testing.TB) string {
	t.Helper()
	dir, err := plan.FindProjectDir(".")
	require.NoError(t, err)
	return dir
}

// stackObject reads one config object of a stack file as generic data.
func stackObject(t testing.TB, stack, key string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(projectDir(t), "Pulumi."+stack+".yaml"))
	require.NoError(t, err)
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	v, ok := doc.Config["hybrid-platform:"+key].(map[string]any)
	require.True(t, ok, "stack %s has no object %s", stack, key)
	// round-trip through JSON for a deep copy with JSON types
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func toJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// runStack plans a stack with its real config file plus overrides.
func runStack(t testing.TB, opts plan.Options) (*plan.Result, error) {
	t.Helper()
	opts.ProjectDir = projectDir(t)
	return plan.Run(opts)
}

// mustRun plans a stack and fails the test on any error.
func mustRun(t testing.TB, opts plan.Options) *plan.Result {
	t.Helper()
	res, err := runStack(t, opts)
	require.NoError(t, err)
	return res
}
