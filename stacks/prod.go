package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
)

// Prod is the DigitalOcean side: network, DOKS and the data services.
func Prod(ctx *pulumi.Context, cfg *config.Config) (pulumi.Map, error) {
	return pulumi.Map{
		"addressPlan": addressPlan(cfg),
	}, nil
}
