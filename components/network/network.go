// Package network is the DigitalOcean side of the address plan: the VPC and
// the WireGuard gateway Droplet that joins it to the on-prem network.
package network

import (
	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/argcheck"
	"github.com/hybridcloud/platform/internal/config"
)

// Args configures the Network.
type Args struct {
	// Prefix names the DigitalOcean resources, e.g. "hybrid-prod".
	Prefix  string
	Network config.Network
	Gateway config.Gateway
	// GatewayPrivateKey is the gateway's WireGuard private key (secret config).
	GatewayPrivateKey config.Secret
}

// Network is the DO VPC plus the WireGuard gateway toward on-prem.
type Network struct {
	pulumi.ResourceState

	// VpcID is the VPC the cluster, database and gateway live in.
	VpcID pulumi.StringOutput `pulumi:"vpcId"`
	// GatewayDropletID is the gateway Droplet's id.
	GatewayDropletID pulumi.StringOutput `pulumi:"gatewayDropletId"`
	// GatewayPublicIP is the reserved IP: the stable WireGuard endpoint.
	GatewayPublicIP pulumi.StringOutput `pulumi:"gatewayPublicIp"`
	// GatewayPrivateIP is the gateway's VPC address: the next hop DOKS nodes
	// use toward the on-prem network.
	GatewayPrivateIP pulumi.StringOutput `pulumi:"gatewayPrivateIp"`
	// GatewayEndpoint is "public-ip:port" for the on-prem peer.
	GatewayEndpoint pulumi.StringOutput `pulumi:"gatewayEndpoint"`
	// GatewayPublicKey is the gateway's WireGuard public key, derived from
	// the private key in config.
	GatewayPublicKey pulumi.StringOutput `pulumi:"gatewayPublicKey"`
	// GatewayTunnelIP is the gateway's address inside the tunnel.
	GatewayTunnelIP pulumi.StringOutput `pulumi:"gatewayTunnelIp"`
	// OnpremRoutes are the cloud ranges the on-prem side routes into the
	// tunnel (the peer's allowed IPs on the on-prem end).
	OnpremRoutes pulumi.StringArrayOutput `pulumi:"onpremRoutes"`
}

// Type is the component's type token.
const Type = "hybrid:network:Network"

// New declares the VPC, the gateway Droplet with its reserved IP and firewall.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Network, error) {
	if args == nil {
		return nil, argcheck.Nil("network")
	}
	e := argcheck.For("network")
	e.Required("Prefix", args.Prefix == "")
	e.Required("GatewayPrivateKey", args.GatewayPrivateKey.Key() == "")
	if err := e.Err(); err != nil {
		return nil, err
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource(Type, name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)

	vpc, err := digitalocean.NewVpc(ctx, name+"-vpc", &digitalocean.VpcArgs{
		Name:        pulumi.String(args.Prefix + "-vpc"),
		Region:      pulumi.String(args.Network.Region),
		IpRange:     pulumi.String(args.Network.VpcCidr.String()),
		Description: pulumi.String("hybrid platform VPC: DOKS, PostgreSQL and the WireGuard gateway"),
	}, parent)
	if err != nil {
		return nil, err
	}

	gw, err := newGateway(ctx, name, args, vpc, parent)
	if err != nil {
		return nil, err
	}

	n.VpcID = vpc.ID().ToStringOutput()
	n.GatewayDropletID = gw.droplet.ID().ToStringOutput()
	n.GatewayPublicIP = gw.reservedIP.IpAddress
	n.GatewayPrivateIP = gw.droplet.Ipv4AddressPrivate
	n.GatewayEndpoint = pulumi.Sprintf("%s:%d", gw.reservedIP.IpAddress, args.Network.WireguardPort)
	n.GatewayPublicKey = pulumi.String(args.GatewayPrivateKey.WireguardPublicKey()).ToStringOutput()
	gwTunnel, _ := args.Network.TunnelAddresses()
	n.GatewayTunnelIP = pulumi.String(gwTunnel.Addr().String()).ToStringOutput()
	n.OnpremRoutes = pulumi.ToStringArray(config.Strings(args.Network.CloudRoutes())).ToStringArrayOutput()

	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":            n.VpcID,
		"gatewayDropletId": n.GatewayDropletID,
		"gatewayPublicIp":  n.GatewayPublicIP,
		"gatewayPrivateIp": n.GatewayPrivateIP,
		"gatewayEndpoint":  n.GatewayEndpoint,
		"gatewayPublicKey": n.GatewayPublicKey,
		"gatewayTunnelIp":  n.GatewayTunnelIP,
		"onpremRoutes":     n.OnpremRoutes,
	}); err != nil {
		return nil, err
	}
	return n, nil
}
