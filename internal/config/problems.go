package config

import (
	"fmt"
	"strings"
)

const (
	redacted = "<redacted>"
	unset    = "<unset>"
)

// Problem is one invalid config value.
type Problem struct {
	Key     string // fully qualified key path, e.g. hybrid-platform:network.vpcCidr
	Value   string // the bad value as given; secrets are redacted
	Allowed string // what is allowed instead
}

func (p Problem) String() string {
	return fmt.Sprintf("%s = %q: expected %s", p.Key, p.Value, p.Allowed)
}

// ValidationError carries every problem found in one stack's config.
type ValidationError struct {
	Stack    string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration for stack %s (%d problem", e.Stack, len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.String())
	}
	return b.String()
}

type problems []Problem

// add records a problem; key is relative to the project namespace.
func (p *problems) add(key, value, allowed string) {
	*p = append(*p, Problem{Key: Project + ":" + key, Value: value, Allowed: allowed})
}

func (p *problems) addf(key string, value any, allowed string, args ...any) {
	p.add(key, fmt.Sprint(value), fmt.Sprintf(allowed, args...))
}
