package doks

import (
	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
)

// clusterTaints and poolTaints carry a node pool's taints (validated in
// internal/config/digitalocean.go) to the default pool and to extra pools,
// whose SDK types differ.
func clusterTaints(ts []config.Taint) digitalocean.KubernetesClusterNodePoolTaintArray {
	var out digitalocean.KubernetesClusterNodePoolTaintArray // nil when none: no taint input at all
	for _, t := range ts {
		out = append(out, digitalocean.KubernetesClusterNodePoolTaintArgs{
			Key: pulumi.String(t.Key), Value: pulumi.String(t.Value), Effect: pulumi.String(t.Effect),
		})
	}
	return out
}

func poolTaints(ts []config.Taint) digitalocean.KubernetesNodePoolTaintArray {
	var out digitalocean.KubernetesNodePoolTaintArray
	for _, t := range ts {
		out = append(out, digitalocean.KubernetesNodePoolTaintArgs{
			Key: pulumi.String(t.Key), Value: pulumi.String(t.Value), Effect: pulumi.String(t.Effect),
		})
	}
	return out
}
