// Package plan runs a stack's real composition under the mock cloud, with the
// stack's real config file, and renders what the stack would create. It needs
// no credentials, no Pulumi CLI and no network.
package plan

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/cost"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/policy"
	"github.com/hybridcloud/platform/internal/prodref"
	"github.com/hybridcloud/platform/stacks"
)

// Options select the stack and where its config comes from.
type Options struct {
	Stack      string
	ProjectDir string // directory of Pulumi.yaml; found from the working directory when empty
	ConfigFile string // defaults to ProjectDir/Pulumi.<stack>.yaml
	// Set overrides config values by bare or qualified key, as the CLI
	// would hand them to the program (objects as JSON).
	Set map[string]string
	// SetSecret overrides secret config values.
	SetSecret map[string]string
	// StackOutputs makes other stacks visible to StackReferences.
	StackOutputs map[string]map[string]any
	// Preview runs as `pulumi preview` would (RunInfo.DryRun).
	Preview bool
	// FirstPass plans prod as on its first `pulumi up`, before the onprem
	// stack has outputs (it exists, empty).
	FirstPass bool
	// MissingStacks are referenced stacks that do not exist in the backend
	// (never initialised): their StackReference fails as the engine's would.
	MissingStacks []string
	// Now is the day the support windows are read against (zero: today).
	// It only changes what the plan reports, never an input.
	Now time.Time
}

// Result is one offline run.
type Result struct {
	Project string
	Stack   string
	Cloud   *mockcloud.Cloud
	// Outputs are the stack outputs, awaited.
	Outputs map[string]Output
	// Cost is the monthly estimate; Budget the configured limit (0: none).
	Cost   *cost.Estimate
	Budget int
	// Violations are the guardrails (internal/policy) this stack breaks.
	Violations []policy.Violation
	// StandIns lists secret keys whose values the plan could not read (a
	// `secure:` entry or no value) and replaced with stable stand-ins.
	StandIns []string
	// StackRefs says where the outputs of each referenced stack came from.
	StackRefs []StackRef
	// Config is the stack's validated config (nil when it did not load).
	Config *config.Config
	// Support places each cluster's versions in their support windows
	// (internal/cost/support.json) on Options.Now.
	Support []cost.SupportStatus
	// Warnings are what the Pulumi run would log with ctx.Log.Warn: the
	// versions past their end of support.
	Warnings []string
}

// StackRef is one stack the planned stack reads through a StackReference.
type StackRef struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

// Sources of a referenced stack's outputs.
const (
	SourceGiven    = "given in plan.Options.StackOutputs"
	SourceProdPlan = "the offline plan of prod (Pulumi.prod.yaml in the same project)"
	// SourceOnpremPlan: prod reads onprem, whose plan reads prod's first pass.
	SourceOnpremPlan = "the offline plan of onprem after a first pass of prod (the bring-up order: prod, onprem, prod)"
	// SourceFirstPass: the onprem stack exists but has no outputs yet.
	SourceFirstPass = "none: first pass of prod, the onprem stack exists with no outputs yet"
	// SourceNoPrevious: onprem reads its own last outputs (the nodes it
	// applied, stacks.SelfReference); offline there are none, as on the
	// stack's first up.
	SourceNoPrevious = "none: the stack's own previous update is not known offline, as on its first up"
)

// Output is one awaited stack output.
type Output struct {
	Value  any
	Known  bool
	Secret bool
}

// Run executes the stack's composition under the mock cloud. When the
// program fails, the Result is still returned with the cloud it ran against.
func Run(opts Options) (*Result, error) {
	return RunFunc(opts, stacks.Deploy)
}

// Program is a Pulumi program that returns its stack outputs.
type Program func(ctx *pulumi.Context) (pulumi.Map, error)

