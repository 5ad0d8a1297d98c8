// Package stacks holds one short composition per stack. main.go runs the one
// named by the selected Pulumi stack.
package stacks

import (
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
)

// Composition declares a stack's components from its validated config and
// returns the stack outputs.
type Composition func(ctx *pulumi.Context, cfg *config.Config) (pulumi.Map, error)

var compositions = map[string]Composition{
	config.StackProd:   Prod,
	config.StackOnprem: Onprem,
}

// Run is the Pulumi program.
func Run(ctx *pulumi.Context) error {
	_, err := Deploy(ctx)
	return err
}

// Deploy selects the composition by stack name, validates the whole config
// before declaring anything, runs the composition and exports its outputs.
func Deploy(ctx *pulumi.Context) (pulumi.Map, error) {
	if err := config.CheckStack(ctx.Stack()); err != nil {
		return nil, err
	}
	cfg, err := config.Load(ctx)
	if err != nil {
		return nil, err
	}
	outputs, err := compositions[ctx.Stack()](ctx, cfg)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(outputs))
	for k := range outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ctx.Export(k, outputs[k])
	}
	return outputs, nil
}

// addressPlan exports the validated address plan, which both stacks share.
func addressPlan(cfg *config.Config) pulumi.StringMap {
	out := pulumi.StringMap{}
	for _, r := range cfg.Network.AddressPlan() {
		out[r.Key] = pulumi.String(r.Prefix.String())
	}
	return out
}
