// Package doks is the DigitalOcean Kubernetes cluster: the cluster and its
// node pools, the route toward on-prem through the WireGuard gateway, the
// container registry, and a Kubernetes provider for the platform layer.
package doks

import (
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/argcheck"
	"github.com/hybridcloud/platform/internal/config"
)

// Args configures the Cluster.
type Args struct {
	// Prefix names the DigitalOcean resources, e.g. "hybrid-prod".
	Prefix string
	Region string
	Doks   config.Doks
	// Version is the DOKS slug of Doks.KubernetesMinor that ResolveVersion
	// found, such as 1.35.4-do.0.
	Version  string
	Registry config.Registry
	// PodCidr and ServiceCidr are the cluster's subnets from the address plan.
	PodCidr, ServiceCidr netip.Prefix
	VpcID                pulumi.StringInput
	// GatewayPrivateIP is the next hop toward OnpremCidr.
	GatewayPrivateIP pulumi.StringInput
	OnpremCidr       netip.Prefix
}

// Type is the component's type token; OldType the one it had, which
// existing stacks hold.
const (
	Type    = "hybrid:doks:Cluster"
	OldType = "hybrid:doks:DoksCluster"
)

// Cluster is a DOKS cluster with its registry.
type Cluster struct {
	pulumi.ResourceState

	ClusterID pulumi.StringOutput `pulumi:"clusterId"`
	Endpoint  pulumi.StringOutput `pulumi:"endpoint"`
	// Kubeconfig reaches the cluster with a token from doctl (provider.go);
	// it holds no token itself and is the same at every run. A secret.
	Kubeconfig pulumi.StringOutput `pulumi:"kubeconfig"`
	// RegistryEndpoint is e.g. registry.digitalocean.com/NAME.
	RegistryEndpoint pulumi.StringOutput `pulumi:"registryEndpoint"`
	RegistryServer   pulumi.StringOutput `pulumi:"registryServer"`
	// RegistryDockerConfig is a read-only .dockerconfigjson for clusters
	// outside DigitalOcean (on-prem); it is a secret.
	RegistryDockerConfig pulumi.StringOutput `pulumi:"registryDockerConfig"`

	// Provider deploys into the cluster. It is not an output.
	Provider *kubernetes.Provider
}

// New declares the registry, the cluster, the workload node pools, the route toward
// on-prem and the Kubernetes provider.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	d := &Cluster{}
	opts = append(opts, pulumi.Aliases([]pulumi.Alias{{Type: pulumi.String(OldType)}}))
	if err := ctx.RegisterComponentResource(Type, name, d, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(d)

	registry, creds, err := newRegistry(ctx, name, args, parent)
	if err != nil {
		return nil, err
	}
	cluster, err := newCluster(ctx, name, args, registry, parent)
	if err != nil {
		return nil, err
	}
	provider, kubeconfig, err := newProvider(ctx, name, cluster, parent)
	if err != nil {
		return nil, err
	}
	if err := newOnpremRoute(ctx, name, args, provider, parent); err != nil {
		return nil, err
	}

	d.ClusterID = cluster.ID().ToStringOutput()
	d.Endpoint = cluster.Endpoint
	d.Kubeconfig = kubeconfig
	d.RegistryEndpoint = registry.Endpoint
	d.RegistryServer = registry.ServerUrl
	d.RegistryDockerConfig = pulumi.ToSecret(creds.DockerCredentials).(pulumi.StringOutput)
	d.Provider = provider
	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"clusterId":            d.ClusterID,
		"endpoint":             d.Endpoint,
		"kubeconfig":           d.Kubeconfig,
		"registryEndpoint":     d.RegistryEndpoint,
		"registryServer":       d.RegistryServer,
		"registryDockerConfig": d.RegistryDockerConfig,
	}); err != nil {
		return nil, err
	}
	return d, nil
}

func (a *Args) check() error {
	if a == nil {
		return argcheck.Nil("doks")
	}
	e := argcheck.For("doks")
	e.Required("Prefix", a.Prefix == "")
	e.Required("Region", a.Region == "")
	e.RequiredFor("VpcID", a.VpcID == nil, "(from the Network component)")
	e.RequiredFor("GatewayPrivateIP", a.GatewayPrivateIP == nil, "(from the Network component)")
	e.Required("PodCidr", !a.PodCidr.IsValid())
	e.Required("ServiceCidr", !a.ServiceCidr.IsValid())
	e.Required("OnpremCidr", !a.OnpremCidr.IsValid())
	if !strings.HasPrefix(a.Version, a.Doks.KubernetesMinor+".") || !strings.Contains(a.Version, "-do.") {
		e.Invalid("Version", "%q is not a DOKS slug of the line Doks.KubernetesMinor %q (resolve it with ResolveVersion)", a.Version, a.Doks.KubernetesMinor)
	}
	return e.Err()
}

// newRegistry declares the account's container registry and read-only docker
// credentials for pulling from outside DigitalOcean.
func newRegistry(ctx *pulumi.Context, name string, args *Args, parent pulumi.ResourceOption) (*digitalocean.ContainerRegistry, *digitalocean.ContainerRegistryDockerCredentials, error) {
	registry, err := digitalocean.NewContainerRegistry(ctx, name+"-registry", &digitalocean.ContainerRegistryArgs{
		Name:                 pulumi.String(args.Registry.Name),
		SubscriptionTierSlug: pulumi.String(args.Registry.Tier),
		Region:               pulumi.String(args.Registry.Region),
	}, parent, pulumi.Protect(true))
	if err != nil {
		return nil, nil, err
	}
	creds, err := digitalocean.NewContainerRegistryDockerCredentials(ctx, name+"-registry-pull", &digitalocean.ContainerRegistryDockerCredentialsArgs{
		RegistryName: registry.Name,
		Write:        pulumi.Bool(false),
	}, parent, pulumi.AdditionalSecretOutputs([]string{"dockerCredentials"}))
	if err != nil {
		return nil, nil, err
	}
	return registry, creds, nil
}
