// Package tests holds the stack-level tests. They run the real stack
// compositions under the mock cloud (internal/mockcloud) through the same
// entry point as the offline plan. Keeping them in one package means one test
// binary links the provider SDKs, which dominates test time.
package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/mockcloud"
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

// runStack plans a stack with its real config file plus overrides. Unless
// the options say otherwise, the stacks it references are mocked (prodRefs).
func runStack(t testing.TB, opts plan.Options) (*plan.Result, error) {
	t.Helper()
	opts.ProjectDir = projectDir(t)
	if opts.StackOutputs == nil && !opts.FirstPass && opts.MissingStacks == nil {
		opts.StackOutputs = prodRefs(opts.Stack).StackOutputs
	}
	return plan.Run(opts)
}

// mustRun plans a stack and fails the test on any error.
func mustRun(t testing.TB, opts plan.Options) *plan.Result {
	t.Helper()
	res, err := runStack(t, opts)
	require.NoError(t, err)
	return res
}

// walk follows a dotted property path (a.b[0].c) through recorded inputs,
// unwrapping secrets and outputs on the way. secret reports whether any
// step was secret.
func walk(t testing.TB, m resource.PropertyMap, path string) (v resource.PropertyValue, secret bool) {
	t.Helper()
	v = resource.NewObjectProperty(m)
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.Index(part, "["); i >= 0 {
			name = part[:i]
			n, err := strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
			require.NoError(t, err, "bad path %s", path)
			idx = n
		}
		v, secret = unwrap(v, secret)
		require.True(t, v.IsObject(), "%s: %s is not an object", path, name)
		next, ok := v.ObjectValue()[resource.PropertyKey(name)]
		require.True(t, ok, "%s: no property %s", path, name)
		v = next
		if idx >= 0 {
			v, secret = unwrap(v, secret)
			require.True(t, v.IsArray() && idx < len(v.ArrayValue()), "%s: no element %d", path, idx)
			v = v.ArrayValue()[idx]
		}
	}
	return unwrap(v, secret)
}

func unwrap(v resource.PropertyValue, secret bool) (resource.PropertyValue, bool) {
	for {
		switch {
		case v.IsSecret():
			v, secret = v.SecretValue().Element, true
		case v.IsOutput():
			o := v.OutputValue()
			v, secret = o.Element, secret || o.Secret
		default:
			return v, secret
		}
	}
}

// in returns the plain Go value of an input path (numbers are float64).
func in(t testing.TB, r *mockcloud.Resource, path string) any {
	t.Helper()
	require.NotNil(t, r)
	v, _ := walk(t, r.Inputs, path)
	return v.Mappable()
}

// secretIn reports whether an input path is secret.
func secretIn(t testing.TB, r *mockcloud.Resource, path string) bool {
	t.Helper()
	require.NotNil(t, r)
	_, s := walk(t, r.Inputs, path)
	return s
}

// one returns the single resource of a type, failing if there is not exactly one.
func one(t testing.TB, res *plan.Result, typ string) *mockcloud.Resource {
	t.Helper()
	all := res.Cloud.ByType(typ)
	require.Len(t, all, 1, "want exactly one %s", typ)
	return all[0]
}

// named returns the resource of a type and logical name.
func named(t testing.TB, res *plan.Result, typ, name string) *mockcloud.Resource {
	t.Helper()
	r := res.Cloud.Get(typ, name)
	require.NotNil(t, r, "no %s named %s", typ, name)
	return r
}
