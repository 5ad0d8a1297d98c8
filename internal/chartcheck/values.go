package chartcheck

import (
	"regexp"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
)

// FreeForm is a values path whose children are the user's own data, not
// settings of the chart: a label map, a Kubernetes object the chart renders
// whole with toYaml, an application's config file. Keys below it are not
// checked.
type FreeForm struct {
	Path   string // dotted, relative to the top-level chart
	Reason string
}

// UnknownKey is a values key that the chart neither declares in its values
// (subcharts included) nor reads in any template.
type UnknownKey struct {
	Path []string
}

// String joins the path with dots; a key that holds dots is quoted.
func (k UnknownKey) String() string { return joinPath(k.Path) }

func joinPath(p []string) string {
	parts := make([]string, len(p))
	for i, s := range p {
		if strings.ContainsAny(s, ". ") {
			s = `"` + s + `"`
		}
		parts[i] = s
	}
	return strings.Join(parts, ".")
}

// UnknownValues returns the values keys of a release that its chart does not
// know. A key is known when the chart's values.yaml (or, below a
// dependency's name, the dependency's values.yaml) declares that exact path,
// or when a template of the chart reads it or something below it
// (.Values.a.b, index .Values "a" "b"). global.* is known when any chart of
// the tree knows it. Arrays and scalars are leaves. Paths under a FreeForm
// entry are skipped.
func UnknownValues(ch *chart.Chart, values map[string]any, free []FreeForm) []UnknownKey {
	k := &knowledge{refs: map[*chart.Chart][][]string{}}
	var out []UnknownKey
	for _, leaf := range leaves(values, nil) {
		if underFreeForm(leaf, free) {
			continue
		}
		if !k.known(ch, leaf) {
			out = append(out, UnknownKey{Path: leaf})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func underFreeForm(p []string, free []FreeForm) bool {
	s := joinPath(p)
	for _, f := range free {
		if s == f.Path || strings.HasPrefix(s, f.Path+".") {
			return true
		}
	}
	return false
}

// leaves lists the paths to every non-map value and every empty map.
func leaves(v map[string]any, prefix []string) [][]string {
	var out [][]string
	for key, val := range v {
		p := append(append([]string{}, prefix...), key)
		if m, ok := val.(map[string]any); ok && len(m) > 0 {
			out = append(out, leaves(m, p)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

type knowledge struct {
	refs map[*chart.Chart][][]string
}

func (k *knowledge) known(ch *chart.Chart, p []string) bool {
	if declared(ch.Values, p) || k.read(ch, p) {
		return true
	}
	if len(p) > 1 {
		if sub := dependency(ch, p[0]); sub != nil && k.known(sub, p[1:]) {
			return true
		}
	}
	if p[0] == "global" {
		for _, sub := range ch.Dependencies() {
			if k.known(sub, p) {
				return true
			}
		}
	}
	return false
}

// declared reports whether values.yaml holds exactly this path.
func declared(defaults map[string]any, p []string) bool {
	cur := defaults
	for i, key := range p {
		v, ok := cur[key]
		if !ok {
			return false
		}
		if i == len(p)-1 {
			return true
		}
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		cur = m
	}
	return true
}

// dependency returns the subchart that a top-level values key configures:
// the dependency's alias, or its name.
func dependency(ch *chart.Chart, key string) *chart.Chart {
	names := map[string]string{}
	if ch.Metadata != nil {
		for _, d := range ch.Metadata.Dependencies {
			alias := d.Name
			if d.Alias != "" {
				alias = d.Alias
			}
			names[d.Name] = alias
		}
	}
	for _, sub := range ch.Dependencies() {
		alias, ok := names[sub.Name()]
		if !ok {
			alias = sub.Name()
		}
		if alias == key {
			return sub
		}
	}
	return nil
}

var (
	valuesRefRe = regexp.MustCompile(`\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)`)
	indexRefRe  = regexp.MustCompile(`index\s+\$?\.Values((?:\s+"[^"]*")+)`)
	// dig "a" "b" <default> .Values.x: the quoted keys below .Values.x.
	digRefRe = regexp.MustCompile(`dig((?:\s+"[^"]*")+)\s+("[^"]*"|[^\s"]+)\s+\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)*)`)
	quotedRe = regexp.MustCompile(`"([^"]*)"`)
)

// read reports whether a template of the chart (not its subcharts, whose
// .Values is their own) reads the path or something below it.
func (k *knowledge) read(ch *chart.Chart, p []string) bool {
	refs, ok := k.refs[ch]
	if !ok {
		refs = templateRefs(ch)
		k.refs[ch] = refs
	}
	for _, r := range refs {
		if len(r) >= len(p) && equalPrefix(r, p) {
			return true
		}
	}
	return false
}

// templateRefs collects the values paths a chart's templates read: in its
// template files, and in template strings inside its values.yaml (such as
// loki's loki.config), which the chart renders with tpl.
func templateRefs(ch *chart.Chart) [][]string {
	var texts []string
	for _, f := range ch.Templates {
		texts = append(texts, string(f.Data))
	}
	texts = append(texts, valueTemplates(ch.Values)...)
	var refs [][]string
	quoted := func(s string) []string {
		var out []string
		for _, q := range quotedRe.FindAllStringSubmatch(s, -1) {
			out = append(out, q[1])
		}
		return out
	}
	for _, text := range texts {
		for _, m := range valuesRefRe.FindAllStringSubmatch(text, -1) {
			refs = append(refs, strings.Split(strings.TrimPrefix(m[1], "."), "."))
		}
		for _, m := range indexRefRe.FindAllStringSubmatch(text, -1) {
			refs = append(refs, quoted(m[1]))
		}
		for _, m := range digRefRe.FindAllStringSubmatch(text, -1) {
			var base []string
			if m[3] != "" {
				base = strings.Split(strings.TrimPrefix(m[3], "."), ".")
			}
			refs = append(refs, append(base, quoted(m[1])...))
		}
	}
	return refs
}

// valueTemplates returns the string values of values.yaml that hold
// template actions.
func valueTemplates(v any) []string {
	switch t := v.(type) {
	case string:
		if strings.Contains(t, "{{") {
			return []string{t}
		}
	case map[string]any:
		var out []string
		for _, e := range t {
			out = append(out, valueTemplates(e)...)
		}
		return out
	case []any:
		var out []string
		for _, e := range t {
			out = append(out, valueTemplates(e)...)
		}
		return out
	}
	return nil
}

func equalPrefix(long, short []string) bool {
	for i := range short {
		if long[i] != short[i] {
			return false
		}
	}
	return true
}
