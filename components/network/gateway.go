package network

import (
	"net/netip"
	"strconv"

	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/gatewayconf"
)

type gateway struct {
	droplet    *digitalocean.Droplet
	reservedIP *digitalocean.ReservedIp
}

// newGateway declares the WireGuard gateway Droplet, its reserved IP (a
// stable endpoint across Droplet replacements: a change of user data
// replaces the Droplet) and its firewall.
func newGateway(ctx *pulumi.Context, name string, args *Args, vpc *digitalocean.Vpc, parent pulumi.ResourceOption) (*gateway, error) {
	n := args.Network
	// The cloud-init document holds the private key: it is a secret.
	userData := args.GatewayPrivateKey.Output().ApplyT(func(key string) string {
		return gatewayconf.New(n, key).CloudInit()
	}).(pulumi.StringOutput)

	sshKeys := pulumi.ToStringArray(args.Gateway.SSHKeyIDs)
	droplet, err := digitalocean.NewDroplet(ctx, name+"-gateway", &digitalocean.DropletArgs{
		Name:             pulumi.String(args.Prefix + "-wg-gateway"),
		Region:           pulumi.String(n.Region),
		Size:             pulumi.String(args.Gateway.Size),
		Image:            pulumi.String(args.Gateway.Image),
		VpcUuid:          vpc.ID(),
		UserData:         pulumi.ToSecret(userData).(pulumi.StringOutput),
		SshKeys:          sshKeys,
		Monitoring:       pulumi.Bool(true),
		DropletAgent:     pulumi.Bool(true),
		GracefulShutdown: pulumi.Bool(true),
		Ipv6:             pulumi.Bool(false),
		Tags:             pulumi.StringArray{pulumi.String(args.Prefix), pulumi.String("wireguard-gateway")},
	}, parent)
	if err != nil {
		return nil, err
	}

	reservedIP, err := digitalocean.NewReservedIp(ctx, name+"-gateway-ip", &digitalocean.ReservedIpArgs{
		Region: pulumi.String(n.Region),
	}, parent, pulumi.Protect(true))
	if err != nil {
		return nil, err
	}
	dropletID := droplet.ID().ToStringOutput().ApplyT(strconv.Atoi).(pulumi.IntOutput)
	if _, err := digitalocean.NewReservedIpAssignment(ctx, name+"-gateway-ip-assignment", &digitalocean.ReservedIpAssignmentArgs{
		IpAddress: reservedIP.IpAddress,
		DropletId: dropletID,
	}, parent); err != nil {
		return nil, err
	}

	if _, err := digitalocean.NewFirewall(ctx, name+"-gateway-fw", &digitalocean.FirewallArgs{
		Name:          pulumi.String(args.Prefix + "-wg-gateway"),
		DropletIds:    pulumi.IntArray{dropletID},
		InboundRules:  inboundRules(args),
		OutboundRules: outboundRules(),
	}, parent); err != nil {
		return nil, err
	}
	return &gateway{droplet: droplet, reservedIP: reservedIP}, nil
}

// inboundRules admits WireGuard only from the on-prem public address, the
// traffic the gateway forwards for the VPC and DOKS pods, and SSH only from
// configured ranges (closed when none).
func inboundRules(args *Args) digitalocean.FirewallInboundRuleArray {
	n := args.Network
	cloud := pulumi.StringArray{pulumi.String(n.VpcCidr.String()), pulumi.String(n.DoksPodCidr.String())}
	rules := digitalocean.FirewallInboundRuleArray{
		digitalocean.FirewallInboundRuleArgs{
			Protocol:        pulumi.String("udp"),
			PortRange:       pulumi.String(strconv.Itoa(n.WireguardPort)),
			SourceAddresses: pulumi.StringArray{pulumi.String(netip.PrefixFrom(n.OnpremPublicIP, 32).String())},
		},
		digitalocean.FirewallInboundRuleArgs{Protocol: pulumi.String("tcp"), PortRange: pulumi.String("1-65535"), SourceAddresses: cloud},
		digitalocean.FirewallInboundRuleArgs{Protocol: pulumi.String("udp"), PortRange: pulumi.String("1-65535"), SourceAddresses: cloud},
		// ICMP from the VPC: the DOKS routing agent pings its gateways.
		digitalocean.FirewallInboundRuleArgs{Protocol: pulumi.String("icmp"), SourceAddresses: cloud},
	}
	if len(args.Gateway.SSHAllowedCidrs) > 0 {
		rules = append(rules, digitalocean.FirewallInboundRuleArgs{
			Protocol:        pulumi.String("tcp"),
			PortRange:       pulumi.String("22"),
			SourceAddresses: pulumi.ToStringArray(config.Strings(args.Gateway.SSHAllowedCidrs)),
		})
	}
	return rules
}

func outboundRules() digitalocean.FirewallOutboundRuleArray {
	anywhere := pulumi.StringArray{pulumi.String("0.0.0.0/0"), pulumi.String("::/0")}
	return digitalocean.FirewallOutboundRuleArray{
		digitalocean.FirewallOutboundRuleArgs{Protocol: pulumi.String("tcp"), PortRange: pulumi.String("1-65535"), DestinationAddresses: anywhere},
		digitalocean.FirewallOutboundRuleArgs{Protocol: pulumi.String("udp"), PortRange: pulumi.String("1-65535"), DestinationAddresses: anywhere},
		digitalocean.FirewallOutboundRuleArgs{Protocol: pulumi.String("icmp"), DestinationAddresses: anywhere},
	}
}
