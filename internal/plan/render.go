package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/hybridcloud/platform/internal/cost"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/policy"
)

// Redacted is how every secret is printed.
const Redacted = "[secret]"

// Unknown is how a value not known until apply is printed.
const Unknown = "[unknown]"

// Document is the JSON form of a plan.
type Document struct {
	Project   string         `json:"project"`
	Stack     string         `json:"stack"`
	Resources []ResourceDoc  `json:"resources"`
	Outputs   map[string]any `json:"outputs"`
	Policy    PolicyDoc      `json:"policy"`
	Cost      *cost.Estimate `json:"cost"`
	Budget    int            `json:"costBudgetUsd,omitempty"`
	StandIns  []string       `json:"secretStandIns,omitempty"`
	StackRefs []StackRef     `json:"stackReferences,omitempty"`
	Figures   Figures        `json:"figures"`
	// Support is each cluster version's end of support and days left.
	Support []cost.SupportStatus `json:"support"`
	// Warnings are those the Pulumi run logs (versions past end of support).
	Warnings []string `json:"warnings"`
}

// PolicyDoc is the guardrail report of a plan.
type PolicyDoc struct {
	Pack       string             `json:"pack"`
	Policies   []string           `json:"policies"`
	Violations []policy.Violation `json:"violations"`
}

// ResourceDoc is one resource in the JSON plan.
type ResourceDoc struct {
	URN       string         `json:"urn"`
	Type      string         `json:"type"`
	Name      string         `json:"name"`
	Parent    string         `json:"parent"`
	Provider  string         `json:"provider"`
	Protect   bool           `json:"protect"`
	DependsOn []string       `json:"dependsOn"`
	Inputs    map[string]any `json:"inputs"`
}

// Doc builds the JSON document, with every secret redacted.
func (r *Result) Doc() Document {
	d := Document{Project: r.Project, Stack: r.Stack, Outputs: map[string]any{}, StandIns: r.StandIns, StackRefs: r.StackRefs, Resources: []ResourceDoc{},
		Policy: PolicyDoc{Pack: policy.PackName, Policies: policy.Names(), Violations: r.Violations},
		Cost:   r.Cost, Budget: r.Budget, Figures: r.Figures(), Support: r.Support, Warnings: r.Warnings}
	if d.Support == nil {
		d.Support = []cost.SupportStatus{}
	}
	if d.Warnings == nil {
		d.Warnings = []string{}
	}
	if d.Policy.Violations == nil {
		d.Policy.Violations = []policy.Violation{}
	}
	for _, res := range r.Cloud.Resources() {
		deps := res.DependsOn
		if deps == nil {
			deps = []string{}
		}
		d.Resources = append(d.Resources, ResourceDoc{
			URN: res.URN, Type: res.Type, Name: res.Name, Parent: res.Parent, Provider: res.Provider,
			Protect: res.Protect, DependsOn: deps, Inputs: Plain(res.Inputs),
		})
	}
	for k, o := range r.Outputs {
		d.Outputs[k] = plainOutput(o)
	}
	return d
}

// WriteJSON writes the plan as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.Doc())
}

func plainOutput(o Output) any {
	switch {
	case o.Secret:
		return Redacted
	case !o.Known:
		return Unknown
	}
	return redactAny(o.Value)
}

// redactAny turns an awaited Go value into JSON-ready data; nested outputs
// keep their secrecy.
func redactAny(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// Plain converts recorded inputs to JSON-ready data under their Pulumi
// property names; secrets become [secret].
func Plain(m resource.PropertyMap) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[string(k)] = plainValue(v)
	}
	return out
}

func plainValue(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return Redacted
	case v.IsComputed():
		return Unknown
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			return Redacted
		}
		if !o.Known {
			return Unknown
		}
		return plainValue(o.Element)
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsObject():
		return Plain(v.ObjectValue())
	case v.IsArray():
		arr := []any{}
		for _, e := range v.ArrayValue() {
			arr = append(arr, plainValue(e))
		}
		return arr
	case v.IsNull():
		return nil
	}
	return v.V
}

