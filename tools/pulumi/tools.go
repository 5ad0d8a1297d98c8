//go:build tools

// Package tools pins the Pulumi CLI this repository builds for local engine
// runs. Build it with `make tools` (see internal/localcloud).
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
