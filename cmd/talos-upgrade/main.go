// Command talos-upgrade upgrades the on-prem Talos nodes to the stack's
// talos.talosVersion, one node at a time (control-plane nodes first, then
// workers), skipping nodes already there, waiting for cluster health after
// each and stopping at the first failure; then it checks, node by node, that
// each node runs talos.kubernetesVersion (`pulumi up` applies those images;
// see internal/talosupgrade for what is and is not done).
//
//	pulumi stack output --json --show-secrets -s onprem | go run ./cmd/talos-upgrade --outputs - [--dry-run]
//
// Runbook: docs/runbooks/upgrade-talos.md.
package main

import (
	"os"

	"github.com/hybridcloud/platform/internal/talosupgrade"
)

func main() {
	os.Exit(talosupgrade.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
