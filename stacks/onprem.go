package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
)

// Onprem is the on-premises side: the Talos cluster and its storage.
func Onprem(ctx *pulumi.Context, cfg *config.Config) (pulumi.Map, error) {
	return pulumi.Map{
		"addressPlan": addressPlan(cfg),
	}, nil
}
