package plan

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hybridcloud/platform/internal/mockcloud"
)

//go:embed durations.json
var durationsJSON []byte

// Duration is an assumed create time of a resource type (and, where the
// type varies, of one name, or of one name in one stack).
type Duration struct {
	Type    string `json:"type"`
	Name    string `json:"name,omitempty"`
	Stack   string `json:"stack,omitempty"`
	Seconds int    `json:"seconds"`
	Why     string `json:"why"`
}

// Durations is the table of assumed create times.
type Durations struct {
	KubernetesDefault Duration   `json:"kubernetesDefault"`
	Entries           []Duration `json:"entries"`
}

// LoadDurations reads the embedded table.
func LoadDurations() (*Durations, error) {
	var d Durations
	if err := json.Unmarshal(durationsJSON, &d); err != nil {
		return nil, fmt.Errorf("durations.json: %w", err)
	}
	return &d, nil
}

// For returns the assumed create time of a resource, and false when the
// table has nothing for a type that takes time to create.
func (d *Durations) For(stack string, r *mockcloud.Resource) (Duration, bool) {
	best, score := Duration{}, -1
	for _, e := range d.Entries {
		if e.Type != r.Type || (e.Name != "" && e.Name != r.Name) || (e.Stack != "" && e.Stack != stack) {
			continue
		}
		s := 0
		if e.Name != "" {
			s++
		}
		if e.Stack != "" {
			s++
		}
		if s > score {
			best, score = e, s
		}
	}
	if score >= 0 {
		return best, true
	}
	switch {
	case !r.Custom && r.Type != "kubernetes:helm.sh/v4:Chart":
		return Duration{Type: r.Type}, true // a component: its children take the time
	case strings.HasPrefix(r.Type, "pulumi:"):
		return Duration{Type: r.Type}, true
	case strings.HasPrefix(r.Type, "kubernetes:"):
		e := d.KubernetesDefault
		e.Type = r.Type
		return e, true
	}
	return Duration{Type: r.Type}, false
}

// ChainStep is one resource of the longest chain.
type ChainStep struct {
	Type    string `json:"type"`
	Name    string `json:"name"`
	Seconds int    `json:"seconds"`
}

// Chain is the longest dependency chain of a stack's first `pulumi up`: the
// resources that must be created one after another, each waiting for the
// one before, with the durations assumed for them.
type Chain struct {
	Seconds int         `json:"seconds"`
	Steps   []ChainStep `json:"steps"`
	// Unpriced lists types the durations table has no entry for; they count
	// as zero.
	Unpriced []string `json:"unpricedTypes,omitempty"`
}

// LongestChain finds the longest chain in the recorded graph: a resource
// starts when everything it depends on (dependsOn and the inputs it reads)
// and its provider have been created. A dependency on a component means
// its children (the SDK expands it before registering; a recorded one is
// expanded here the same way).
func LongestChain(stack string, rs []*mockcloud.Resource, d *Durations) *Chain {
	return LongestChainTo(stack, rs, d, func(*mockcloud.Resource) bool { return true })
}

// LongestChainTo is the longest chain that ends at a resource end selects.
// It returns nil when end selects nothing.
func LongestChainTo(stack string, rs []*mockcloud.Resource, d *Durations, end func(*mockcloud.Resource) bool) *Chain {
	byURN := map[string]*mockcloud.Resource{}
	children := map[string][]string{}
	for _, r := range rs {
		byURN[r.URN] = r
		if r.Parent != "" {
			children[r.Parent] = append(children[r.Parent], r.URN)
		}
	}
	unpriced := map[string]bool{}
	finish := map[string]int{}
	prev := map[string]string{}
	var visit func(urn string) int
	visiting := map[string]bool{}
	visit = func(urn string) int {
		if f, ok := finish[urn]; ok {
			return f
		}
		r := byURN[urn]
		if r == nil || visiting[urn] {
			return 0
		}
		visiting[urn] = true
		dur, ok := d.For(stack, r)
		if !ok {
			unpriced[r.Type] = true
		}
		deps := append([]string{}, r.DependsOn...)
		if r.Provider != "" {
			deps = append(deps, r.Provider)
		}
		if !r.Custom && r.Type != "kubernetes:helm.sh/v4:Chart" {
			deps = append(deps, children[urn]...) // a component ends with its children
		}
		start, from := 0, ""
		for _, dep := range deps {
			if f := visit(dep); f > start {
				start, from = f, dep
			}
		}
		visiting[urn] = false
		finish[urn] = start + dur.Seconds
		prev[urn] = from
		return finish[urn]
	}
	last := ""
	for _, r := range rs {
		if !end(r) {
			continue
		}
		if f := visit(r.URN); last == "" || f > finish[last] {
			last = r.URN
		}
	}
	if last == "" {
		return nil
	}
	c := &Chain{Seconds: finish[last]}
	for u := last; u != ""; u = prev[u] {
		r := byURN[u]
		dur, _ := d.For(stack, r)
		if dur.Seconds > 0 {
			c.Steps = append([]ChainStep{{Type: r.Type, Name: r.Name, Seconds: dur.Seconds}}, c.Steps...)
		}
	}
	for t := range unpriced {
		c.Unpriced = append(c.Unpriced, t)
	}
	sort.Strings(c.Unpriced)
	return c
}
