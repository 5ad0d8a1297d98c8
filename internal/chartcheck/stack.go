package chartcheck

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/hybridcloud/platform/internal/clusterapi"
	"github.com/hybridcloud/platform/internal/mockcloud"
)

// ChartType is the type token of pulumi-kubernetes' helm.sh/v4 Chart.
const ChartType = "kubernetes:helm.sh/v4:Chart"

// Input is what Check needs to know about one stack.
type Input struct {
	Stack string
	// KubeVersion is the cluster's Kubernetes version, such as v1.35.4.
	KubeVersion string
	// Resources are the stack's resources as the mock cloud recorded them.
	Resources []*mockcloud.Resource
	// Repository holds the pinned chart archives.
	Repository *Repository
	// ClusterAPIs are the custom kinds the cluster itself provides.
	ClusterAPIs []clusterapi.API
}

// Stack is a stack's Helm releases rendered, with the program's own
// Kubernetes objects beside them.
type Stack struct {
	Name        string
	KubeVersion string
	Releases    []*Release
	Rendered    []*Rendered
	// RenderErrors holds the releases Helm refused to render.
	RenderErrors map[string]error
	// Program are the Kubernetes objects the program declares itself.
	Program  []*Object
	CRDs     *CRDs
	builtins []string
	// deps maps each recorded URN to the URNs it depends on.
	deps map[string][]string
}

// Deployed lists every object that reaches the cluster: the releases'
// non-hook objects and the program's own.
func (s *Stack) Deployed() []*Object {
	var out []*Object
	for _, r := range s.Rendered {
		out = append(out, r.Objects...)
	}
	return append(out, s.Program...)
}

// Build renders every Chart the stack declares. Helm's refusals are kept in
// RenderErrors, not returned: the caller reports them per release.
func Build(ctx context.Context, in Input) (*Stack, error) {
	builtins, err := ServedBuiltins(in.KubeVersion)
	if err != nil {
		return nil, err
	}
	s := &Stack{Name: in.Stack, KubeVersion: in.KubeVersion, RenderErrors: map[string]error{}, builtins: builtins, deps: map[string][]string{}}
	for _, r := range in.Resources {
		s.deps[r.URN] = r.DependsOn
		switch {
		case r.Type == ChartType:
			rel, err := releaseOf(r)
			if err != nil {
				return nil, err
			}
			s.Releases = append(s.Releases, rel)
		case strings.HasPrefix(r.Type, "kubernetes:") && r.Custom:
			o, err := programObject(r)
			if err != nil {
				return nil, err
			}
			s.Program = append(s.Program, o)
		}
	}
	if in.Repository == nil {
		return nil, errors.New("chartcheck: no chart repository")
	}
	// Two passes: the CRDs the charts render are API versions the other
	// charts may test for (.Capabilities.APIVersions.Has).
	if s.CRDs, err = newCRDs(nil, in.ClusterAPIs); err != nil {
		return nil, err
	}
	for pass := 0; pass < 2; pass++ {
		s.Rendered, s.RenderErrors = nil, map[string]error{}
		cluster := Cluster{KubeVersion: in.KubeVersion, APIVersions: append(slices.Clone(builtins), s.CRDs.APIVersions()...)}
		for _, rel := range s.Releases {
			out, err := in.Repository.Render(ctx, rel, cluster)
			if err != nil {
				s.RenderErrors[rel.Name] = err
				continue
			}
			s.Rendered = append(s.Rendered, out)
		}
		if s.CRDs, err = newCRDs(s.Rendered, in.ClusterAPIs); err != nil {
			return nil, err
		}
	}
	s.normalize()
	return s, nil
}

// normalize gives namespaced objects without a namespace the release's (or,
// for the program's objects, the provider default "default"), as the
// provider does before it registers them.
func (s *Stack) normalize() {
	for _, r := range s.Rendered {
		for _, o := range append(slices.Clone(r.Objects), r.Hooks...) {
			if o.Namespace == "" && s.namespaced(o) {
				o.Namespace = r.Release.Namespace
			}
		}
	}
	for _, o := range s.Program {
		if o.Namespace == "" && s.namespaced(o) {
			o.Namespace = "default"
		}
	}
}

