package diagram

import (
	"fmt"
	"sort"
	"strings"
)

// graph sorts nodes, groups and edges so that two runs render identically,
// and merges the labels of each edge.
func (b *builder) graph() *Graph {
	g := &Graph{}
	for _, n := range b.nodes {
		g.Nodes = append(g.Nodes, *n)
	}
	sort.Slice(g.Nodes, func(i, j int) bool { return g.Nodes[i].ID < g.Nodes[j].ID })
	used := map[string]bool{}
	for _, n := range b.nodes {
		for id := n.Group; id != "" && !used[id]; id = b.groups[id].Parent {
			used[id] = true
		}
	}
	for _, gr := range b.groups {
		if used[gr.ID] { // a subgraph without nodes is left out
			g.Groups = append(g.Groups, *gr)
		}
	}
	sort.Slice(g.Groups, func(i, j int) bool { return g.Groups[i].ID < g.Groups[j].ID })
	for k, labels := range b.edges {
		if b.nodes[k[0]] == nil || b.nodes[k[1]] == nil {
			continue
		}
		g.Edges = append(g.Edges, Edge{From: k[0], To: k[1], Label: mergeLabels(labels)})
	}
	sort.Slice(g.Edges, func(i, j int) bool {
		if g.Edges[i].From != g.Edges[j].From {
			return g.Edges[i].From < g.Edges[j].From
		}
		return g.Edges[i].To < g.Edges[j].To
	})
	return g
}

func mergeLabels(set map[string]bool) string {
	var plain, reads []string
	for l := range set {
		if k, ok := strings.CutPrefix(l, readsPrefix); ok {
			reads = append(reads, k)
		} else {
			plain = append(plain, l)
		}
	}
	sort.Strings(plain)
	sort.Strings(reads)
	if len(reads) > 0 {
		plain = append(plain, readsPrefix+strings.Join(reads, ", "))
	}
	return strings.Join(plain, "; ")
}

// classes are the node colours, as in the seed's diagram.
var classes = []string{
	"classDef doks fill:#0080ff,color:#fff",
	"classDef talos fill:#ff6600,color:#fff",
	"classDef cloudflare fill:#f48120,color:#fff",
}

// Mermaid renders the graph as a Mermaid flowchart. The title comment names
// the command that generated it.
func (g *Graph) Mermaid(title string) string {
	var sb strings.Builder
	sb.WriteString("graph TB\n")
	if title != "" {
		fmt.Fprintf(&sb, "    %%%% %s\n", title)
	}
	children := map[string][]Group{}
	for _, gr := range g.Groups {
		children[gr.Parent] = append(children[gr.Parent], gr)
	}
	members := map[string][]Node{}
	for _, n := range g.Nodes {
		members[n.Group] = append(members[n.Group], n)
	}
	var write func(group, indent string)
	write = func(group, indent string) {
		for _, n := range members[group] {
			fmt.Fprintf(&sb, "%s%s[\"%s\"]\n", indent, n.ID, quote(n.Label))
		}
		for _, gr := range children[group] {
			fmt.Fprintf(&sb, "%ssubgraph %s[\"%s\"]\n", indent, gr.ID, quote(gr.Label))
			write(gr.ID, indent+"    ")
			fmt.Fprintf(&sb, "%send\n", indent)
		}
	}
	write("", "    ")
	for _, e := range g.Edges {
		if e.Label == "" {
			fmt.Fprintf(&sb, "    %s --> %s\n", e.From, e.To)
			continue
		}
		fmt.Fprintf(&sb, "    %s -->|\"%s\"| %s\n", e.From, quote(e.Label), e.To)
	}
	for _, c := range classes {
		fmt.Fprintf(&sb, "    %s\n", c)
	}
	for _, n := range g.Nodes {
		if n.Class != "" {
			fmt.Fprintf(&sb, "    class %s %s\n", n.ID, n.Class)
		}
	}
	return sb.String()
}

// quote escapes a label for a quoted Mermaid string.
func quote(s string) string {
	return strings.ReplaceAll(s, `"`, "#quot;")
}
