package chartcheck

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// Release is one helm.sh/v4 Chart as the program declared it.
type Release struct {
	// Resource is the Pulumi logical name of the Chart.
	Resource string
	// Name is the Helm release name (the Chart's name input, else Resource).
	Name      string
	Namespace string
	Chart     string
	Version   string
	Repo      string
	// Values are the Chart's values, plain: secrets unwrapped.
	Values map[string]any
	// URN of the Chart resource, for dependency checks.
	URN string
}

// ID names a release in findings: the Helm release and its chart.
func (r *Release) ID() string {
	return fmt.Sprintf("%s (%s %s)", r.Name, r.Chart, r.Version)
}

// Object is one rendered Kubernetes object.
type Object struct {
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	// Source is the chart template that rendered it.
	Source string
	// Hook lists the helm.sh/hook events of a hook object; empty otherwise.
	Hook string
	Raw  map[string]any
	// URN is the Pulumi resource of a program object (empty when rendered).
	URN string
}

// Ref names the object as kind namespace/name.
func (o *Object) Ref() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Rendered is a release rendered by Helm: the objects helm.sh/v4 Chart
// deploys, and the hook objects it never deploys.
type Rendered struct {
	Release *Release
	Chart   *chart.Chart
	Objects []*Object
	Hooks   []*Object
}

// Cluster is what a stack's cluster offers a render: its Kubernetes version
// and the API versions it serves (built-in and from CRDs).
type Cluster struct {
	// KubeVersion is a full version such as v1.35.4.
	KubeVersion string
	// APIVersions are group/version and group/version/Kind strings, as
	// .Capabilities.APIVersions holds them.
	APIVersions []string
}

// Render renders a release as pulumi-kubernetes' helm.sh/v4 Chart does
// (checked in provider/pkg/provider/helm/v4/chart.go at v4.25.0, the
// provider the SDK pins, and unchanged at v4.32.0: helm template with
// ClientOnly, DryRun, IncludeCRDs unless skipCrds, DisableHooks, the release
// name and namespace), with the stack's Kubernetes version and API versions.
// It uses the Helm library release that provider builds with (helm.sh/helm/v3
// v3.18.6, its provider/go.mod), compiled here against the Kubernetes 1.35
// libraries. The values schema, Chart.yaml's kubeVersion, template errors and
// `fail` calls all surface as the returned error.
func Render(ctx context.Context, ch *chart.Chart, r *Release, c Cluster) (*Rendered, error) {
	kv, err := chartutil.ParseKubeVersion(c.KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("kubernetes version %q: %w", c.KubeVersion, err)
	}
	cfg := &action.Configuration{Log: func(string, ...interface{}) {}}
	install := action.NewInstall(cfg)
	install.DryRun = true
	install.DryRunOption = "client"
	install.ClientOnly = true
	install.Replace = true
	install.IncludeCRDs = true
	install.DisableHooks = true
	install.ReleaseName = r.Name
	install.Namespace = r.Namespace
	install.KubeVersion = kv
	install.APIVersions = chartutil.VersionSet(c.APIVersions)
	rel, err := install.RunWithContext(ctx, ch, deepCopy(r.Values))
	if err != nil {
		return nil, err
	}
	out := &Rendered{Release: r, Chart: ch}
	if out.Objects, err = parseManifest(rel.Manifest, ""); err != nil {
		return nil, err
	}
	for _, h := range rel.Hooks {
		events := make([]string, len(h.Events))
		for i, e := range h.Events {
			events[i] = string(e)
		}
		objs, err := parseManifest("# Source: "+h.Path+"\n"+h.Manifest, strings.Join(events, ","))
		if err != nil {
			return nil, err
		}
		out.Hooks = append(out.Hooks, objs...)
	}
	return out, nil
}

// renderKey is everything a render depends on: the chart archive (name and
// version; the repository checks its digest), the release, its values and
// the cluster it renders for.
type renderKey struct {
	chart, version, name, namespace, values, kubeVersion, apiVersions string
}

