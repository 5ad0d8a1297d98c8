//go:build tools

// Package tools pins kwok (internal/localcluster). Built by internal/localcloud.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
