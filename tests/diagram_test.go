package tests

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/diagram"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/plan"
)

// update rewrites the generated diagrams in docs/architecture.md:
//
//	go test ./tests/ -run TestArchitectureDiagrams -update
var update = flag.Bool("update", false, "rewrite the generated diagrams in docs/architecture.md")

var (
	planOnce  sync.Map // stack -> *plan.Result, planned as `go run ./cmd/plan --stack <stack>` does
	planMutex sync.Mutex
)

// plainPlan plans a stack exactly as the plan command does (no outputs
// given: onprem plans prod first, prod plans onprem), once per test binary.
func plainPlan(t *testing.T, stack string) *plan.Result {
	t.Helper()
	planMutex.Lock()
	defer planMutex.Unlock()
	if r, ok := planOnce.Load(stack); ok {
		return r.(*plan.Result)
	}
	res := mustRun(t, plan.Options{Stack: stack})
	planOnce.Store(stack, res)
	return res
}

// seedEdge is one edge of the seed's architecture diagram
// (/work/shared/seed/infrastructure-overview.md) with the generated node ids
// it becomes in one stack's diagram.
type seedEdge struct {
	seed     string // as drawn in the seed
	stack    string
	from, to string // generated node ids
}

// ownedSeedEdges are the seed's edges this program owns. Not owned: Users ->
// Cloudflare (clients), Developers -> GitHub and GitHub -> DOKS/Talos (the
// workflows under .github, not this program's resources). The seed's single
// Argo CD becomes one per cluster (docs/platform.md: GitOps), so ArgoCD -> DOKS is
// prod's and ArgoCD -> Talos onprem's; Prometheus/Loki -> Grafana hold in
// both stacks. Each stack sees the other as its StackReference node.
var ownedSeedEdges = []seedEdge{
	{"Cloudflare -->|Load Balance| DOKS", "prod", "cloudflare_lb_failover_lb", "doks_doks"},
	// the failover pool's origin is onprem's ingressAddress output
	{"Cloudflare -->|Failover| Talos", "prod", "cloudflare_lb_failover_lb", "stack_onprem"},
	// cluster state reaches Spaces through Velero's backups
	{"DOKS -->|State| DOSpaces", "prod", "velero_doks", "spaces_data_velero_bucket"},
	{"DOKS -->|Data| DODB", "prod", "doks_doks", "postgres_data_pg"},
	{"DOKS -->|Images| DORegistry", "prod", "doks_doks", "registry_doks_registry"},
	{"DOKS -->|Metrics| Prometheus", "prod", "doks_doks", "prometheus_doks"},
	{"DOKS -->|Logs| Loki", "prod", "doks_doks", "loki_doks"},
	{"ArgoCD -->|Manage| DOKS", "prod", "argocd_doks", "doks_doks"},
	{"Prometheus --> Grafana", "prod", "prometheus_doks", "grafana_doks"},
	{"Loki --> Grafana", "prod", "loki_doks", "grafana_doks"},
	// Talos reaches DOKS over WireGuard with the gateway endpoint and keys
	// from prod's outputs
	{"Talos -->|Sync| DOKS", "onprem", "talos_onprem", "stack_prod"},
	{"Talos -->|Storage| Storage", "onprem", "talos_onprem", "storage_onprem"},
	{"Talos -->|Metrics| Prometheus", "onprem", "talos_onprem", "prometheus_onprem"},
	{"ArgoCD -->|Manage| Talos", "onprem", "argocd_onprem", "talos_onprem"},
	{"Prometheus --> Grafana", "onprem", "prometheus_onprem", "grafana_onprem"},
	{"Loki --> Grafana", "onprem", "loki_onprem", "grafana_onprem"},
}

func TestDiagramHasTheSeedEdges(t *testing.T) {
	for _, e := range ownedSeedEdges {
		t.Run(e.stack+": "+e.seed, func(t *testing.T) {
			g := plainPlan(t, e.stack).Diagram()
			assert.True(t, g.HasEdge(e.from, e.to), "no edge %s --> %s in the %s diagram:\n%s", e.from, e.to, e.stack, g.Mermaid(""))
		})
	}
}

