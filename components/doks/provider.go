package doks

import (
	"fmt"

	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
)

// newProvider builds the Kubernetes provider from the cluster endpoint, its
// CA certificate and a long-lived DO API token from secret config.
//
// The kubeconfig DOKS returns in state (kubeConfigs[0].rawConfig) carries a
// token that expires after 7 days: a provider built from it makes the
// cluster unreachable to `pulumi up` a week after the last refresh. DOKS also
// accepts DigitalOcean API tokens as bearer tokens, so the provider uses the
// operator's token instead; rotating it is a config change, and
// clusterIdentifier keeps a new token from replacing the provider (and
// everything deployed through it).
func newProvider(ctx *pulumi.Context, name string, cluster *digitalocean.KubernetesCluster, token config.Secret, parent pulumi.ResourceOption) (*kubernetes.Provider, pulumi.StringOutput, error) {
	ca := cluster.KubeConfigs.Index(pulumi.Int(0)).ClusterCaCertificate().Elem()
	kubeconfig := pulumi.All(cluster.Name, cluster.Endpoint, ca, token.Output()).ApplyT(func(v []any) string {
		return kubeconfigYAML(v[0].(string), v[1].(string), v[2].(string), v[3].(string))
	}).(pulumi.StringOutput)
	kubeconfig = pulumi.ToSecret(kubeconfig).(pulumi.StringOutput)
	provider, err := kubernetes.NewProvider(ctx, name+"-k8s", &kubernetes.ProviderArgs{
		Kubeconfig:            kubeconfig,
		ClusterIdentifier:     cluster.ID().ToStringOutput(),
		EnableServerSideApply: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, pulumi.StringOutput{}, err
	}
	return provider, kubeconfig, nil
}

// kubeconfigYAML renders a kubeconfig for a DOKS cluster; caData is the
// base64 PEM DOKS reports as clusterCaCertificate.
func kubeconfigYAML(cluster, endpoint, caData, token string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
  - name: %[1]s
    cluster:
      server: %[2]s
      certificate-authority-data: %[3]s
users:
  - name: %[1]s-token
    user:
      token: %[4]s
contexts:
  - name: %[1]s
    context:
      cluster: %[1]s
      user: %[1]s-token
current-context: %[1]s
`, cluster, endpoint, caData, token)
}

// newOnpremRoute tells the DOKS routing agent to send traffic for the on-prem
// network through the WireGuard gateway's VPC address.
func newOnpremRoute(ctx *pulumi.Context, name string, args *Args, provider *kubernetes.Provider, parent pulumi.ResourceOption) error {
	_, err := apiextensions.NewCustomResource(ctx, name+"-route-onprem", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("networking.doks.digitalocean.com/v1alpha1"),
		Kind:       pulumi.String("Route"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String("onprem-via-wireguard")},
		OtherFields: kubernetes.UntypedArgs{
			"spec": map[string]any{
				"destinations": []string{args.OnpremCidr},
				"gateways":     pulumi.StringArray{args.GatewayPrivateIP},
			},
		},
	}, parent, pulumi.Provider(provider))
	return err
}
