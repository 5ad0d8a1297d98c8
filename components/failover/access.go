package failover

import (
	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
)

// publishUIs gives each UI of edge.uis a Cloudflare Access application
// admitting only the platform's admin and developer groups, then a proxied
// record pointing at the load balancer (the ingress on either cluster routes
// the hostname). The record waits for its application, so a UI hostname never
// resolves before its gate exists.
//
// SDK names checked: pulumi-cloudflare sdk/v5 v5.49.1 (module cache)
// zeroTrustAccessPolicy.go (AccountId, Name, Decision, Includes, SessionDuration)
// and zeroTrustAccessApplication.go (Domain, Type, Policies, AllowedIdps, ...);
// ZeroTrustAccessPolicyIncludeSamlArgs {AttributeName, AttributeValue,
// IdentityProviderId}. The policy is account-level with no applicationId, a
// reusable policy the applications list in `policies` (the SDK's warning: do
// not also set applicationId).
func publishUIs(ctx *pulumi.Context, name string, e config.Edge, groups []string,
	zoneID, accountID pulumi.StringOutput, parent pulumi.ResourceOption) error {
	if len(e.UIs) == 0 {
		return nil
	}
	var samls cloudflare.ZeroTrustAccessPolicyIncludeSamlArray
	for _, g := range groups {
		samls = append(samls, cloudflare.ZeroTrustAccessPolicyIncludeSamlArgs{
			AttributeName:      pulumi.String(e.Access.GroupsAttribute),
			AttributeValue:     pulumi.String(g),
			IdentityProviderId: pulumi.String(e.Access.IdentityProviderID),
		})
	}
	// Include rules are alternatives: a member of any listed group passes.
	policy, err := cloudflare.NewZeroTrustAccessPolicy(ctx, name+"-access-platform", &cloudflare.ZeroTrustAccessPolicyArgs{
		AccountId:       accountID,
		Name:            pulumi.String("platform admins and developers (" + e.Zone + ")"),
		Decision:        pulumi.String("allow"),
		SessionDuration: pulumi.String(e.Access.SessionDuration),
		Includes:        cloudflare.ZeroTrustAccessPolicyIncludeArray{cloudflare.ZeroTrustAccessPolicyIncludeArgs{Samls: samls}},
	}, parent)
	if err != nil {
		return err
	}
	for _, ui := range e.UINames() {
		host := e.UIs[ui]
		app, err := cloudflare.NewZeroTrustAccessApplication(ctx, name+"-access-"+ui, &cloudflare.ZeroTrustAccessApplicationArgs{
			AccountId:              accountID,
			Name:                   pulumi.String(ui + " (" + host + ")"),
			Domain:                 pulumi.String(host),
			Type:                   pulumi.String("self_hosted"),
			SessionDuration:        pulumi.String(e.Access.SessionDuration),
			AllowedIdps:            pulumi.StringArray{pulumi.String(e.Access.IdentityProviderID)},
			AutoRedirectToIdentity: pulumi.Bool(true),
			AppLauncherVisible:     pulumi.Bool(true),
			Policies:               pulumi.StringArray{policy.ID()},
		}, parent)
		if err != nil {
			return err
		}
		if _, err := cloudflare.NewRecord(ctx, name+"-record-"+host, &cloudflare.RecordArgs{
			ZoneId:  zoneID,
			Name:    pulumi.String(host),
			Type:    pulumi.String("CNAME"),
			Content: pulumi.String(e.Hostname),
			Proxied: pulumi.Bool(true), // Access gates proxied hostnames only
			Ttl:     pulumi.Int(1),
			Comment: pulumi.String("managed by hybrid-platform: " + ui + " behind Cloudflare Access"),
		}, parent, pulumi.DependsOn([]pulumi.Resource{app})); err != nil {
			return err
		}
	}
	return nil
}
