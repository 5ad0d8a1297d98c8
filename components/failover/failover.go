// Package failover is the Cloudflare edge: a load balancer that sends users
// to the DOKS ingress and fails over to the on-prem ingress, strict TLS on
// the zone, and proxied DNS records for the other public hostnames.
package failover

import (
	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/argcheck"
	"github.com/hybridcloud/platform/internal/config"
)

// Args configures the Failover.
type Args struct {
	Edge config.Edge
	// AccessGroups are the groups Cloudflare Access admits to edge.uis
	// (config.Config.AccessGroups: the platform's admins and developers).
	AccessGroups []string
	// NotificationEmail hears about origin health changes.
	NotificationEmail string
	// CloudOrigin is the DOKS ingress's public address (primary).
	CloudOrigin pulumi.StringInput
	// OnpremOrigin is the on-prem ingress's public address (failover).
	OnpremOrigin pulumi.StringInput
}

// Failover is the Cloudflare load balancer with its pools and monitor.
type Failover struct {
	pulumi.ResourceState

	// Hostname is the load-balanced public hostname.
	Hostname pulumi.StringOutput `pulumi:"hostname"`
	// DetectionSeconds is the worst-case bound on the time to detect a
	// failed origin (config.Edge.Detection), DetectionDerivation how it is
	// made up.
	DetectionSeconds    pulumi.IntOutput    `pulumi:"detectionSeconds"`
	DetectionDerivation pulumi.StringOutput `pulumi:"detectionDerivation"`
	// UIs maps each published UI to its hostname, gated by Access.
	UIs pulumi.StringMapOutput `pulumi:"uis"`
	// PoolIDs are the pool ids in failover order: cloud, then on-prem.
	PoolIDs pulumi.StringArrayOutput `pulumi:"poolIds"`
}

// Type is the component's type token.
const Type = "hybrid:failover:Failover"

func (a *Args) check() error {
	if a == nil {
		return argcheck.Nil("failover")
	}
	e := argcheck.For("failover")
	e.Required("CloudOrigin", a.CloudOrigin == nil)
	e.Required("OnpremOrigin", a.OnpremOrigin == nil)
	e.Required("Edge.Zone", a.Edge.Zone == "")
	e.Required("Edge.Hostname", a.Edge.Hostname == "")
	// No UI is published without an Access gate.
	publishing := len(a.Edge.UIs) > 0
	e.RequiredFor("AccessGroups", publishing && len(a.AccessGroups) == 0, "to publish Edge.UIs")
	e.RequiredFor("Edge.Access.IdentityProviderID", publishing && a.Edge.Access.IdentityProviderID == "", "to publish Edge.UIs")
	return e.Err()
}

