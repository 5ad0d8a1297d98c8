package config

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// kindKeys lists the object keys each kind of environment reads. A key a
// kind does not list is ignored by its stacks. "kind" and "production" are
// read before these, by every stack.
var kindKeys = map[EnvKind][]string{
	KindDigitalOcean: {"network", "alertEmail", "gateway", "doks", "registry", "database", "spaces", "edge", "costBudgetUsd", "platform"},
	KindOnprem:       {"network", "alertEmail", "talos", "storage", "pullSecret", "prodStackRef", "platform"},
}

// UnknownStackError is returned for a stack name that cannot name an
// environment's resources.
type UnknownStackError struct{ Stack string }

func (e *UnknownStackError) Error() string {
	return fmt.Sprintf("stack name %q cannot name an environment: want a lowercase DNS label such as staging (its resources are named after it)", e.Stack)
}

// CheckStack returns an UnknownStackError for a stack name that cannot
// prefix resource names. Any such name is an environment: its config file
// says what it is (key "kind").
func CheckStack(stack string) error {
	if !dnsLabelRe.MatchString(stack) {
		return &UnknownStackError{Stack: stack}
	}
	return nil
}

// ReadKind reads the stack's kind (key "kind"), the composition it runs.
// The problem, when there is one, names the key, the value and every kind.
func ReadKind(lookup Lookup) (EnvKind, *Problem) {
	raw, ok, _ := lookup("kind")
	if !ok || !slices.Contains(Kinds, EnvKind(raw)) {
		if !ok {
			raw = unset
		}
		var p problems
		p.add("kind", raw, "the environment's kind: "+list(KindNames()))
		return "", &p[0]
	}
	return EnvKind(raw), nil
}

// KindNames are the allowed values of "kind", as text.
func KindNames() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = string(k)
	}
	return out
}

// ReadProduction reads the key "production": true unless it is set to
// false, so that a stack that does not say is held to production's
// guardrails.
func ReadProduction(lookup Lookup) (bool, *Problem) {
	raw, ok, _ := lookup("production")
	switch {
	case !ok || raw == "true":
		return true, nil
	case raw == "false":
		return false, nil
	}
	var p problems
	p.add("production", raw, "true or false (false relaxes production's guardrails: HA control plane, pool and database floors)")
	return true, &p[0]
}

// Load reads and validates the configuration of the current stack. It
// declares no resource; every problem found is reported in one error.
func Load(ctx *pulumi.Context) (*Config, error) {
	return LoadFrom(ctx.Stack(), ContextLookup(ctx))
}

// ContextLookup reads the stack's config through a Pulumi context: the
// program's, or the one the policy pack is configured with.
func ContextLookup(ctx *pulumi.Context) Lookup {
	return func(key string) (string, bool, bool) {
		full := Project + ":" + key
		v, ok := ctx.GetConfig(full)
		return v, ok, ctx.IsConfigSecret(full)
	}
}

// ReadEdge decodes the edge section alone, for a reader that does not load
// the whole config: the policy pack, which holds the stack's monitor to
// edge.detectionObjectiveSeconds. ok is false when the stack has no edge
// section. The program validates the section (Load); this only decodes it.
func ReadEdge(lookup Lookup) (e Edge, ok bool, err error) {
	raw, ok, _ := lookup("edge")
	if !ok {
		return Edge{}, false, nil
	}
	if err := decode(raw, &e); err != nil {
		return Edge{}, true, fmt.Errorf("%s:edge: %w", Project, err)
	}
	return e, true, nil
}

// Lookup returns a config value by its unqualified key, whether it is set,
// and whether it is stored as a secret.
type Lookup func(key string) (value string, ok bool, secret bool)

