// Command nodefault is the Pulumi program of TestEngineRefusesDefaultProvider:
// it makes the one registration that config key `case` names, with no
// provider unless the case ends in "-explicit".
package main

import (
	"fmt"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/pulumiverse/pulumi-talos/sdk/go/talos/machine"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		c := config.Require(ctx, "case")
		var err error
		switch c {
		case "digitalocean-resource":
			_, err = vpc(ctx)
		case "digitalocean-resource-explicit":
			var p *digitalocean.Provider
			if p, err = digitalocean.NewProvider(ctx, "digitalocean", &digitalocean.ProviderArgs{}); err == nil {
				_, err = vpc(ctx, pulumi.Provider(p))
			}
		case "digitalocean-invoke":
			_, err = digitalocean.GetKubernetesVersions(ctx, &digitalocean.GetKubernetesVersionsArgs{})
		case "cloudflare-resource":
			_, err = cloudflare.NewRecord(ctx, "record", &cloudflare.RecordArgs{
				ZoneId: pulumi.String("zone"), Name: pulumi.String("www"), Type: pulumi.String("A"), Content: pulumi.String("192.0.2.1"),
			})
		case "cloudflare-invoke":
			_, err = cloudflare.LookupZone(ctx, &cloudflare.LookupZoneArgs{Name: pulumi.StringRef("example.com")})
		case "kubernetes-resource":
			_, err = corev1.NewNamespace(ctx, "apps", &corev1.NamespaceArgs{})
		case "talos-resource":
			_, err = machine.NewSecrets(ctx, "secrets", &machine.SecretsArgs{TalosVersion: pulumi.String("v1.12.5")})
		case "talos-invoke":
			_, err = machine.GetConfiguration(ctx, &machine.GetConfigurationArgs{
				ClusterName: "c", ClusterEndpoint: "https://192.0.2.10:6443", MachineType: "controlplane",
				MachineSecrets: machine.MachineSecrets{},
			})
		default:
			return fmt.Errorf("unknown case %q", c)
		}
		return err
	})
}

func vpc(ctx *pulumi.Context, opts ...pulumi.ResourceOption) (*digitalocean.Vpc, error) {
	return digitalocean.NewVpc(ctx, "vpc", &digitalocean.VpcArgs{
		Name: pulumi.String("strict"), Region: pulumi.String("nyc3"), IpRange: pulumi.String("10.10.0.0/16"),
	}, opts...)
}
