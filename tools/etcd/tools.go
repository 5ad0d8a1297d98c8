//go:build tools

// Package tools pins etcd, the store of the local control planes
// (internal/localcluster). Built by internal/localcloud.
package tools

import _ "go.etcd.io/etcd/server/v3"
