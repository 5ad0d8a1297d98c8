// Package policy holds the platform's guardrails as a Pulumi policy pack
// (policyx). The same rules serve `pulumi preview --policy-pack policypack`
// and the offline plan and tests, which evaluate them against the resources
// the mock cloud recorded.
package policy

import (
	"context"
	"fmt"
	"sort"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
)

// PackName is the policy pack's name.
const PackName = "hybrid-platform-guardrails"

// Version is the policy pack's version.
var Version = semver.MustParse("1.0.0")

// Violation is one policy failure.
type Violation struct {
	Policy  string `json:"policy"`
	URN     string `json:"urn,omitempty"`
	Message string `json:"message"`
}

func (v Violation) String() string {
	if v.URN == "" {
		return fmt.Sprintf("[%s] %s", v.Policy, v.Message)
	}
	return fmt.Sprintf("[%s] %s: %s", v.Policy, v.URN, v.Message)
}

// rule is one mandatory guardrail: a check of one resource, or of the stack.
type rule struct {
	name        string
	description string
	resource    func(r policyx.AnalyzerResource, report func(string))
	stack       func(rs []policyx.AnalyzerResource, report func(urn, msg string))
}

// Settings are what the guardrails read from the stack's configuration.
type Settings struct {
	// DetectionObjectiveSeconds is edge.detectionObjectiveSeconds: the
	// worst-case detection time every health monitor must meet. 0 for a
	// stack without an edge (a monitor there is a violation).
	DetectionObjectiveSeconds int
	// Production is the config's "production" (true unless set to false):
	// it holds the cluster and the database to production's floors.
	Production bool
}

// SettingsOf returns the settings of a loaded stack config.
func SettingsOf(cfg *config.Config) Settings {
	return Settings{DetectionObjectiveSeconds: cfg.Edge.DetectionObjectiveSeconds, Production: cfg.Production}
}

// settingsFrom reads the settings from the stack config the CLI hands the
// policy pack (policyx calls Pack with a context built from the stack's
// decrypted config: policyx/server.go ConfigureStack, sdk v3.274.1).
func settingsFrom(lookup config.Lookup) (Settings, error) {
	edge, _, err := config.ReadEdge(lookup)
	if err != nil {
		return Settings{}, err
	}
	production, problem := config.ReadProduction(lookup)
	if problem != nil {
		return Settings{}, fmt.Errorf("%s", problem)
	}
	return Settings{DetectionObjectiveSeconds: edge.DetectionObjectiveSeconds, Production: production}, nil
}

// Names lists every policy name, sorted.
func Names() []string {
	var out []string
	for _, r := range rulesFor(Settings{}) {
		out = append(out, r.name)
	}
	sort.Strings(out)
	return out
}

// Pack builds the policy pack served to the Pulumi CLI for the stack ctx
// was configured with. Every policy is mandatory: a violation stops the
// deployment.
func Pack(ctx *pulumi.Context) (policyx.PolicyPack, error) {
	s, err := settingsFrom(config.ContextLookup(ctx))
	if err != nil {
		return nil, err
	}
	var policies []policyx.Policy
	for _, r := range rulesFor(s) {
		r := r
		if r.resource != nil {
			policies = append(policies, policyx.NewResourceValidationPolicy(r.name, policyx.ResourceValidationPolicyArgs{
				Description:      r.description,
				EnforcementLevel: policyx.EnforcementLevelMandatory,
				ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
					r.resource(args.Resource, func(msg string) { args.Manager.ReportViolation(msg, args.Resource.URN) })
					return nil
				},
			}))
			continue
		}
		policies = append(policies, policyx.NewStackValidationPolicy(r.name, policyx.StackValidationPolicyArgs{
			Description:      r.description,
			EnforcementLevel: policyx.EnforcementLevelMandatory,
			ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
				r.stack(args.Resources, func(urn, msg string) { args.Manager.ReportViolation(msg, urn) })
				return nil
			},
		}))
	}
	return policyx.NewPolicyPack(PackName, Version, policyx.EnforcementLevelMandatory, policies)
}

// Evaluate runs every policy over a stack's resources, as the CLI would, and
// returns the violations sorted by policy and URN.
func Evaluate(rs []policyx.AnalyzerResource, s Settings) []Violation {
	var out []Violation
	for _, r := range rulesFor(s) {
		if r.resource != nil {
			for _, res := range rs {
				r.resource(res, func(msg string) { out = append(out, Violation{Policy: r.name, URN: res.URN, Message: msg}) })
			}
			continue
		}
		r.stack(rs, func(urn, msg string) { out = append(out, Violation{Policy: r.name, URN: urn, Message: msg}) })
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Policy != out[j].Policy {
			return out[i].Policy < out[j].Policy
		}
		return out[i].URN < out[j].URN
	})
	return out
}

// FromRecords converts the mock cloud's records into the analyzer's view:
// the inputs as sent, the protect flag, ignoreChanges and the provider.
func FromRecords(records []*mockcloud.Resource) []policyx.AnalyzerResource {
	out := make([]policyx.AnalyzerResource, 0, len(records))
	for _, r := range records {
		out = append(out, policyx.AnalyzerResource{
			Type:         r.Type,
			Name:         r.Name,
			URN:          r.URN,
			Parent:       r.Parent,
			Properties:   resource.FromResourcePropertyMap(r.Inputs),
			Options:      pulumi.ResourceOptions{Protect: r.Protect, IgnoreChanges: r.IgnoreChanges, AdditionalSecretOutputs: r.AdditionalSecretOutputs},
			Provider:     policyx.AnalyzerProviderResource{URN: r.Provider},
			Dependencies: r.DependsOn,
		})
	}
	return out
}
