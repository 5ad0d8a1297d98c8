// Command policypack serves the platform's guardrails to the Pulumi CLI:
//
//	pulumi preview --policy-pack policypack
//
// The rules live in internal/policy, where the offline plan and the tests
// evaluate the same code against the mock cloud.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/hybridcloud/platform/internal/policy"
)

func main() {
	if err := policyx.Main(policy.Pack); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
