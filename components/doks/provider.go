package doks

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newProvider builds the Kubernetes provider for the cluster.
//
// Its kubeconfig holds no token. It names the cluster's endpoint and CA
// (outputs of the cluster resource, which do not change while the cluster
// lives) and asks doctl for a token whenever the provider connects: the
// client-go exec plugin, as `doctl kubernetes cluster kubeconfig save`
// writes it (checked: doctl v1.166.0 commands/kubernetes.go, the ExecConfig
// with APIVersion client.authentication.k8s.io/v1beta1 and the arguments of
// doctlExecArgs). doctl mints the token through the cluster credentials
// endpoint (/v2/kubernetes/clusters/ID/credentials), the credential
// DigitalOcean documents for DOKS, authenticated by DIGITALOCEAN_ACCESS_TOKEN
// (commands/doit.go initConfig: the DIGITALOCEAN_ env prefix), and caches
// it under $XDG_CONFIG_HOME/doctl/cache/exec-credential until it expires
// (commands/kubernetes.go loadCachedExecCredential).
//
// The document is the same at every run, so the provider never shows a
// diff and `pulumi preview --expect-no-changes` (the drift job) holds. An
// earlier version put a token from the cluster lookup into the kubeconfig:
// the lookup mints a new one on every read, so every preview showed the
// provider as changed. clusterIdentifier is the cluster id, so that a
// change of endpoint or CA updates the provider and never replaces it (or
// what it deployed).
func newProvider(ctx *pulumi.Context, name string, cluster *digitalocean.KubernetesCluster, parent pulumi.ResourceOption) (*kubernetes.Provider, pulumi.StringOutput, error) {
	ca := cluster.KubeConfigs.Index(pulumi.Int(0)).ClusterCaCertificate()
	kubeconfig := pulumi.All(cluster.Name, cluster.Endpoint, ca, cluster.ID()).ApplyT(func(v []any) (string, error) {
		caData, _ := v[2].(*string)
		if caData == nil || *caData == "" {
			return "", fmt.Errorf("doks: cluster %s reports no CA certificate in kubeConfigs[0]", v[0])
		}
		return kubeconfigYAML(v[0].(string), v[1].(string), *caData, string(v[3].(pulumi.ID))), nil
	}).(pulumi.StringOutput)
	// It holds no token, but it is the way into production: a secret like
	// every kubeconfig.
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

// DoctlCommand is the program the kubeconfig runs for a token. It must be on
// the PATH of whatever runs the Kubernetes provider (the deploy runners get
// it from .github/actions/doctl, pinned in tools/doctl/go.mod).
const DoctlCommand = "doctl"

// doctlExecArgs are the arguments doctl v1.166.0 writes into a saved
// kubeconfig (commands/kubernetes.go), without --context: the token then
// comes from DIGITALOCEAN_ACCESS_TOKEN, not from a doctl auth context.
func doctlExecArgs(clusterID string) []string {
	return []string{"kubernetes", "cluster", "kubeconfig", "exec-credential", "--version=v1beta1", clusterID}
}

// kubeconfigYAML renders a kubeconfig for a DOKS cluster; caData is the
// base64 PEM DOKS reports as clusterCaCertificate. The user runs doctl for a
// token (the ExecConfig fields apiVersion, command, args and interactiveMode
// "Never": checked in k8s.io/client-go v0.33.3, the client-go of
// pulumi-kubernetes 4.25.0, tools/clientcmd/api/v1/types.go).
func kubeconfigYAML(cluster, endpoint, caData, clusterID string) string {
	var args strings.Builder
	for _, a := range doctlExecArgs(clusterID) {
		fmt.Fprintf(&args, "          - %q\n", a)
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
  - name: %[1]s
    cluster:
      server: %[2]s
      certificate-authority-data: %[3]s
users:
  - name: %[1]s-doctl
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1beta1
        command: %[4]s
        args:
%[5]s        interactiveMode: Never
contexts:
  - name: %[1]s
    context:
      cluster: %[1]s
      user: %[1]s-doctl
current-context: %[1]s
`, cluster, endpoint, caData, DoctlCommand, args.String())
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
				"destinations": []string{args.OnpremCidr.String()},
				"gateways":     pulumi.StringArray{args.GatewayPrivateIP},
			},
		},
	}, parent, pulumi.Provider(provider), pulumi.DependsOn([]pulumi.Resource{crdReady}))
	return err
}