func (s *Stack) namespaced(o *Object) bool {
	if c := s.CRDs.lookup(o.APIVersion, o.Kind); c != nil {
		return c.namespaced
	}
	return !slices.Contains(clusterScoped, o.Kind)
}

// served reports whether the cluster serves an object's apiVersion and
// where from.
func (s *Stack) served(o *Object) (bool, *crdVersion) {
	if c := s.CRDs.lookup(o.APIVersion, o.Kind); c != nil {
		return true, c
	}
	return slices.Contains(s.builtins, o.APIVersion+"/"+o.Kind), nil
}

// dependsOn reports whether the resource urn waits for target, directly or
// through the resources it waits for.
func (s *Stack) dependsOn(urn, target string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(u string) bool {
		if seen[u] {
			return false
		}
		seen[u] = true
		for _, d := range s.deps[u] {
			if d == target || walk(d) {
				return true
			}
		}
		return false
	}
	return walk(urn)
}

func releaseOf(r *mockcloud.Resource) (*Release, error) {
	in := plainMap(r.Inputs)
	rel := &Release{Resource: r.Name, URN: r.URN}
	rel.Chart, _ = in["chart"].(string)
	rel.Version, _ = in["version"].(string)
	rel.Namespace, _ = in["namespace"].(string)
	rel.Name, _ = in["name"].(string)
	if rel.Name == "" {
		rel.Name = r.Name
	}
	if opts, ok := in["repositoryOpts"].(map[string]any); ok {
		rel.Repo, _ = opts["repo"].(string)
	}
	rel.Values, _ = in["values"].(map[string]any)
	if rel.Chart == "" || rel.Version == "" {
		return nil, fmt.Errorf("chart %s: no chart name or version recorded", r.URN)
	}
	return rel, nil
}

func programObject(r *mockcloud.Resource) (*Object, error) {
	raw := plainMap(r.Inputs)
	o := &Object{Raw: raw, Source: "program: " + r.Name, URN: r.URN}
	o.APIVersion, _ = raw["apiVersion"].(string)
	o.Kind, _ = raw["kind"].(string)
	if o.APIVersion == "" || o.Kind == "" {
		return nil, fmt.Errorf("%s: no apiVersion or kind recorded", r.URN)
	}
	if meta, ok := raw["metadata"].(map[string]any); ok {
		o.Name, _ = meta["name"].(string)
		o.Namespace, _ = meta["namespace"].(string)
	}
	return o, nil
}

// plainMap turns recorded inputs into plain JSON-like data: secrets and
// known outputs unwrapped, numbers that are whole as int64 (as the API
// server decodes JSON), unknowns as the empty string.
func plainMap(m resource.PropertyMap) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if strings.HasPrefix(string(k), "__") {
			continue
		}
		out[string(k)] = plain(v)
	}
	return out
}

func plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return plain(v.SecretValue().Element)
	case v.IsOutput():
		if !v.OutputValue().Known {
			return ""
		}
		return plain(v.OutputValue().Element)
	case v.IsComputed():
		return ""
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		n := v.NumberValue()
		if n == float64(int64(n)) {
			return int64(n)
		}
		return n
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = plain(e)
		}
		return out
	case v.IsObject():
		return plainMap(v.ObjectValue())
	}
	return nil
}

// Finding is one way a stack's Kubernetes layer would fail on a real cluster.
type Finding struct {
	Release string // the release's ID, or "program"
	Path    string // the values path or object it concerns
	Rule    string // one of the Rule* constants
	Detail  string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: [%s] %s", f.Release, f.Path, f.Rule, f.Detail)
}

