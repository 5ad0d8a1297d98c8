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

// newProvider builds the Kubernetes provider from DOKS credentials fetched
// afresh at every run.
//
// DigitalOcean documents one way to authenticate to a DOKS cluster: a
// cluster token minted by the credentials endpoint
// (/v2/kubernetes/clusters/ID/credentials; doctl's exec plugin uses it). The
// cluster lookup (the getKubernetesCluster data source) calls that endpoint
// on every read with kubeconfig_expire_seconds as expiry_seconds (checked:
// terraform-provider-digitalocean v2.96.0 datasource_kubernetes_cluster.go
// and resource_kubernetes_cluster.go, GetCredentials with ExpirySeconds; a
// data source has no prior state, so it always mints). A run therefore
// holds a token valid for config.DoksCredentialSeconds, not the 7 days the
// endpoint gives when no expiry is asked for, and the token kept in state
// (kubeConfigs of the cluster resource) is never used.
//
// The lookup is skipped while the cluster is being created (its name is an
// output of the cluster; an invoke with a pending dependency is not run in
// a preview: checked in pulumi/sdk v3.274.1 go/pulumi/context.go,
// invokePackageRaw). clusterIdentifier is the cluster id, so a new token
// updates the provider and never replaces it (or what it deployed).
func newProvider(ctx *pulumi.Context, name string, cluster *digitalocean.KubernetesCluster, parent pulumi.ResourceOption) (*kubernetes.Provider, pulumi.StringOutput, error) {
	creds := digitalocean.LookupKubernetesClusterOutput(ctx, digitalocean.LookupKubernetesClusterOutputArgs{
		Name:                    cluster.Name,
		KubeconfigExpireSeconds: pulumi.Int(config.DoksCredentialSeconds),
	}).KubeConfigs().Index(pulumi.Int(0))
	kubeconfig := pulumi.All(cluster.Name, creds.Host(), creds.ClusterCaCertificate(), creds.Token()).ApplyT(func(v []any) string {
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
// It waits for the Route CRD (routewait.go).
func newOnpremRoute(ctx *pulumi.Context, name string, args *Args, provider *kubernetes.Provider, parent pulumi.ResourceOption) error {
	crdReady, err := newRouteCRDWait(ctx, name, provider, parent)
	if err != nil {
		return err
	}
	_, err = apiextensions.NewCustomResource(ctx, name+"-route-onprem", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("networking.doks.digitalocean.com/v1alpha1"),
		Kind:       pulumi.String("Route"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String("onprem-via-wireguard")},
		OtherFields: kubernetes.UntypedArgs{
			"spec": map[string]any{
				"destinations": []string{args.OnpremCidr},
				"gateways":     pulumi.StringArray{args.GatewayPrivateIP},
			},
		},
	}, parent, pulumi.Provider(provider), pulumi.DependsOn([]pulumi.Resource{crdReady}))
	return err
}
