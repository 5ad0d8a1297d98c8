// Command bootstrap-state creates the DigitalOcean Spaces bucket that holds
// the Pulumi state, private and with versioning on (so a bad state write can
// be rolled back). The bucket must exist before `pulumi login`, so no stack
// can create it. Re-running it changes nothing and says so.
//
//	export AWS_ACCESS_KEY_ID=<spaces key> AWS_SECRET_ACCESS_KEY=<spaces secret>
//	go run ./cmd/bootstrap-state [--check] [--bucket NAME] [--endpoint HOST]
//
// It links no Pulumi SDK, so it builds in seconds.
package main

import (
	"os"

	"github.com/hybridcloud/platform/internal/statebucket"
)

func main() {
	os.Exit(statebucket.Main(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
