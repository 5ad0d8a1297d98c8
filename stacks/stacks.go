// Package stacks holds one short composition per stack. main.go runs the one
// named by the selected Pulumi stack.
package stacks

import (
	"slices"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/components/platform"
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

// PlatformArgs are the platform layer's arguments the stack config decides:
// the cluster's kind and names, the "platform" settings, the alert address,
// the secrets and, on Talos, the nodes' addresses and interfaces. The
// composition adds its cluster's provider, storage class, buckets, keys and
// edge contract.
func PlatformArgs(cfg *config.Config) *platform.Args {
	peer := config.StackOnprem
	if cfg.Stack == config.StackOnprem {
		peer = config.StackProd
	}
	args := &platform.Args{
		Kind:                 cfg.ClusterKind(),
		ClusterName:          cfg.Stack,
		PeerClusterName:      peer,
		Settings:             cfg.Platform,
		AlertEmail:           cfg.AlertEmail,
		GrafanaAdminPassword: cfg.Secrets.GrafanaAdminPassword.Output(),
		OriginCertificate:    cfg.Secrets.OriginTLSCertificate.Output(),
		OriginKey:            cfg.Secrets.OriginTLSPrivateKey.Output(),
		ArgoCDRedisPassword:  cfg.Secrets.ArgoCDRedisPassword.Output(),
	}
	if args.Kind != config.ClusterTalos {
		return args
	}
	args.PublicAddress = cfg.IngressAddress()
	args.ControlPlaneIPs = config.Strings(cfg.Talos.ControlPlaneIPs())
	// Any node may answer ARP for the ingress address: a cluster of
	// control-plane nodes only must still announce it.
	for _, n := range cfg.Talos.Nodes {
		if !slices.Contains(args.L2Interfaces, n.Interface) {
			args.L2Interfaces = append(args.L2Interfaces, n.Interface)
		}
	}
	return args
}

// addressPlan exports the validated address plan, which both stacks share.
func addressPlan(cfg *config.Config) pulumi.StringMap {
	out := pulumi.StringMap{}
	for _, r := range cfg.Network.AddressPlan() {
		out[r.Key] = pulumi.String(r.Prefix.String())
	}
	return out
}
