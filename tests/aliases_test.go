package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
)

// deployedURNs are the URNs a deployed stack holds: every resource of main
// at dbad644, the same at bf2ac5c (before the platform became a component and the components
// lost their stutter), planned under these mocks with prodRefs. They are a
// record of the past, never regenerated from the current program.
func deployedURNs(t *testing.T, stack string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "urns-"+stack+".txt"))
	require.NoError(t, err)
	urns := strings.Fields(string(raw))
	require.NotEmpty(t, urns)
	return urns
}

// A resource whose URN changed is deleted and created again unless an alias
// of the new program claims its old URN. Every resource a deployed stack
// holds must be declared again under its URN or claimed by exactly one alias.
func TestDeployedResourcesAreKept(t *testing.T) {
	for _, stack := range config.Stacks {
		t.Run(stack, func(t *testing.T) {
			olds := deployedURNs(t, stack)
			res := mustRun(t, prodRefs(stack))
			claims, err := claimOld(res.Project, stack, res.Cloud.Resources(), olds)
			require.NoError(t, err)
			var lost []string
			for _, old := range olds {
				if _, ok := claims[old]; !ok {
					lost = append(lost, old)
				}
			}
			assert.Empty(t, lost, "these would be deleted and created again: no resource has their URN or an alias to it")

			// The aliases are what keep them: without, the moved resources
			// (the platform's parts and the renamed components, with all
			// their children) would be replaced.
			var bare []*mockcloud.Resource
			for _, r := range res.Cloud.Resources() {
				c := *r
				c.Aliases = nil
				bare = append(bare, &c)
			}
			kept, err := claimOld(res.Project, stack, bare, olds)
			require.NoError(t, err)
			assert.Less(t, len(kept), len(olds), "some resources moved under a new parent or type")
		})
	}
}

// claimOld resolves the program's aliases against the old URNs as the
// engine does (pkg/v3 resource/deploy/step_generator.go@v3.274.1:
// getOldResource, generateAliases, collapseAliasToUrn, inheritedChildAlias)
// and returns, for each old URN kept, the new URN that keeps it. A resource
// matches its own URN first, then its aliases in order; a child inherits the
// old URN its parent matched. An old URN claimed twice is an error, as in
// the engine.
func claimOld(project, stack string, resources []*mockcloud.Resource, olds []string) (map[string]string, error) {
	old := map[resource.URN]bool{}
	for _, u := range olds {
		old[resource.URN(u)] = true
	}
	e := aliasResolver{project: project, stack: stack, matched: map[resource.URN]resource.URN{}}
	claims := map[string]string{}
	// parents register before their children
	for _, r := range byDepth(resources) {
		urn := resource.URN(r.URN)
		for _, candidate := range append([]resource.URN{urn}, e.aliases(r)...) {
			if !old[candidate] {
				continue
			}
			if by, dup := claims[string(candidate)]; dup {
				return nil, fmt.Errorf("%s is claimed by both %s and %s", candidate, by, urn)
			}
			claims[string(candidate)] = string(urn)
			if candidate != urn {
				e.matched[urn] = candidate
			}
			break
		}
	}
	return claims, nil
}

// aliasResolver computes a resource's alias URNs as the engine's step
// generator does; matched maps a new URN to the old URN it took over.
type aliasResolver struct {
	project, stack string
	matched        map[resource.URN]resource.URN
}

func (e aliasResolver) aliases(r *mockcloud.Resource) []resource.URN {
	var out []resource.URN
	add := func(u resource.URN) {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	parent := resource.URN(r.Parent)
	for _, a := range r.Aliases {
		add(e.collapse(r.Name, r.Type, parent, a))
	}
	if parentOld, ok := e.matched[parent]; ok && parent != "" {
		add(e.inherited(r.Type, r.Name, parent.Name(), parentOld))
		for _, a := range r.Aliases {
			c := e.collapse(r.Name, r.Type, parent, a)
			add(e.inherited(string(c.Type()), c.Name(), parent.Name(), parentOld))
		}
	}
	return out
}

// collapse is collapseAliasToUrn: unset parts of the alias are the
// resource's own; an alias parent that itself moved stands for its old URN.
func (e aliasResolver) collapse(name, typ string, parent resource.URN, a mockcloud.Alias) resource.URN {
	if a.URN != "" {
		return resource.URN(a.URN)
	}
	n, t, project, stack := or(a.Name, name), or(a.Type, typ), or(a.Project, e.project), or(a.Stack, e.stack)
	p := parent
	if a.ParentURN != "" {
		p = resource.URN(a.ParentURN)
		if old, ok := e.matched[p]; ok {
			p = old
		}
	}
	if a.NoParent {
		p = ""
	}
	return resource.CreateURN(n, t, p, project, stack)
}

// inherited is inheritedChildAlias: the child under its parent's old URN,
// with the parent's old name in place of a name prefix it shares.
func (e aliasResolver) inherited(childType, childName, parentName string, parentOld resource.URN) resource.URN {
	name := childName
	if after, ok := strings.CutPrefix(childName, parentName); ok {
		name = parentOld.Name() + after
	}
	return resource.NewURN(tokens.QName(e.stack), tokens.PackageName(e.project), parentOld.QualifiedType(), tokens.Type(childType), name)
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// byDepth orders resources so that every parent comes before its children.
func byDepth(resources []*mockcloud.Resource) []*mockcloud.Resource {
	byURN := map[string]*mockcloud.Resource{}
	for _, r := range resources {
		byURN[r.URN] = r
	}
	depth := func(r *mockcloud.Resource) int {
		d := 0
		for p := byURN[r.Parent]; p != nil; p = byURN[p.Parent] {
			d++
		}
		return d
	}
	out := slices.Clone(resources)
	slices.SortStableFunc(out, func(a, b *mockcloud.Resource) int { return depth(a) - depth(b) })
	return out
}
