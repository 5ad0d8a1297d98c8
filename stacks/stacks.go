// Package stacks holds one short composition per kind of environment.
// main.go runs the one the selected stack's config names (key "kind"); the
// stack's name names its resources.
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

var compositions = map[config.EnvKind]Composition{
	config.KindDigitalOcean: Prod,
	config.KindOnprem:       Onprem,
}

// Run is the Pulumi program.
func Run(ctx *pulumi.Context) error {
	_, err := Deploy(ctx)
	return err
}

// Deploy selects the composition by the config's kind, validates the whole config
// before declaring anything, runs the composition and exports its outputs.
func Deploy(ctx *pulumi.Context) (pulumi.Map, error) {
	if err := config.CheckStack(ctx.Stack()); err != nil {
		return nil, err
	}
	cfg, err := config.Load(ctx)
	if err != nil {
		return nil, err
	}
	outputs, err := compositions[cfg.Kind](ctx, cfg)
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
// the cluster's kind, its name (the stack's) and its peer's (the stack it
// reads, if any), the "platform" settings, the alert address,
// the secrets and, on Talos, the nodes' addresses and interfaces. The
// composition adds its cluster's provider, storage class, buckets, keys and
// edge contract.
func PlatformArgs(cfg *config.Config) *platform.Args {
	args := &platform.Args{
		Kind:                 cfg.ClusterKind(),
		ClusterName:          cfg.Stack,
		PeerClusterName:      cfg.PeerStack(),
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