// The edges come from the records: take a resource away and its edge goes.
func TestDiagramEdgesFollowTheRecords(t *testing.T) {
	prod := plainPlan(t, "prod").Cloud.Resources()
	without := func(drop func(*mockcloud.Resource) bool) []*mockcloud.Resource {
		var out []*mockcloud.Resource
		for _, r := range prod {
			if !drop(r) {
				out = append(out, r)
			}
		}
		return out
	}
	cases := []struct {
		name     string
		drop     func(*mockcloud.Resource) bool
		from, to string
	}{
		{"no Loki chart, no DOKS -> Loki", func(r *mockcloud.Resource) bool { return r.Name == "loki" && strings.HasSuffix(r.Type, ":Chart") }, "doks_doks", "loki_doks"},
		{"no Loki chart, no Loki -> Grafana", func(r *mockcloud.Resource) bool { return r.Name == "loki" && strings.HasSuffix(r.Type, ":Chart") }, "loki_doks", "grafana_doks"},
		{"no database firewall, no DOKS -> PostgreSQL", func(r *mockcloud.Resource) bool { return strings.HasSuffix(r.Type, ":DatabaseFirewall") }, "doks_doks", "postgres_data_pg"},
		{"no onprem pool, no failover to onprem", func(r *mockcloud.Resource) bool { return r.Name == "failover-pool-onprem" }, "cloudflare_lb_failover_lb", "stack_onprem"},
		{"no Argo CD, no ArgoCD -> DOKS", func(r *mockcloud.Resource) bool { return r.Name == "argocd" }, "argocd_doks", "doks_doks"},
	}
	require.True(t, diagram.Build(prod, diagram.Options{}).HasEdge("doks_doks", "loki_doks"))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.True(t, diagram.Build(prod, diagram.Options{}).HasEdge(c.from, c.to), "the full plan has the edge")
			assert.False(t, diagram.Build(without(c.drop), diagram.Options{}).HasEdge(c.from, c.to))
		})
	}
}

var mermaidID = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Valid Mermaid: ids are plain identifiers, labels quoted; deterministic.
func TestDiagramIsValidAndStable(t *testing.T) {
	for _, stack := range config.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := plainPlan(t, stack)
			g := res.Diagram()
			require.NotEmpty(t, g.Nodes)
			ids := map[string]bool{}
			for _, n := range g.Nodes {
				assert.Regexp(t, mermaidID, n.ID)
				assert.NotContains(t, n.Label, `"`)
				assert.False(t, ids[n.ID], "duplicate node %s", n.ID)
				ids[n.ID] = true
			}
			for _, gr := range g.Groups {
				assert.Regexp(t, mermaidID, gr.ID)
				assert.False(t, ids[gr.ID], "group id %s is also a node", gr.ID)
			}
			for _, e := range g.Edges {
				assert.True(t, ids[e.From] && ids[e.To], "edge %s --> %s to an unknown node", e.From, e.To)
			}
			out := res.Mermaid()
			assert.True(t, strings.HasPrefix(out, "graph TB\n"))
			assert.Equal(t, out, res.Mermaid(), "two renderings differ")
			assert.NotContains(t, out, "-----BEGIN", "no secret material in the diagram")
		})
	}
}

// The diagrams in docs/architecture.md are generated; this fails when they
// are stale.
func TestArchitectureDiagrams(t *testing.T) {
	const doc = "docs/architecture.md"
	path := filepath.Join(projectDir(t), filepath.FromSlash(doc))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(raw)
	for _, stack := range config.Stacks {
		begin, end := "<!-- diagram:"+stack+":begin -->\n", "<!-- diagram:"+stack+":end -->"
		i, j := strings.Index(text, begin), strings.Index(text, end)
		require.True(t, i >= 0 && j > i, "%s has no %q ... %q markers", doc, begin, end)
		want := "```mermaid\n" + plainPlan(t, stack).Mermaid() + "```\n"
		if *update {
			text = text[:i+len(begin)] + want + text[j:]
			continue
		}
		assert.Equal(t, want, text[i+len(begin):j],
			"the %s diagram in %s is stale: run `go test ./tests/ -run TestArchitectureDiagrams -update` (or paste `go run ./cmd/plan --stack %s --format mermaid`)", stack, doc, stack)
	}
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
}
