package tests

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/localcloud"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/policy"
)

const stagingStack = "staging"

// extraStacks are the environments whose stack file is in the project but
// which are not the hybrid pair (config.Stacks): nothing in the code names
// them, so each must plan from its file alone.
func extraStacks(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(projectDir(t), "Pulumi.*.yaml"))
	require.NoError(t, err)
	var out []string
	for _, f := range files {
		stack := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml")
		if !slices.Contains(config.Stacks, stack) {
			out = append(out, stack)
		}
	}
	return out
}

// A new environment is a config file and nothing else: the offline plan
// command (as `go run ./cmd/plan --stack NAME`) plans each extra stack file
// with the composition its kind names and exits 0: valid, every guardrail
// passed, within budget. Its resources are in its own stack, none is named
// after prod, and a DigitalOcean one shares no bucket name with prod.
func TestEveryStackFileIsAnEnvironment(t *testing.T) {
	stacks := extraStacks(t)
	require.Contains(t, stacks, stagingStack)
	prodSpaces := stackObject(t, config.StackProd, "spaces")
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			doc, _ := planJSON(t, "--stack", stack)
			assert.Equal(t, stack, doc["stack"])
			resources, _ := doc["resources"].([]any)
			require.NotEmpty(t, resources)
			for _, r := range resources {
				r := r.(map[string]any)
				urn := r["urn"].(string)
				assert.True(t, strings.HasPrefix(urn, "urn:pulumi:"+stack+"::"), "%s is not in stack %s", urn, stack)
				inputs, _ := r["inputs"].(map[string]any)
				if name, ok := inputs["name"].(string); ok {
					assert.NotContains(t, name, "hybrid-"+config.StackProd, "%s is named after prod", urn)
				}
			}
			buckets, _ := doc["outputs"].(map[string]any)[config.OutputBuckets].(map[string]any)
			for consumer, name := range buckets {
				for _, key := range []string{"appBucket", "backupsBucket", "logsBucket"} {
					assert.NotEqual(t, prodSpaces[key], name, "%s's %s bucket is prod's %s: bucket names are global", stack, consumer, key)
				}
			}
		})
	}
}

// Staging is the cheaper shape production's guardrails would refuse: the
// guardrails pass it because it says production: false, and the same
// resources held to production break exactly the production floors.
func TestStagingIsNonProductionAndProductionFloorsWouldRefuseIt(t *testing.T) {
	res := mustRun(t, plan.Options{Stack: stagingStack})
	require.False(t, res.Config.Production)
	assert.Empty(t, res.Violations)
	assert.Equal(t, "hybrid-"+stagingStack+"-doks", in(t, one(t, res, tCluster), "name"), "the cluster is named after the stack")
	assert.Equal(t, false, in(t, one(t, res, tCluster), "ha"))
	assert.Less(t, in(t, one(t, res, tCluster), "nodePool.minNodes"), float64(config.ProdMinSystemPoolNodes))
	assert.Less(t, in(t, one(t, res, tPool), "minNodes"), float64(config.ProdMinPoolNodes))
	assert.Less(t, in(t, one(t, res, tDB), "nodeCount"), float64(config.ProdMinDatabaseNodes))
	for _, typ := range []string{tCluster, tRegistry, tDB, tDBDb, tReservedIP, tBucket} {
		for _, r := range res.Cloud.ByType(typ) {
			assert.True(t, r.Protect, "%s %s holds state: protected outside production too", typ, r.Name)
		}
	}

	asProd := policy.SettingsOf(res.Config)
	asProd.Production = true
	var broken []string
	for _, v := range policy.Evaluate(policy.FromRecords(res.Cloud.Resources()), asProd) {
		broken = append(broken, v.Policy)
	}
	assert.ElementsMatch(t, []string{"database-ha", "doks-ha-control-plane", "doks-autoscaling-bounds", "doks-workload-capacity"}, broken)

	// No peer stack: Velero has this environment's own location only.
	velero := plainInputs(named(t, res, tChart, "velero"))
	locations := digPath(t, velero, "values.configuration.backupStorageLocation").([]any)
	assert.Len(t, locations, 1)
}

// A staging-shaped file that says production (or does not say: the default
// is production) is refused, each problem naming its key.
func TestProductionRefusesTheStagingShape(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(projectDir(t), "Pulumi."+stagingStack+".yaml"))
	require.NoError(t, err)
	var kept []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "  hybrid-platform:production:") {
			kept = append(kept, line)
		}
	}
	require.Len(t, kept, len(strings.Split(string(raw), "\n"))-1, "the staging file sets production once")
	unset := filepath.Join(t.TempDir(), "Pulumi.staging.yaml")
	require.NoError(t, os.WriteFile(unset, []byte(strings.Join(kept, "\n")), 0o600))

	want := []string{"doks.ha", "doks.systemPool.minNodes", "doks.nodePool.minNodes", "database.nodeCount"}
	for name, opts := range map[string]plan.Options{
		"production true":  {Stack: stagingStack, Set: map[string]string{"production": "true"}},
		"production unset": {Stack: stagingStack, ConfigFile: unset},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := runStack(t, opts)
			var verr *config.ValidationError
			require.True(t, errors.As(err, &verr), "got %v", err)
			var keys []string
			for _, p := range verr.Problems {
				keys = append(keys, strings.TrimPrefix(p.Key, config.Project+":"))
			}
			assert.ElementsMatch(t, want, keys)
		})
	}
	_, err = runStack(t, plan.Options{Stack: stagingStack, Set: map[string]string{"production": "yes"}})
	assert.ErrorContains(t, err, `hybrid-platform:production = "yes": expected true or false`)
}

// The local engine sets each pair stack's secrets by kind: its kinds are the
// ones the stack files say.
func TestPairKindsAreTheFilesKinds(t *testing.T) {
	for _, stack := range config.Stacks {
		cfg := loadConfig(t, stack)
		assert.Equal(t, cfg.Kind, localcloud.PairKinds[stack], "stack %s", stack)
	}
}
