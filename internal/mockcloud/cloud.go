// Package mockcloud is an in-process stand-in for the clouds this program
// drives. It implements pulumi.MockResourceMonitor: it records every resource
// the program registers, exactly as sent, and answers with the computed
// outputs a real provider would return. It is shared by the tests and by the
// offline plan (cmd/plan).
//
// It never marks values secret on its own: secrecy must come from the
// program, so that tests can prove the program applies it.
package mockcloud

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/hybridcloud/platform/internal/simcloud"
)

// Resource is one registered resource as the program sent it.
type Resource struct {
	URN      string
	Type     string
	Name     string
	ID       string
	Parent   string // parent URN; empty for children of the stack
	Provider string // provider URN, when one was passed explicitly
	Custom   bool
	Protect  bool
	// DependsOn holds the URNs of explicit dependsOn and of the resources whose
	// outputs the inputs were built from, sorted.
	DependsOn               []string
	IgnoreChanges           []string
	AdditionalSecretOutputs []string
	// Aliases are the resource's aliases (pulumi.Aliases) as the SDK sent
	// them: alias specs, which the engine resolves against the old state.
	Aliases []Alias
	Inputs  resource.PropertyMap
	Outputs resource.PropertyMap
}

// Alias is one alias spec. Empty Name, Type, Project or Stack mean the
// resource's own; with neither ParentURN nor NoParent the alias keeps the
// resource's current parent.
type Alias struct {
	URN                        string // a whole old URN; the rest is then empty
	Name, Type, Project, Stack string
	ParentURN                  string
	NoParent                   bool
}

// Invoke is one function call the program made.
type Invoke struct {
	Token    string
	Provider string // provider URN, when one was passed explicitly
	Args     resource.PropertyMap
	Result   resource.PropertyMap // what the cloud answered; nil when it failed
}

// Cloud records resources and answers the program like the real providers.
type Cloud struct {
	project, stack string

	mu        sync.Mutex
	resources []*Resource
	byURN     map[string]*Resource
	invokes   []Invoke
	// stackOutputs answers StackReferences: fully qualified stack name to its
	// outputs. A name with no entry behaves like a stack that does not exist.
	stackOutputs map[string]resource.PropertyMap
}

// New returns an empty cloud for one project and stack.
func New(project, stack string) *Cloud {
	return &Cloud{project: project, stack: stack, byURN: map[string]*Resource{}, stackOutputs: map[string]resource.PropertyMap{}}
}

// SetStackOutputs makes a stack visible to StackReferences with these outputs.
// Values wrapped in resource.MakeSecret are reported as secret outputs.
func (c *Cloud) SetStackOutputs(stack string, outputs map[string]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stackOutputs[stack] = toPropertyMap(outputs)
}

func toPropertyMap(m map[string]any) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range m {
		if pv, ok := v.(resource.PropertyValue); ok {
			out[resource.PropertyKey(k)] = pv
			continue
		}
		out[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	return out
}

// Resources returns every recorded resource sorted by URN, so that two runs
// list them identically whatever order the goroutines registered them in.
func (c *Cloud) Resources() []*Resource {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.resources)
	sort.Slice(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// ByType returns the recorded resources of one type token, sorted by URN.
func (c *Cloud) ByType(typ string) []*Resource {
	var out []*Resource
	for _, r := range c.Resources() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Get returns the resource of a type and logical name, or nil.
func (c *Cloud) Get(typ, name string) *Resource {
	for _, r := range c.Resources() {
		if r.Type == typ && r.Name == name {
			return r
		}
	}
	return nil
}

// ByURN returns a resource by URN, or nil.
func (c *Cloud) ByURN(urn string) *Resource {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byURN[urn]
}

// Invokes returns the function calls made, in call order.
func (c *Cloud) Invokes() []Invoke {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.invokes)
}

// NewResource implements pulumi.MockResourceMonitor.
func (c *Cloud) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := &Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs}
	parent := ""
	if rpc := args.RegisterRPC; rpc != nil {
		parent = rpc.GetParent()
		r.Protect = rpc.GetProtect()
		r.IgnoreChanges = rpc.GetIgnoreChanges()
		r.AdditionalSecretOutputs = rpc.GetAdditionalSecretOutputs()
		r.Aliases = aliases(rpc.GetAliases())
		deps := map[string]bool{}
		for _, d := range rpc.GetDependencies() {
			deps[d] = true
		}
		for _, pd := range rpc.GetPropertyDependencies() {
			for _, d := range pd.GetUrns() {
				deps[d] = true
			}
		}
		for d := range deps {
			r.DependsOn = append(r.DependsOn, d)
		}
		sort.Strings(r.DependsOn)
	}
	if rpc := args.ReadRPC; rpc != nil {
		parent = rpc.GetParent()
	}
	if parent != "" && resource.URN(parent).QualifiedType() == resource.RootStackType {
		parent = "" // children of the stack itself are top-level in the plan
	}
	r.Parent = parent
	r.Provider = providerURN(args.Provider)
	r.URN = c.urn(parent, args.TypeToken, args.Name)

	id, outputs, err := c.respond(r, args.ID)
	if err != nil {
		return "", nil, fmt.Errorf("mockcloud: %s %q: %w", args.TypeToken, args.Name, err)
	}
	r.ID, r.Outputs = id, outputs

	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.byURN[r.URN]; dup {
		return "", nil, fmt.Errorf("mockcloud: duplicate resource URN %s", r.URN)
	}
	c.resources = append(c.resources, r)
	c.byURN[r.URN] = r
	return id, outputs, nil
}