// RunFunc executes an arbitrary program under the mock cloud with the
// stack's config resolved exactly as Run resolves it (Pulumi.yaml defaults,
// the stack file, overrides, secret stand-ins). Tests use it to run one
// layer of a stack, such as the platform layer, with the real config files.
func RunFunc(opts Options, program Program) (*Result, error) {
	if err := config.CheckStack(opts.Stack); err != nil {
		return nil, err
	}
	dir := opts.ProjectDir
	if dir == "" {
		var err error
		if dir, err = FindProjectDir("."); err != nil {
			return nil, err
		}
	}
	project, err := ReadProject(dir)
	if err != nil {
		return nil, err
	}
	if project.Name != config.Project {
		return nil, fmt.Errorf("the project in Pulumi.yaml is %q; this program is %q", project.Name, config.Project)
	}
	file := opts.ConfigFile
	if file == "" {
		file = filepath.Join(dir, "Pulumi."+opts.Stack+".yaml")
	}
	values, secrets, standIns, err := resolveConfig(project, file, opts)
	if err != nil {
		return nil, err
	}

	cloud := mockcloud.New(project.Name, opts.Stack)
	// A stack that reads its own last outputs (stacks.SelfReference) finds
	// none offline, as on its first up, unless they are given.
	cloud.SetStackOutputs(selfStack(opts.Stack), map[string]any{})
	for name, outs := range opts.StackOutputs {
		cloud.SetStackOutputs(name, outs)
	}
	// The same lookup the program's config.Load makes. An invalid config
	// fails inside the program, with nothing declared.
	cfg, cfgErr := config.LoadFrom(opts.Stack, func(key string) (string, bool, bool) {
		q := qualify(project.Name, key)
		v, ok := values[q]
		return v, ok, slices.Contains(secrets, q)
	})
	refs, err := referencedStacks(cloud, dir, cfg, opts)
	if err != nil {
		return nil, err
	}
	var exported pulumi.Map
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		var err error
		exported, err = program(ctx)
		return err
	}, pulumi.WithMocks(project.Name, opts.Stack, cloud), func(info *pulumi.RunInfo) {
		info.Config = values
		info.ConfigSecretKeys = secrets
		info.DryRun = opts.Preview
	})
	res := &Result{Project: project.Name, Stack: opts.Stack, Cloud: cloud, Outputs: map[string]Output{}, StandIns: standIns, StackRefs: refs}
	if err != nil {
		// The cloud is returned with the error so that callers can see what
		// was declared before the failure (nothing, for invalid config).
		var refErr *prodref.Error
		if errors.As(err, &refErr) && len(refs) > 0 && refs[0].Source == SourceProdPlan {
			err = fmt.Errorf("%w\n(prod's outputs came from %s)", refErr, SourceProdPlan)
		}
		return res, err
	}
	for k, v := range exported {
		o, err := internals.UnsafeAwaitOutput(context.Background(), pulumi.ToOutput(v))
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", k, err)
		}
		res.Outputs[k] = Output{Value: o.Value, Known: o.Known, Secret: o.Secret}
	}
	if cfgErr != nil {
		return res, cfgErr
	}
	res.Violations = policy.Evaluate(policy.FromRecords(cloud.Resources()), policy.SettingsOf(cfg))
	res.Config = cfg
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	doksVersion := ""
	for _, r := range cloud.Resources() {
		if r.Type == "digitalocean:index/kubernetesCluster:KubernetesCluster" {
			doksVersion = r.Inputs["version"].StringValue()
		}
	}
	if res.Support, err = stacks.SupportOf(cfg, doksVersion, now); err != nil {
		return res, err
	}
	for _, s := range res.Support {
		if w := s.Warning(); w != "" {
			res.Warnings = append(res.Warnings, w)
		}
	}
	prices, err := cost.LoadPrices()
	if err != nil {
		return res, err
	}
	if res.Cost, err = prices.Estimate(cloud.Resources(), cfg.Edge.ZonePlan); err != nil {
		return res, err
	}
	res.Budget = cfg.CostBudgetUSD
	return res, nil
}

// OverBudget reports whether the estimate at full autoscale exceeds the
// configured budget.
func (r *Result) OverBudget() bool {
	return r.Budget > 0 && r.Cost != nil && r.Cost.TotalMax > float64(r.Budget)
}

// resolveConfig merges the Pulumi.yaml defaults, the stack file and the
// overrides into the map the Pulumi CLI would hand to the program.
func resolveConfig(project *Project, file string, opts Options) (map[string]string, []string, []string, error) {
	values := map[string]string{}
	secret := map[string]bool{}
	for key, decl := range project.Config {
		// The CLI gives a stack that does not set the key the project's
		// value or default (pkg/workspace/config.go, mergeConfig).
		v := decl.Default
		if v == nil {
			v = decl.Value
		}
		if v == nil {
			continue
		}
		cv, err := toConfigValue(v)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("default of %s in Pulumi.yaml: %w", key, err)
		}
		values[qualify(project.Name, key)] = cv.Value
	}
	stackValues, err := readStackConfig(file)
	if err != nil {
		return nil, nil, nil, err
	}
	secure := map[string]bool{}
	for key, cv := range stackValues {
		q := qualify(project.Name, key)
		if cv.Secure {
			secure[q] = true
			delete(values, q)
			continue
		}
		values[q] = cv.Value
	}
	for key, v := range opts.Set {
		values[qualify(project.Name, key)] = v
	}
	// The kind says which secrets the stack reads. An invalid kind reads
	// none, and its stack is not held to the keys a kind requires:
	// config.LoadFrom refuses it, naming the key.
	kind, kindProblem := config.ReadKind(func(key string) (string, bool, bool) {
		v, ok := values[qualify(project.Name, key)]
		return v, ok, false
	})
	if kindProblem == nil {
		if err := missingKeys(project, opts.Stack, kind, values, secure); err != nil {
			return nil, nil, nil, err
		}
	}
	var standIns []string
	for _, spec := range config.SecretSpecsFor(kind) {
		q := qualify(project.Name, spec.Key)
		if v, ok := opts.SetSecret[spec.Key]; ok {
			values[q], secret[q] = v, true
			continue
		}
		if v, plain := values[q]; plain && !secure[q] && v != "" {
			continue // a plaintext secret: config validation rejects it
		}
		values[q], secret[q] = spec.StandIn(), true
		standIns = append(standIns, spec.Key)
	}
	for key, v := range opts.SetSecret {
		q := qualify(project.Name, key)
		values[q], secret[q] = v, true
	}
	for q := range secure {
		if _, ok := values[q]; !ok {
			values[q] = "[secret]" // a secure value this program does not read
		}
		secret[q] = true
	}
	keys := make([]string, 0, len(secret))
	for k := range secret {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sort.Strings(standIns)
	return values, keys, standIns, nil
}