// WriteText writes the plan as a tree by parent, each resource with its type,
// name, protection and key settings, then the stack outputs.
func (r *Result) WriteText(w io.Writer) {
	all := r.Cloud.Resources()
	children := map[string][]*mockcloud.Resource{}
	for _, res := range all {
		children[res.Parent] = append(children[res.Parent], res)
	}
	fmt.Fprintf(w, "%s/%s: %d resources (offline plan, mock cloud)\n", r.Project, r.Stack, len(all))
	for _, ref := range r.StackRefs {
		fmt.Fprintf(w, "stack reference %s: outputs from %s\n", ref.Name, ref.Source)
	}
	var walk func(parent, indent string)
	walk = func(parent, indent string) {
		kids := children[parent]
		for i, res := range kids {
			branch, next := "├─ ", "│  "
			if i == len(kids)-1 {
				branch, next = "└─ ", "   "
			}
			flags := ""
			if res.Protect {
				flags += " [protected]"
			}
			if res.Provider != "" {
				flags += " [provider " + lastSegment(res.Provider) + "]"
			}
			fmt.Fprintf(w, "%s%s%s %s%s\n", indent, branch, res.Type, res.Name, flags)
			if len(res.DependsOn) > 0 {
				names := make([]string, len(res.DependsOn))
				for i, d := range res.DependsOn {
					names[i] = shortName(d)
				}
				fmt.Fprintf(w, "%s%s    after: %s\n", indent, next, strings.Join(names, ", "))
			}
			for _, s := range keySettings(res) {
				fmt.Fprintf(w, "%s%s    %s\n", indent, next, s)
			}
			walk(res.URN, indent+next)
		}
	}
	walk("", "")
	if len(r.StandIns) > 0 {
		fmt.Fprintf(w, "\nsecret stand-ins (secure config the plan cannot decrypt): %s\n", strings.Join(r.StandIns, ", "))
	}
	r.writeFigures(w)
	r.writeCost(w)
	fmt.Fprintf(w, "\npolicy %s: %d mandatory guardrails, %d violations\n", policy.PackName, len(policy.Names()), len(r.Violations))
	for _, v := range r.Violations {
		fmt.Fprintf(w, "  VIOLATION %s\n", v)
	}
	fmt.Fprintln(w, "\noutputs:")
	keys := make([]string, 0, len(r.Outputs))
	for k := range r.Outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b, _ := json.Marshal(plainOutput(r.Outputs[k]))
		fmt.Fprintf(w, "  %s: %s\n", k, truncate(string(b), 160))
	}
}

// shortName is a URN's resource kind and name, such as "Bootstrap onprem".
func shortName(urn string) string {
	u := resource.URN(urn)
	typ := string(u.Type())
	if i := strings.LastIndex(typ, ":"); i >= 0 {
		typ = typ[i+1:]
	}
	return typ + " " + u.Name()
}

func lastSegment(urn string) string {
	if i := strings.LastIndex(urn, "::"); i >= 0 {
		return urn[i+2:]
	}
	return urn
}

// maxSettings bounds the settings printed per resource in the text tree.
const maxSettings = 14

// keySettings flattens scalar inputs to dotted paths, sorted.
func keySettings(res *mockcloud.Resource) []string {
	var out []string
	var flat func(prefix string, v any)
	flat = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				flat(join(prefix, k), t[k])
			}
		case []any:
			if len(t) == 0 {
				return
			}
			// Scalars print on one line; documents (multi-line strings)
			// and nested values one element per line.
			scalars := true
			for _, e := range t {
				switch v := e.(type) {
				case map[string]any, []any:
					scalars = false
				case string:
					scalars = scalars && !strings.Contains(v, "\n")
				}
			}
			if scalars {
				b, _ := json.Marshal(t)
				out = append(out, prefix+"="+truncate(string(b), 90))
				return
			}
			for i, e := range t {
				flat(fmt.Sprintf("%s[%d]", prefix, i), e)
			}
		case string:
			if strings.Contains(t, "\n") {
				out = append(out, fmt.Sprintf("%s=<%d lines>", prefix, strings.Count(strings.TrimRight(t, "\n"), "\n")+1))
				return
			}
			out = append(out, prefix+"="+truncate(t, 90))
		case nil:
		case float64:
			out = append(out, prefix+"="+strconv.FormatFloat(t, 'f', -1, 64))
		default:
			out = append(out, fmt.Sprintf("%s=%v", prefix, t))
		}
	}
	flat("", Plain(res.Inputs))
	if len(out) > maxSettings {
		out = append(out[:maxSettings], fmt.Sprintf("... %d more (see --format json)", len(out)-maxSettings))
	}
	return out
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// writeCost prints the monthly estimate: each billable item with its unit
// price, the totals, the budget and the managed-control-plane comparison.
func (r *Result) writeCost(w io.Writer) {
	c := r.Cost
	if c == nil {
		return
	}
	fmt.Fprintf(w, "\nestimated monthly cost (%s, prices as of %s):\n", c.Currency, c.AsOf)
	for _, l := range c.Lines {
		qty := strconv.FormatFloat(l.Quantity, 'f', -1, 64)
		fmt.Fprintf(w, "  %-52s %4s x %8.2f = %9.2f", l.Item, qty, l.UnitPrice, l.Monthly)
		if l.MonthlyMax != l.Monthly {
			fmt.Fprintf(w, "  (up to %.2f at full autoscale)", l.MonthlyMax)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  %-52s %27.2f  (up to %.2f)\n", "total", c.Total, c.TotalMax)
	if r.Budget > 0 {
		state := "within budget"
		if r.OverBudget() {
			state = "OVER BUDGET"
		}
		fmt.Fprintf(w, "  budget %d: %s at full autoscale\n", r.Budget, state)
	}
	if c.ManagedControlPlane != "" && c.ManagedControlPlaneDelta != 0 {
		fmt.Fprintf(w, "  same topology on %s: %+.2f per month\n", c.ManagedControlPlane, c.ManagedControlPlaneDelta)
	}
	fmt.Fprintf(w, "  source: %s\n", c.Source)
}
