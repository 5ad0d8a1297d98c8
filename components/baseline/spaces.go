package baseline

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/ciliumpolicy"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/kube"
)

// spacesEgress opens the app bucket's Spaces endpoint, by name, to an
// application namespace with appBucket (issue 15 item 12): the default-deny
// egress is CIDR-only and Spaces has no fixed CIDR. Cilium enforces it on
// both clusters (internal/ciliumpolicy); on Talos the kind exists once the
// cilium release's operator has registered it, which args.After covers.
func spacesEgress(ctx *pulumi.Context, app config.AppNamespace, ns pulumi.StringInput, hosts pulumi.StringArrayInput, opts ...pulumi.ResourceOption) error {
	if !app.AppBucket {
		return nil
	}
	spec := hosts.ToStringArrayOutput().ApplyT(func(h []string) any {
		return ciliumpolicy.FQDNEgressSpec(ciliumpolicy.DNS(DNS.Namespace, DNS.Labels), h, ciliumpolicy.HTTPSPort)
	}).(pulumi.AnyOutput)
	_, err := apiextensions.NewCustomResource(ctx, app.Name+"-"+ciliumpolicy.SpacesEgressName, &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(ciliumpolicy.APIVersion),
		Kind:        pulumi.String(ciliumpolicy.Kind),
		Metadata:    kube.Meta(ciliumpolicy.SpacesEgressName, ns, nil),
		OtherFields: map[string]any{"spec": spec},
	}, opts...)
	return err
}