// Rules a finding can break.
const (
	RuleRender     = "render"          // Helm refused to render (schema, fail, template)
	RuleUnknownKey = "unknown-key"     // a values key the chart does not know
	RuleHookOnly   = "hook-only"       // a workload needs an object only a hook creates
	RuleMissingRef = "missing-object"  // a workload needs an object nothing creates
	RuleUnserved   = "unserved-api"    // an apiVersion the cluster does not serve
	RuleCRDSchema  = "crd-schema"      // a custom resource breaks its CRD's schema
	RuleCRDOrder   = "crd-before-use"  // a release uses a CRD it does not wait for
	RuleRepository = "repository"      // a chart not pulled from its pinned source
	RuleNoChart    = "chart-not-found" // the pinned chart is not in the repository
)

// Policy holds the per-chart exemptions of a check run.
type Policy struct {
	// FreeForm lists, per chart name, the values paths that hold the user's
	// own data.
	FreeForm map[string][]FreeForm
	// Runtime lists objects that controllers create after deployment.
	Runtime []RuntimeObject
}

// Check runs every check on a built stack.
func Check(ctx context.Context, s *Stack, p Policy) []Finding {
	var out []Finding
	byName := map[string]*Release{}
	for _, r := range s.Releases {
		byName[r.Name] = r
	}
	names := make([]string, 0, len(s.RenderErrors))
	for n := range s.RenderErrors {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, Finding{Release: byName[n].ID(), Path: "values", Rule: RuleRender, Detail: s.RenderErrors[n].Error()})
	}
	for _, r := range s.Rendered {
		for _, k := range UnknownValues(r.Chart, r.Release.Values, p.FreeForm[r.Release.Chart]) {
			out = append(out, Finding{Release: r.Release.ID(), Path: k.String(), Rule: RuleUnknownKey,
				Detail: "the chart declares no such key in its values.yaml (subcharts included) and no template reads it"})
		}
	}
	for _, m := range MissingRefs(s, p.Runtime) {
		rule := RuleMissingRef
		if m.HookOnly != "" {
			rule = RuleHookOnly
		}
		rel := "program"
		if r := byName[m.Release]; r != nil {
			rel = r.ID()
		}
		out = append(out, Finding{Release: rel, Path: m.Workload, Rule: rule, Detail: m.String()})
	}
	check := func(release, urn string, o *Object) {
		ok, crd := s.served(o)
		if !ok {
			out = append(out, Finding{Release: release, Path: o.Ref(), Rule: RuleUnserved,
				Detail: fmt.Sprintf("%s %s is served neither by Kubernetes %s (built-in) nor by a CRD of the stack or the cluster", o.APIVersion, o.Kind, s.KubeVersion)})
			return
		}
		if crd == nil {
			return
		}
		if crd.validate != nil {
			for _, problem := range crd.validate(ctx, o.Raw) {
				out = append(out, Finding{Release: release, Path: o.Ref(), Rule: RuleCRDSchema,
					Detail: fmt.Sprintf("%s %s (CRD from %s): %s", o.APIVersion, o.Kind, crd.from, problem)})
			}
		}
		if crd.release != "" {
			src := s.releaseByName(crd.release)
			if src != nil && src.URN != urn && !s.dependsOn(urn, src.URN) {
				out = append(out, Finding{Release: release, Path: o.Ref(), Rule: RuleCRDOrder,
					Detail: fmt.Sprintf("%s %s comes from a CRD of release %s, which this does not wait for: the first up fails with \"no matches for kind\"", o.APIVersion, o.Kind, src.Name)})
			}
		}
	}
	for _, r := range s.Rendered {
		for _, o := range r.Objects {
			check(r.Release.ID(), r.Release.URN, o)
		}
	}
	for _, o := range s.Program {
		check("program", o.URN, o)
	}
	return out
}

func (s *Stack) releaseByName(name string) *Release {
	for _, r := range s.Releases {
		if r.Name == name {
			return r
		}
	}
	return nil
}
