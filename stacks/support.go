package stacks

import (
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/cost"
)

// SupportOf places the stack's cluster versions in their support windows on
// the day now: DOKS (doksVersion is the slug resolved this run) on
// DigitalOcean, Talos and its Kubernetes on-prem.
func SupportOf(cfg *config.Config, doksVersion string, now time.Time) ([]cost.SupportStatus, error) {
	table, err := cost.LoadSupport()
	if err != nil {
		return nil, err
	}
	if cfg.Kind == config.KindOnprem {
		return []cost.SupportStatus{
			table.Status("talos", cost.ProductTalos, cfg.Talos.TalosVersion, now),
			table.Status("talos", cost.ProductKubernetes, cfg.Talos.KubernetesVersion, now),
		}, nil
	}
	return []cost.SupportStatus{table.Status("doks", cost.ProductKubernetes, doksVersion, now)}, nil
}

// warnSupport logs a warning in the Pulumi run for each version past its
// end of support. It reads the clock only to warn: no input depends on it.
func warnSupport(ctx *pulumi.Context, cfg *config.Config, doksVersion string) error {
	st, err := SupportOf(cfg, doksVersion, time.Now())
	if err != nil {
		return err
	}
	for _, s := range st {
		if w := s.Warning(); w != "" {
			_ = ctx.Log.Warn(w, nil)
		}
	}
	return nil
}
