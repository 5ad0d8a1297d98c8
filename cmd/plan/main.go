// Command plan prints what a stack would create, offline: it runs the stack's
// real composition under the mock cloud with the stack's real config file. It
// needs no credentials, no Pulumi CLI and no network.
//
//	go run ./cmd/plan --stack prod [--config-file PATH] [--format text|json]
package main

import (
	"os"

	"github.com/hybridcloud/platform/internal/plan"
)

func main() {
	os.Exit(plan.Main(os.Args[1:], os.Stdout, os.Stderr))
}
