package stacks

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/talosupgrade/stackout"
)

// SelfReference is the StackReference by which a stack reads its own
// outputs of its last update: organization/project/stack. Checked with the
// Pulumi CLI v3.274.1 on a DIY (file) backend, the kind this project's S3
// state is: during `pulumi preview` and `pulumi up` the reference returns
// the outputs of the previous update, and nothing on the first one.
func SelfReference(ctx *pulumi.Context) string {
	return fmt.Sprintf("%s/%s/%s", ctx.Organization(), ctx.Project(), ctx.Stack())
}

// checkNodeRemovals reads the node names the stack last exported
// (stackout.Nodes) and refuses, before any resource is declared from
// talos.nodes, the removal of one that is not in talos.decommissioned.
func checkNodeRemovals(ctx *pulumi.Context, cfg *config.Config) error {
	name := SelfReference(ctx)
	ref, err := pulumi.NewStackReference(ctx, "previous", &pulumi.StackReferenceArgs{Name: pulumi.String(name)})
	if err != nil {
		return fmt.Errorf("reading the stack's own last outputs (%s): %w", name, err)
	}
	// GetOutputDetails waits for the reference: the names are plain values.
	d, err := ref.GetOutputDetails(stackout.Nodes)
	if err != nil {
		return fmt.Errorf("reading output %s of %s: %w", stackout.Nodes, name, err)
	}
	previous, err := nodeNames(d.Value)
	if err != nil {
		return fmt.Errorf("output %s of %s: %w", stackout.Nodes, name, err)
	}
	return cfg.Talos.CheckRemovals(cfg.Stack, previous)
}

// nodeNames reads the names out of a talosNodes output (nil: the stack has
// not exported it yet).
func nodeNames(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var nodes []stackout.Node
	if err := json.Unmarshal(raw, &nodes); err != nil {
		return nil, fmt.Errorf("not a list of {name, ip, role}: %w", err)
	}
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return names, nil
}