type renderResult struct {
	out *Rendered
	err error
}

// Render loads a release's chart from the repository and renders it for a
// cluster (the package's Render), once per distinct input: a stack is built
// in two passes and the tests build each stack many times with one release
// changed, so most renders repeat one already made. Helm's split and parse
// of the manifests was three quarters of a build's CPU (pprof of
// tests/charts). Each caller gets its own copy of the objects (Build fills
// in namespaces); the chart, read only after its render, is shared.
func (r *Repository) Render(ctx context.Context, rel *Release, c Cluster) (*Rendered, error) {
	values, err := utiljson.Marshal(rel.Values) // map keys sorted: equal values, equal text
	if err != nil {
		return nil, fmt.Errorf("release %s: values: %w", rel.Name, err)
	}
	key := renderKey{rel.Chart, rel.Version, rel.Name, rel.Namespace, string(values), c.KubeVersion, strings.Join(c.APIVersions, "\n")}
	r.rendersMu.Lock()
	hit, ok := r.renders[key]
	r.rendersMu.Unlock()
	if !ok {
		hit.out, hit.err = r.render(ctx, rel, c)
		r.rendersMu.Lock()
		if r.renders == nil {
			r.renders = map[renderKey]renderResult{}
		}
		r.renders[key] = hit
		r.rendersMu.Unlock()
	}
	if hit.err != nil {
		return nil, hit.err
	}
	return &Rendered{Release: rel, Chart: hit.out.Chart, Objects: copyObjects(hit.out.Objects), Hooks: copyObjects(hit.out.Hooks)}, nil
}

func (r *Repository) render(ctx context.Context, rel *Release, c Cluster) (*Rendered, error) {
	ch, err := r.Load(rel.Chart, rel.Version)
	if err != nil {
		return nil, err
	}
	return Render(ctx, ch, rel, c)
}

func copyObjects(objs []*Object) []*Object {
	out := make([]*Object, len(objs))
	for i, o := range objs {
		c := *o
		c.Raw = copyValue(o.Raw).(map[string]any)
		out[i] = &c
	}
	return out
}

// copyValue deep-copies decoded JSON: maps, slices and scalars.
func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = copyValue(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyValue(e)
		}
		return out
	default:
		return v
	}
}

var sourceRe = regexp.MustCompile(`(?m)^# Source: (.+)$`)

// parseManifest splits a rendered manifest into objects. Namespaces are
// filled in later (Stack.normalize), once every CRD's scope is known.
func parseManifest(manifest, hook string) ([]*Object, error) {
	docs := releaseutil.SplitManifests(manifest)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return manifestIndex(keys[i]) < manifestIndex(keys[j]) })
	var out []*Object
	for _, k := range keys {
		doc := docs[k]
		source := ""
		if m := sourceRe.FindStringSubmatch(doc); m != nil {
			source = strings.TrimSpace(m[1])
		}
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		var raw map[string]any
		if err := utiljson.Unmarshal(js, &raw); err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		if len(raw) == 0 {
			continue
		}
		o := &Object{Source: source, Hook: hook, Raw: raw}
		o.APIVersion, _ = raw["apiVersion"].(string)
		o.Kind, _ = raw["kind"].(string)
		if meta, ok := raw["metadata"].(map[string]any); ok {
			o.Name, _ = meta["name"].(string)
			o.Namespace, _ = meta["namespace"].(string)
		}
		out = append(out, o)
	}
	return out, nil
}

// manifestIndex orders SplitManifests' keys (manifest-0, manifest-1, ...).
func manifestIndex(key string) int {
	n := 0
	_, _ = fmt.Sscanf(strings.TrimPrefix(key, "manifest-"), "%d", &n)
	return n
}

func deepCopy(v map[string]any) map[string]any {
	if v == nil {
		return map[string]any{}
	}
	var out map[string]any
	js, err := utiljson.Marshal(v)
	if err != nil {
		panic(err)
	}
	if err := utiljson.Unmarshal(js, &out); err != nil {
		panic(err)
	}
	return out
}
