package failover

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
)

// Origin is the on-prem failover origin and where it came from.
type Origin struct {
	Address string
	// Source says which source was used, for the plan and the operator.
	Source string
}

// ResolveOnpremOrigin reads the on-prem ingress address from the onprem
// stack's outputs, or falls back to edge.onpremOriginFallback when the
// reference is turned off or the onprem stack has not exported it yet (the
// first bring-up: prod, then onprem, then prod again). The fallback is
// announced as a warning.
func ResolveOnpremOrigin(ctx *pulumi.Context, edge config.Edge) (*Origin, error) {
	fallback := &Origin{Address: edge.OnpremOriginFallback}
	if edge.OnpremStackRef == "" {
		fallback.Source = "config edge.onpremOriginFallback (edge.onpremStackRef is empty)"
		return fallback, nil
	}
	ref, err := pulumi.NewStackReference(ctx, "onprem", &pulumi.StackReferenceArgs{Name: pulumi.String(edge.OnpremStackRef)})
	if err != nil {
		return nil, err
	}
	d, err := ref.GetOutputDetails(config.OutputIngressAddress)
	if err != nil {
		return nil, fmt.Errorf("reading %s from stack %s: %w (create it first with pulumi stack init, or set edge.onpremStackRef to \"\")",
			config.OutputIngressAddress, edge.OnpremStackRef, err)
	}
	v := d.Value
	if v == nil {
		v = d.SecretValue
	}
	if v == nil {
		fallback.Source = fmt.Sprintf("config edge.onpremOriginFallback (stack %s has no %s output yet)", edge.OnpremStackRef, config.OutputIngressAddress)
		_ = ctx.Log.Warn("failover: on-prem origin "+edge.OnpremOriginFallback+" from "+fallback.Source+
			"; run `pulumi up` on prod again once the onprem stack is up", nil)
		return fallback, nil
	}
	s, ok := v.(string)
	if !ok || !config.ValidOrigin(s) {
		return nil, fmt.Errorf("stack %s output %s = %v: want the on-prem ingress's public IPv4 address or hostname", edge.OnpremStackRef, config.OutputIngressAddress, v)
	}
	return &Origin{Address: s, Source: "stack " + edge.OnpremStackRef + " output " + config.OutputIngressAddress}, nil
}
