package tests

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/policy"
)

// limit is one bound that both validation and a guardrail enforce.
type limit struct {
	name string
	// key is the config object set to at, then to past; set writes v into it.
	key string
	set func(m map[string]any, v float64)
	// at is the bound itself (it validates and passes every guardrail), past
	// one step beyond it (validation refuses it under wantKey).
	at, past float64
	wantKey  string
	// policy must refuse the plan made at the bound once the first resource
	// of type typ (the one named res, when set) carries past at input.
	policy, typ, res, input string
}

func extraPool(minNodes, maxNodes float64) []any {
	return []any{map[string]any{"name": "batch", "size": "s-2vcpu-4gb", "minNodes": minNodes, "maxNodes": maxNodes}}
}

// TestConfigAndGuardrailsAgreeOnLimits fails when validation and a guardrail
// hold a bound at different values: whichever side is looser lets the value
// one past the bound through, whichever is stricter refuses the bound.
func TestConfigAndGuardrailsAgreeOnLimits(t *testing.T) {
	prodCfg := mustRun(t, plan.Options{Stack: config.StackProd}).Config
	monitor := prodCfg.Edge.Monitor
	detection := float64(monitor.DetectionBoundSeconds())
	limits := []limit{
		{name: "system pool at most MaxPoolNodes", key: "doks", at: config.MaxPoolNodes, past: config.MaxPoolNodes + 1,
			set: func(m map[string]any, v float64) { field("systemPool.maxNodes", v)(m) }, wantKey: "doks.systemPool.maxNodes",
			policy: "doks-autoscaling-bounds", typ: tCluster, input: "nodePool.maxNodes"},
		{name: "system pool at least ProdMinSystemPoolNodes", key: "doks", at: config.ProdMinSystemPoolNodes, past: config.ProdMinSystemPoolNodes - 1,
			set: func(m map[string]any, v float64) { field("systemPool.minNodes", v)(m) }, wantKey: "doks.systemPool.minNodes",
			policy: "doks-autoscaling-bounds", typ: tCluster, input: "nodePool.minNodes"},
		{name: "workload pool at most MaxPoolNodes", key: "doks", at: config.MaxPoolNodes, past: config.MaxPoolNodes + 1,
			set: func(m map[string]any, v float64) { field("nodePool.maxNodes", v)(m) }, wantKey: "doks.nodePool.maxNodes",
			policy: "doks-autoscaling-bounds", typ: tPool, res: "doks-pool-workers", input: "maxNodes"},
		{name: "workload pool at least ProdMinPoolNodes", key: "doks", at: config.ProdMinPoolNodes, past: config.ProdMinPoolNodes - 1,
			set: func(m map[string]any, v float64) { field("nodePool.minNodes", v)(m) }, wantKey: "doks.nodePool.minNodes",
			policy: "doks-workload-capacity", typ: tPool, res: "doks-pool-workers", input: "minNodes"},
		{name: "extra pool at most MaxPoolNodes", key: "doks", at: config.MaxPoolNodes, past: config.MaxPoolNodes + 1,
			set: func(m map[string]any, v float64) { m["extraPools"] = extraPool(1, v) }, wantKey: "doks.extraPools[0].maxNodes",
			policy: "doks-autoscaling-bounds", typ: tPool, res: "doks-pool-batch", input: "maxNodes"},
		{name: "extra pool at least MinPoolNodes", key: "doks", at: config.MinPoolNodes, past: config.MinPoolNodes - 1,
			set: func(m map[string]any, v float64) { m["extraPools"] = extraPool(v, 2) }, wantKey: "doks.extraPools[0].minNodes",
			policy: "doks-autoscaling-bounds", typ: tPool, res: "doks-pool-batch", input: "minNodes"},
		{name: "database at least ProdMinDatabaseNodes", key: "database", at: config.ProdMinDatabaseNodes, past: config.ProdMinDatabaseNodes - 1,
			set: func(m map[string]any, v float64) { m["nodeCount"] = v }, wantKey: "database.nodeCount",
			policy: "database-ha", typ: tDB, input: "nodeCount"},
		// The objective is configured: at the monitor's own worst case it
		// holds, a second less it does not, and the guardrail must follow
		// the configured value, not a constant of its own.
		{name: "detection within edge.detectionObjectiveSeconds", key: "edge", at: detection, past: detection - 1,
			set: func(m map[string]any, v float64) { m["detectionObjectiveSeconds"] = v }, wantKey: "edge.monitor",
			policy: "failover-detection-objective", typ: tMonitor, input: "interval"},
	}
	for _, l := range limits {
		t.Run(l.name, func(t *testing.T) {
			with := func(v float64) plan.Options {
				obj := stackObject(t, config.StackProd, l.key)
				l.set(obj, v)
				return plan.Options{Stack: config.StackProd, Set: map[string]string{l.key: toJSON(t, obj)}}
			}

			res := mustRun(t, with(l.at))
			assert.Empty(t, res.Violations, "at the bound the plan must pass every guardrail")

			_, err := runStack(t, with(l.past))
			var verr *config.ValidationError
			require.True(t, errors.As(err, &verr), "one past the bound must fail validation, got %v", err)
			var keys []string
			for _, p := range verr.Problems {
				keys = append(keys, p.Key)
			}
			assert.Contains(t, keys, config.Project+":"+l.wantKey)

			// The guardrail on its own: the plan at the bound, one step past
			// it on the resource. For the detection objective the step is a
			// monitor one second slower than the objective allows.
			past := l.past
			if l.policy == "failover-detection-objective" {
				past = float64(monitor.Interval + 1)
			}
			broken := setInput(l.typ, l.res, l.input, past)(t, res.Cloud.Resources())
			got := policy.Evaluate(policy.FromRecords(broken), policy.SettingsOf(res.Config))
			require.NotEmpty(t, got, "the guardrail let %s = %v through", l.input, past)
			for _, v := range got {
				assert.Equal(t, l.policy, v.Policy, "unexpected violation: %s", v)
			}
		})
	}
}
