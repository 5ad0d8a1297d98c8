// Package plan runs a stack's real composition under the mock cloud, with the
// stack's real config file, and renders what the stack would create. It needs
// no credentials, no Pulumi CLI and no network.
package plan

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
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
}

// Result is one offline run.
type Result struct {
	Project string
	Stack   string
	Cloud   *mockcloud.Cloud
	// Outputs are the stack outputs, awaited.
	Outputs map[string]Output
	// StandIns lists secret keys whose values the plan could not read (a
	// `secure:` entry or no value) and replaced with stable stand-ins.
	StandIns []string
}

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
		return nil, fmt.Errorf("Pulumi.yaml names project %q; this program is %q", project.Name, config.Project)
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
	for name, outs := range opts.StackOutputs {
		cloud.SetStackOutputs(name, outs)
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
	res := &Result{Project: project.Name, Stack: opts.Stack, Cloud: cloud, Outputs: map[string]Output{}, StandIns: standIns}
	if err != nil {
		// The cloud is returned with the error so that callers can see what
		// was declared before the failure (nothing, for invalid config).
		return res, err
	}
	for k, v := range exported {
		o, err := internals.UnsafeAwaitOutput(context.Background(), pulumi.ToOutput(v))
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", k, err)
		}
		res.Outputs[k] = Output{Value: o.Value, Known: o.Known, Secret: o.Secret}
	}
	return res, nil
}

// resolveConfig merges the Pulumi.yaml defaults, the stack file and the
// overrides into the map the Pulumi CLI would hand to the program.
func resolveConfig(project *Project, file string, opts Options) (map[string]string, []string, []string, error) {
	values := map[string]string{}
	secret := map[string]bool{}
	for key, decl := range project.Config {
		if decl.Default == nil {
			continue
		}
		cv, err := toConfigValue(decl.Default)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("Pulumi.yaml default of %s: %w", key, err)
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
	var standIns []string
	for _, spec := range config.SecretSpecsFor(opts.Stack) {
		q := qualify(project.Name, spec.Key)
		if v, ok := opts.SetSecret[spec.Key]; ok {
			values[q], secret[q] = v, true
			continue
		}
		if _, plain := values[q]; plain && !secure[q] {
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