// referencedStacks makes the stacks that opts.Stack reads visible to its
// StackReferences, following the bring-up order when opts.StackOutputs does
// not give them: onprem reads prod's first pass; prod reads onprem, planned
// after that first pass. The referenced stack is planned from its own file
// in the same project, named by the reference (config.PeerStack). Outputs are handed over with their secrecy, as the
// Pulumi engine would.
func referencedStacks(cloud *mockcloud.Cloud, dir string, cfg *config.Config, opts Options) ([]StackRef, error) {
	// Invalid config (cfg nil) must fail on its own, before another stack is
	// planned: the program reports it, with nothing declared.
	if cfg == nil {
		return nil, nil
	}
	switch cfg.Kind {
	case config.KindOnprem:
		self := []StackRef{{Name: selfStack(opts.Stack), Source: SourceGiven}}
		if _, given := opts.StackOutputs[self[0].Name]; !given {
			self[0].Source = SourceNoPrevious
		}
		name := cfg.ProdStackRef
		if _, given := opts.StackOutputs[name]; given {
			return append([]StackRef{{Name: name, Source: SourceGiven}}, self...), nil
		}
		// onprem needs only what prod's first pass exports.
		prod, err := Run(Options{Stack: cfg.PeerStack(), ProjectDir: dir, Preview: opts.Preview, FirstPass: true})
		if err != nil {
			return nil, fmt.Errorf("the onprem stack reads prod's outputs (%s), so prod is planned first, and that failed: %w", prodref.BringUp, err)
		}
		cloud.SetStackOutputs(name, prod.StackOutputs())
		return append([]StackRef{{Name: name, Source: SourceProdPlan}}, self...), nil
	case config.KindDigitalOcean:
		name := cfg.Edge.OnpremStackRef
		if slices.Contains(opts.MissingStacks, name) {
			return nil, nil
		}
		if _, given := opts.StackOutputs[name]; given || name == "" {
			if name == "" {
				return nil, nil
			}
			return []StackRef{{Name: name, Source: SourceGiven}}, nil
		}
		if opts.FirstPass {
			cloud.SetStackOutputs(name, map[string]any{})
			return []StackRef{{Name: name, Source: SourceFirstPass}}, nil
		}
		onprem, err := Run(Options{Stack: cfg.PeerStack(), ProjectDir: dir, Preview: opts.Preview})
		if err != nil {
			return nil, fmt.Errorf("prod reads the onprem stack's ingress address, so onprem is planned first (after a first pass of prod), and that failed: %w", err)
		}
		cloud.SetStackOutputs(name, onprem.StackOutputs())
		return []StackRef{{Name: name, Source: SourceOnpremPlan}}, nil
	}
	return nil, nil
}

// selfStack is the fully qualified name of the planned stack, as
// stacks.SelfReference builds it under the mocks (whose organization is the
// SDK's default, "organization").
func selfStack(stack string) string {
	return "organization/" + config.Project + "/" + stack
}

// StackOutputs returns the run's stack outputs as another stack's
// StackReference would read them: secret outputs stay secret, and outputs
// not known until apply are left out.
func (r *Result) StackOutputs() map[string]any {
	out := map[string]any{}
	for k, o := range r.Outputs {
		if !o.Known {
			continue
		}
		v := resource.NewPropertyValue(o.Value)
		if o.Secret {
			v = resource.MakeSecret(v)
		}
		out[k] = v
	}
	return out
}

// missingKeys refuses, as the Pulumi CLI does, a stack that leaves out a key
// Pulumi.yaml declares without a default. The secrets the stack reads are
// exempt: the plan stands in for them (operators set them at stack init).
func missingKeys(project *Project, stack string, kind config.EnvKind, values map[string]string, secure map[string]bool) error {
	reads := map[string]bool{}
	for _, s := range config.SecretSpecsFor(kind) {
		reads[s.Key] = true
	}
	var missing []string
	for key, decl := range project.Config {
		q := qualify(project.Name, key)
		// Only this project's keys are required (another namespace's entry
		// is a value, applied above).
		if _, ok := values[q]; ok || secure[q] || decl.Default != nil || decl.Value != nil || reads[key] || !strings.HasPrefix(q, project.Name+":") {
			continue
		}
		missing = append(missing, key)
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return fmt.Errorf("stack %q is missing configuration values %s: the Pulumi CLI requires every key Pulumi.yaml declares without a default",
		stack, strings.Join(missing, ", "))
}
