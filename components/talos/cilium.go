package talos

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/versions"
)

// newCilium declares the Kubernetes provider for this cluster and installs
// Cilium with the values Talos documents:
//   - kube-proxy replacement on (cluster.proxy.disabled in the machine
//     config): one dataplane for Services and NetworkPolicy, and Cilium
//     reaches the API through KubePrism on localhost, so it needs no Service
//     IP and no kube-proxy to start;
//   - cgroup v2 is already mounted by Talos at /sys/fs/cgroup;
//   - no SYS_MODULE capability: Talos does not let pods load kernel modules.
func newCilium(ctx *pulumi.Context, c *TalosCluster, name string) error {
	provider, err := kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{
		Kubeconfig: c.Kubeconfig,
	}, pulumi.Parent(c))
	if err != nil {
		return err
	}
	chart, err := helmv4.NewChart(ctx, "cilium", &helmv4.ChartArgs{
		Chart:          pulumi.String(versions.Cilium.Name),
		Version:        pulumi.String(versions.Cilium.Version),
		RepositoryOpts: helmv4.RepositoryOptsArgs{Repo: pulumi.String(versions.Cilium.Repo)},
		Namespace:      pulumi.String("kube-system"),
		Values:         ciliumValues(),
	}, pulumi.Parent(c), pulumi.Provider(provider))
	if err != nil {
		return err
	}
	c.Provider, c.Cni = provider, chart
	return nil
}

func ciliumValues() pulumi.Map {
	return pulumi.Map{
		"ipam":                 pulumi.Map{"mode": pulumi.String("kubernetes")},
		"kubeProxyReplacement": pulumi.Bool(true),
		"k8sServiceHost":       pulumi.String("localhost"),
		"k8sServicePort":       pulumi.Int(KubePrismPort),
		"cgroup": pulumi.Map{
			"autoMount": pulumi.Map{"enabled": pulumi.Bool(false)},
			"hostRoot":  pulumi.String("/sys/fs/cgroup"),
		},
		"securityContext": pulumi.Map{"capabilities": pulumi.Map{
			"ciliumAgent": pulumi.ToStringArray([]string{
				"CHOWN", "KILL", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "SYS_ADMIN",
				"SYS_RESOURCE", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID",
			}),
			"cleanCiliumState": pulumi.ToStringArray([]string{"NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"}),
		}},
		// NetworkPolicy is enforced; "default" mode allows traffic to pods
		// that no policy selects, as Kubernetes specifies.
		"policyEnforcementMode": pulumi.String("default"),
	}
}
