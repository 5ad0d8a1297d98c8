//go:build tools

// Package tools pins doctl, the DigitalOcean CLI whose exec-credential
// command the DOKS kubeconfig runs for a cluster token
// (components/doks/provider.go). The deploy runners install it from here
// (.github/actions/doctl), so its version is set once, in this go.mod.
package tools

import _ "github.com/digitalocean/doctl/cmd/doctl"
