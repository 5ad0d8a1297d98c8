// Package diagram derives an architecture graph from the resources a stack
// registered (internal/mockcloud records) and renders it as a Mermaid
// flowchart. Nothing is drawn by hand: every node is a recorded resource
// (a cluster, a data service, a platform chart, a component, another stack)
// and every edge follows a recorded dependency, parent, provider, chart
// value or a value read from another stack's outputs.
package diagram

import (
	"slices"
	"sort"
	"strings"

	"github.com/hybridcloud/platform/internal/mockcloud"
)

// Node kinds.
const (
	KindCluster   = "cluster"
	KindData      = "data"
	KindGateway   = "gateway"
	KindEdge      = "edge"
	KindService   = "service"
	KindStorage   = "storage"
	KindStack     = "stack"
	KindComponent = "component"
)

// Node is one box of the diagram.
type Node struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Kind  string `json:"kind"`
	Group string `json:"group"`
	// Class is the Mermaid class (colour) of the node, if any.
	Class string `json:"class,omitempty"`
}

// Edge is one arrow; Label joins every reason found for it.
type Edge struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Label string `json:"label"`
}

// Group is a Mermaid subgraph; Parent is empty at the top level.
type Group struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Parent string `json:"parent"`
}

// Graph is the derived architecture of one stack.
type Graph struct {
	Nodes  []Node  `json:"nodes"`
	Edges  []Edge  `json:"edges"`
	Groups []Group `json:"groups"`
}

// HasEdge reports whether an edge runs from one node id to another.
func (g *Graph) HasEdge(from, to string) bool {
	return slices.ContainsFunc(g.Edges, func(e Edge) bool { return e.From == from && e.To == to })
}

// Node returns the node with an id, or nil.
func (g *Graph) Node(id string) *Node {
	for i := range g.Nodes {
		if g.Nodes[i].ID == id {
			return &g.Nodes[i]
		}
	}
	return nil
}

// IsComponent reports a component type token (hybrid:<module>:<Type>).
func IsComponent(typ string) bool { return strings.HasPrefix(typ, "hybrid:") }

// ComponentCount is the number of resources under one component.
type ComponentCount struct {
	Type      string `json:"type"`
	Name      string `json:"name"`
	Resources int    `json:"resources"`
}

// CountByComponent counts, for every component, the resources whose nearest
// component ancestor it is, and the resources outside every component (the
// stack's direct children that are not components, such as a
// StackReference). Components themselves are not counted.
func CountByComponent(resources []*mockcloud.Resource) (counts []ComponentCount, outside int) {
	byURN := map[string]*mockcloud.Resource{}
	for _, r := range resources {
		byURN[r.URN] = r
	}
	n := map[string]int{}
	for _, r := range resources {
		if IsComponent(r.Type) {
			continue
		}
		if c := componentOf(byURN, r); c != nil {
			n[c.URN]++
		} else {
			outside++
		}
	}
	for _, r := range resources {
		if IsComponent(r.Type) {
			counts = append(counts, ComponentCount{Type: r.Type, Name: r.Name, Resources: n[r.URN]})
		}
	}
	sort.Slice(counts, func(i, j int) bool {
		if counts[i].Type != counts[j].Type {
			return counts[i].Type < counts[j].Type
		}
		return counts[i].Name < counts[j].Name
	})
	return counts, outside
}

// componentOf is the nearest component ancestor of a resource, or nil.
func componentOf(byURN map[string]*mockcloud.Resource, r *mockcloud.Resource) *mockcloud.Resource {
	for p := byURN[r.Parent]; p != nil; p = byURN[p.Parent] {
		if IsComponent(p.Type) {
			return p
		}
	}
	return nil
}