// LoadFrom reads and validates a stack's configuration through lookup.
func LoadFrom(stack string, lookup Lookup) (*Config, error) {
	if err := CheckStack(stack); err != nil {
		return nil, err
	}
	var p problems
	kind, kindProblem := ReadKind(lookup)
	production, prodProblem := ReadProduction(lookup)
	for _, pr := range []*Problem{kindProblem, prodProblem} {
		if pr != nil {
			p = append(p, *pr)
		}
	}
	if kindProblem != nil {
		// Which keys and secrets to read depends on the kind.
		return nil, &ValidationError{Stack: stack, Problems: p}
	}
	cfg := &Config{Stack: stack, Kind: kind, Production: production}
	targets := map[string]any{
		"network":       &cfg.Network,
		"alertEmail":    &cfg.AlertEmail,
		"gateway":       &cfg.Gateway,
		"doks":          &cfg.Doks,
		"registry":      &cfg.Registry,
		"database":      &cfg.Database,
		"spaces":        &cfg.Spaces,
		"edge":          &cfg.Edge,
		"costBudgetUsd": &cfg.CostBudgetUSD,
		"talos":         &cfg.Talos,
		"storage":       &cfg.Storage,
		"pullSecret":    &cfg.PullSecret,
		"prodStackRef":  &cfg.ProdStackRef,
		"platform":      &cfg.Platform,
	}
	for _, key := range kindKeys[kind] {
		raw, ok, _ := lookup(key)
		if !ok {
			p.add(key, unset, "a value: it is required by kind "+string(kind)+" (Pulumi.yaml describes its fields)")
			continue
		}
		if err := decode(raw, targets[key]); err != nil && !fieldProblems(&p, key, raw, targets[key]) {
			p.add(key, raw, "valid "+key+" settings: "+err.Error())
		}
	}
	for _, spec := range SecretSpecsFor(kind) {
		raw, ok, secret := lookup(spec.Key)
		switch {
		case !ok || (!secret && raw == ""):
			// Empty and not secret is Pulumi.yaml's default for a key that
			// only some stacks read: unset.
			p.add(spec.Key, unset, fmt.Sprintf("a secret value: pulumi config set --secret %s <value> (%s)", spec.Key, spec.Help))
		case !secret:
			p.add(spec.Key, redacted, "a secret: it is stored in plaintext; set it again with pulumi config set --secret "+spec.Key)
		default:
			if msg := spec.check(raw); msg != "" {
				p.add(spec.Key, redacted, msg)
			}
			cfg.Secrets.set(spec.Key, raw)
		}
	}
	if len(p) == 0 {
		p = append(p, validate(cfg)...)
	}
	if len(p) > 0 {
		return nil, &ValidationError{Stack: stack, Problems: p}
	}
	return cfg, nil
}

// decode reads a JSON config value strictly: unknown fields are errors, so a
// misspelt setting is never silently ignored. Plain strings are accepted for
// string targets as Pulumi passes them unquoted.
func decode(raw string, target any) error {
	if s, ok := target.(*string); ok {
		*s = raw
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	return dec.Decode(target)
}

// fieldProblems explains a value that did not decode into target, field by
// field: a field target does not have (a misspelt key), a value of the wrong
// JSON type and a text the field's type refuses (a CIDR or an address that
// does not parse) each become a problem naming its own key path and value.
// encoding/json stops at the first error and names no key for the last two.
// It reports whether it found any; if not, json's own message is used.
func fieldProblems(p *problems, key, raw string, target any) bool {
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return false
	}
	return walkFields(p, key, v, reflect.TypeOf(target).Elem())
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// textAllowed says what a text-decoded field takes.
var textAllowed = map[reflect.Type]string{
	reflect.TypeFor[netip.Prefix](): "a CIDR such as 10.100.0.0/16",
	reflect.TypeFor[netip.Addr]():   "an IP address such as 192.168.10.10",
}

// walkFields checks the decoded JSON value v against the type t it must
// decode into, adding a problem under key for each mismatch.
func walkFields(p *problems, key string, v any, t reflect.Type) bool {
	if v == nil { // null leaves the field unset; validation judges that
		return false
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		s, ok := v.(string)
		if !ok {
			p.add(key, jsonText(v), "a string: "+textAllowed[t])
			return true
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			allowed, known := textAllowed[t]
			if !known {
				allowed = err.Error()
			}
			p.add(key, s, allowed)
			return true
		}
		return false
	}
	mismatch := func(want string) bool {
		p.add(key, jsonText(v), want)
		return true
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			return mismatch("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return mismatch("true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			return mismatch("a whole number")
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return mismatch("an object")
		}
		return walkObject(p, key, obj, t)
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return mismatch("a list")
		}
		found := false
		for i, e := range arr {
			found = walkFields(p, fmt.Sprintf("%s[%d]", key, i), e, t.Elem()) || found
		}
		return found
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return mismatch("an object")
		}
		found := false
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			found = walkFields(p, key+"."+k, obj[k], t.Elem()) || found
		}
		return found
	case reflect.Pointer:
		return walkFields(p, key, v, t.Elem())
	}
	return false
}

// walkObject checks a JSON object against a struct: each key must name a
// field (matched as encoding/json does, ignoring case) and fit its type.
func walkObject(p *problems, key string, obj map[string]any, t reflect.Type) bool {
	fields := map[string]reflect.Type{}
	var names []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		fields[strings.ToLower(name)] = f.Type
		names = append(names, name)
	}
	found := false
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		ft, ok := fields[strings.ToLower(k)]
		if !ok {
			p.add(key+"."+k, jsonText(obj[k]), "a field of "+key+": "+strings.Join(names, ", "))
			found = true
			continue
		}
		found = walkFields(p, key+"."+k, obj[k], ft) || found
	}
	return found
}

// jsonText renders a decoded JSON value for a problem: strings as they are,
// anything else as JSON.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// KeysFor returns the non-secret config keys the stacks of a kind read.
func KeysFor(kind EnvKind) []string { return append([]string{"kind", "production"}, kindKeys[kind]...) }
