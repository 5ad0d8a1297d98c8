package stacks

import (
	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumiverse/pulumi-talos/sdk/go/talos"
)

// Pulumi.yaml disables the default providers of digitalocean, cloudflare,
// talos and kubernetes (pulumi:disable-default-providers): the engine
// refuses a resource or invoke of those packages that names no provider,
// instead of configuring one from the ambient token or kubeconfig. These are
// the explicit providers the compositions hand to their components
// (pulumi.Providers on the component, inherited by every child it parents;
// pulumi.Provider on a top-level invoke). The Kubernetes providers belong to
// the cluster components (doks, talos), built from their kubeconfig.
//
// The API credentials stay in the environment, where the default providers
// read them: with no token in the arguments the providers read
// DIGITALOCEAN_TOKEN and CLOUDFLARE_API_TOKEN themselves (docs/architecture.md,
// "Providers"). A `digitalocean:token` or `cloudflare:apiToken` in stack
// config is no longer read: stack config configures default providers only.

// newDigitalOcean is the DigitalOcean provider of the prod stack.
func newDigitalOcean(ctx *pulumi.Context) (*digitalocean.Provider, error) {
	return digitalocean.NewProvider(ctx, "digitalocean", &digitalocean.ProviderArgs{})
}

// newCloudflare is the Cloudflare provider of the prod stack's edge.
func newCloudflare(ctx *pulumi.Context) (*cloudflare.Provider, error) {
	return cloudflare.NewProvider(ctx, "cloudflare", &cloudflare.ProviderArgs{})
}

// newTalos is the Talos provider of the onprem stack; it has no credential
// (each resource carries the cluster's client configuration).
func newTalos(ctx *pulumi.Context) (*talos.Provider, error) {
	return talos.NewProvider(ctx, "talos", &talos.ProviderArgs{})
}