// New declares the zone settings, the monitor, both pools, the load balancer
// and the proxied records.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Failover, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	f := &Failover{}
	if err := ctx.RegisterComponentResource(Type, name, f, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(f)
	e := args.Edge

	zone := cloudflare.LookupZoneOutput(ctx, cloudflare.LookupZoneOutputArgs{Name: pulumi.String(e.Zone)}, parent)
	zoneID, accountID := zone.ZoneId(), zone.AccountId()

	if _, err := cloudflare.NewZoneSettingsOverride(ctx, name+"-tls", &cloudflare.ZoneSettingsOverrideArgs{
		ZoneId: zoneID,
		Settings: &cloudflare.ZoneSettingsOverrideSettingsArgs{
			Ssl:                    pulumi.String("strict"),
			AlwaysUseHttps:         pulumi.String("on"),
			MinTlsVersion:          pulumi.String("1.2"),
			Tls13:                  pulumi.String("on"),
			AutomaticHttpsRewrites: pulumi.String("on"),
		},
	}, parent); err != nil {
		return nil, err
	}

	monitor, err := cloudflare.NewLoadBalancerMonitor(ctx, name+"-monitor", &cloudflare.LoadBalancerMonitorArgs{
		AccountId:       accountID,
		Description:     pulumi.String("HTTPS health of " + e.Hostname),
		Type:            pulumi.String("https"),
		Method:          pulumi.String("GET"),
		Path:            pulumi.String(e.Monitor.Path),
		ExpectedCodes:   pulumi.String(e.Monitor.ExpectedCodes),
		Interval:        pulumi.Int(e.Monitor.Interval),
		Timeout:         pulumi.Int(e.Monitor.Timeout),
		Retries:         pulumi.Int(e.Monitor.Retries),
		ConsecutiveDown: pulumi.Int(e.Monitor.ConsecutiveDown),
		ConsecutiveUp:   pulumi.Int(e.Monitor.ConsecutiveUp),
		// Cloudflare's monitors do not trust the Origin CA: skip verification
		// exactly when the origins serve an Origin CA certificate.
		AllowInsecure:   pulumi.Bool(e.MonitorAllowInsecure()),
		FollowRedirects: pulumi.Bool(false),
		Headers: cloudflare.LoadBalancerMonitorHeaderArray{
			cloudflare.LoadBalancerMonitorHeaderArgs{Header: pulumi.String("Host"), Values: pulumi.StringArray{pulumi.String(e.Hostname)}},
		},
	}, parent)
	if err != nil {
		return nil, err
	}

	pool := func(suffix, origin string, address pulumi.StringInput) (*cloudflare.LoadBalancerPool, error) {
		return cloudflare.NewLoadBalancerPool(ctx, name+"-pool-"+suffix, &cloudflare.LoadBalancerPoolArgs{
			AccountId:         accountID,
			Name:              pulumi.String(nameFor(e.Hostname, suffix)),
			Description:       pulumi.String(origin + " ingress for " + e.Hostname),
			Enabled:           pulumi.Bool(true),
			MinimumOrigins:    pulumi.Int(e.MinimumOrigins),
			Monitor:           monitor.ID(),
			CheckRegions:      pulumi.ToStringArray(e.CheckRegions),
			NotificationEmail: pulumi.String(args.NotificationEmail),
			Origins: cloudflare.LoadBalancerPoolOriginArray{
				cloudflare.LoadBalancerPoolOriginArgs{
					Name:    pulumi.String(origin + "-ingress"),
					Address: address,
					Weight:  pulumi.Float64(1),
					Enabled: pulumi.Bool(true),
				},
			},
		}, parent)
	}
	cloudPool, err := pool("cloud", "doks", args.CloudOrigin)
	if err != nil {
		return nil, err
	}
	onpremPool, err := pool("onprem", "talos", args.OnpremOrigin)
	if err != nil {
		return nil, err
	}

	// Steering "off": traffic goes to the first healthy pool in order, so
	// DOKS serves while healthy and on-prem takes over when it is not.
	if _, err := cloudflare.NewLoadBalancer(ctx, name+"-lb", &cloudflare.LoadBalancerArgs{
		ZoneId:          zoneID,
		Name:            pulumi.String(e.Hostname),
		Description:     pulumi.String("DOKS primary, on-prem Talos failover"),
		DefaultPoolIds:  pulumi.StringArray{cloudPool.ID(), onpremPool.ID()},
		FallbackPoolId:  onpremPool.ID(),
		SteeringPolicy:  pulumi.String("off"),
		Proxied:         pulumi.Bool(true),
		SessionAffinity: pulumi.String(e.SessionAffinity),
		Enabled:         pulumi.Bool(true),
	}, parent); err != nil {
		return nil, err
	}

	for _, r := range e.Records {
		if _, err := cloudflare.NewRecord(ctx, name+"-record-"+r.Name, &cloudflare.RecordArgs{
			ZoneId:  zoneID,
			Name:    pulumi.String(r.Name),
			Type:    pulumi.String(r.Type),
			Content: pulumi.String(r.Content),
			Proxied: pulumi.Bool(true),
			Ttl:     pulumi.Int(1), // automatic, required for proxied records
			Comment: pulumi.String("managed by hybrid-platform"),
		}, parent); err != nil {
			return nil, err
		}
	}

	if err := publishUIs(ctx, name, e, args.AccessGroups, zoneID, accountID, parent); err != nil {
		return nil, err
	}

	d := e.Detection()
	f.Hostname = pulumi.String(e.Hostname).ToStringOutput()
	f.DetectionSeconds = pulumi.Int(d.BoundSeconds).ToIntOutput()
	f.DetectionDerivation = pulumi.String(d.Derivation).ToStringOutput()
	f.UIs = pulumi.ToStringMap(e.UIs).ToStringMapOutput()
	f.PoolIDs = pulumi.StringArray{cloudPool.ID(), onpremPool.ID()}.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(f, pulumi.Map{
		"hostname":            f.Hostname,
		"detectionSeconds":    f.DetectionSeconds,
		"detectionDerivation": f.DetectionDerivation,
		"uis":                 f.UIs,
		"poolIds":             f.PoolIDs,
	}); err != nil {
		return nil, err
	}
	return f, nil
}

// nameFor is a pool name: Cloudflare allows letters, digits, - and _.
func nameFor(hostname, suffix string) string {
	out := make([]rune, 0, len(hostname)+len(suffix)+1)
	for _, r := range hostname {
		if r == '.' {
			r = '-'
		}
		out = append(out, r)
	}
	return string(out) + "-" + suffix
}
