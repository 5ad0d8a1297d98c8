//go:build tools

// Package tools pins the Go language host the Pulumi CLI runs Go programs
// and policy packs with. Build it with `make tools` (see internal/localcloud).
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go"
