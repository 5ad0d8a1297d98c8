package config

import (
	"fmt"
	"slices"
	"strings"
)

// DecommissionRunbook is the procedure a node follows out of the cluster.
const DecommissionRunbook = "docs/runbooks/decommission-talos-node.md"

// validateDecommissioned checks talos.decommissioned: names of machines that
// left talos.nodes (active, the names validateTalos collected).
func validateDecommissioned(p *problems, t *Talos, active map[string]bool) {
	seen := map[string]bool{}
	for i, name := range t.Decommissioned {
		key := fmt.Sprintf("talos.decommissioned[%d]", i)
		switch {
		case !validHostname(name) || strings.Contains(name, "."):
			p.add(key, name, "the name of a node taken out of talos.nodes (one lowercase DNS label)")
		case active[name]:
			p.add(key, name, "a node that is no longer in talos.nodes: a decommissioned node moves from talos.nodes to this list ("+DecommissionRunbook+")")
		case seen[name]:
			p.add(key, name, "a name listed once")
		}
		seen[name] = true
	}
}

// CheckRemovals refuses to drop a node that the stack last applied config
// to without its decommissioning. previous are the node names of the
// stack's last talosNodes output (none on its first up): each must still
// be in talos.nodes or be listed in talos.decommissioned. Removing a node
// from talos.nodes deletes its ConfigurationApply and nothing else: the
// machine keeps running, and a control-plane node keeps its etcd member,
// so an unannounced removal is refused before anything is declared.
func (t Talos) CheckRemovals(stack string, previous []string) error {
	active := map[string]bool{}
	for _, n := range t.Nodes {
		active[n.Name] = true
	}
	var p problems
	for _, name := range previous {
		if active[name] || slices.Contains(t.Decommissioned, name) {
			continue
		}
		p.add("talos.nodes", name, fmt.Sprintf(
			"node %s kept in talos.nodes: the stack's last update applied config to it (output talosNodes). "+
				"To take it out, follow %s and list it in talos.decommissioned", name, DecommissionRunbook))
	}
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Stack: stack, Problems: p}
}