// Call implements pulumi.MockResourceMonitor: it answers invokes. An invoke it
// does not know fails loudly instead of returning an empty result.
func (c *Cloud) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	out, err := simcloud.InvokeIn(args.Token, args.Args, c.find)
	c.mu.Lock()
	c.invokes = append(c.invokes, Invoke{Token: args.Token, Provider: providerURN(args.Provider), Args: args.Args, Result: out})
	c.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("mockcloud: %w", err)
	}
	return out, nil
}

// urn builds the URN exactly as the Pulumi engine (and its mock monitor) does.
func (c *Cloud) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if parent != "" {
		parentType = resource.URN(parent).QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(c.stack), tokens.PackageName(c.project), parentType, tokens.Type(typ), name))
}

// aliases converts the alias specs of a registration.
func aliases(in []*pulumirpc.Alias) []Alias {
	var out []Alias
	for _, a := range in {
		if spec := a.GetSpec(); spec != nil {
			out = append(out, Alias{
				Name: spec.GetName(), Type: spec.GetType(), Project: spec.GetProject(), Stack: spec.GetStack(),
				ParentURN: spec.GetParentUrn(), NoParent: spec.GetNoParent(),
			})
			continue
		}
		out = append(out, Alias{URN: a.GetUrn()})
	}
	return out
}

// providerURN strips the "::id" suffix of a provider reference.
func providerURN(ref string) string {
	if i := strings.LastIndex(ref, "::"); i > 0 && strings.HasPrefix(ref, "urn:pulumi:") {
		return ref[:i]
	}
	return ref
}

// respond returns the id and the state a real provider would return for a new
// resource. StackReferences are answered here, from the stacks this cloud was
// told about; everything else is computed as the stand-in providers do.
func (c *Cloud) respond(r *Resource, importID string) (string, resource.PropertyMap, error) {
	if r.Type == "pulumi:pulumi:StackReference" {
		name := importID
		if name == "" {
			if v := r.Inputs["name"]; v.IsString() {
				name = v.StringValue()
			}
		}
		c.mu.Lock()
		outputs, ok := c.stackOutputs[name]
		c.mu.Unlock()
		if !ok {
			return "", nil, fmt.Errorf("stack %q not found: it has not been created in this backend", name)
		}
		var secretNames []any
		plain := resource.PropertyMap{}
		for k, v := range outputs {
			if v.IsSecret() {
				secretNames = append(secretNames, string(k))
			}
			plain[k] = v
		}
		return name, resource.PropertyMap{
			"name":              resource.NewProperty(name),
			"outputs":           resource.NewProperty(plain),
			"secretOutputNames": resource.NewPropertyValue(secretNames),
		}, nil
	}
	id, out := simcloud.Compute(simcloud.Object{
		Type: r.Type, URN: r.URN, Name: r.Name, Custom: r.Custom, ImportID: importID, Inputs: r.Inputs,
	}, c.vpcRange)
	return id, out, nil
}

// find looks a recorded object up by type and an output's value, for the
// data sources that read existing objects.
func (c *Cloud) find(typ, key, value string) (string, resource.PropertyMap, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.resources {
		if r.Type == typ && r.Custom && simcloud.String(r.Outputs, key) == value {
			return r.ID, r.Outputs, true
		}
	}
	return "", nil, false
}

// vpcRange finds a recorded VPC's address range by id.
func (c *Cloud) vpcRange(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.resources {
		if r.Type == "digitalocean:index/vpc:Vpc" && r.ID == id {
			if v := r.Inputs["ipRange"]; v.IsString() {
				return v.StringValue(), true
			}
		}
	}
	return "", false
}
