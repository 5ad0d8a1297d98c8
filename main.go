// Command hybrid-platform is the Pulumi program for the hybrid cloud platform:
// DigitalOcean (prod) and the on-premises Talos cluster (onprem). The stack
// selected with `pulumi stack select` picks the composition in stacks/.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/stacks"
)

func main() {
	pulumi.Run(stacks.Run)
}
