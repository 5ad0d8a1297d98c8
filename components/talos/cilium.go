package talos

import (
	"slices"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/components/talos/machineconfig"
	"github.com/hybridcloud/platform/internal/clusterapi"
	"github.com/hybridcloud/platform/internal/config"
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
//
// and the values the ingress needs (components/ingress: a one-address
// CiliumLoadBalancerIPPool and a CiliumL2AnnouncementPolicy on the node
// interfaces):
//   - L2 announcements on: the agent answers ARP for the load-balancer IP
//     (LB-IPAM itself is on by default in the chart);
//   - devices = the node interfaces from config: announcements only work on
//     devices Cilium attaches to;
//   - a raised API client rate limit: every announced Service holds a Lease
//     that its node renews through the API server.
func newCilium(ctx *pulumi.Context, c *Cluster, name string, a *Args) error {
	provider, err := kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{
		Kubeconfig: c.Kubeconfig,
	}, pulumi.Parent(c))
	if err != nil {
		return err
	}
	pin := versions.Cilium.From(a.ChartRepository)
	chart, err := helmv4.NewChart(ctx, clusterapi.CiliumRelease, &helmv4.ChartArgs{
		Chart:          pulumi.String(pin.Name),
		Version:        pulumi.String(pin.Version),
		RepositoryOpts: helmv4.RepositoryOptsArgs{Repo: pulumi.String(pin.Repo)},
		Namespace:      pulumi.String("kube-system"),
		Values:         ciliumValues(a),
	}, pulumi.Parent(c), pulumi.Provider(provider))
	if err != nil {
		return err
	}
	c.Provider, c.Cni = provider, chart
	return nil
}

// Kubernetes API client rate limit of the agent and operator, as Cilium's
// L2 announcement docs advise: the chart default (10 qps, burst 20 on
// Kubernetes 1.27+) is used up by lease renewals plus normal watches. Size
// it as services / leaseRenewDeadline (5 s by default) when more Services
// are announced.
const (
	ciliumClientQPS   = 20
	ciliumClientBurst = 50
)

// ciliumDevices are the node interfaces from config, deduplicated and
// sorted, so the values do not depend on the order of talos.nodes.
func ciliumDevices(t config.Talos) []string {
	var devices []string
	for _, n := range t.Nodes {
		if !slices.Contains(devices, n.Interface) {
			devices = append(devices, n.Interface)
		}
	}
	slices.Sort(devices)
	return devices
}

func ciliumValues(a *Args) pulumi.Map {
	return pulumi.Map{
		"ipam":                 pulumi.Map{"mode": pulumi.String("kubernetes")},
		"kubeProxyReplacement": pulumi.Bool(true),
		"k8sServiceHost":       pulumi.String("localhost"),
		"k8sServicePort":       pulumi.Int(machineconfig.KubePrismPort),
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
		// CIDR rules select node addresses too, as a Kubernetes
		// NetworkPolicy ipBlock does elsewhere: without it Cilium gives
		// nodes the host/remote-node identities, which no ipBlock matches,
		// and the etcd snapshot job's allow to the Talos API on the
		// control-plane addresses (components/etcdbackup) would match
		// nothing. Checked: cilium 1.18.12 chart values.yaml:2340-2342
		// ("a list of entities that may be selected by CIDR selector. The
		// possible value is "nodes""), templates/cilium-configmap.yaml:212.
		"policyCIDRMatchMode": pulumi.ToStringArray([]string{"nodes"}),
		// The ingress address: LB-IPAM assigns it, L2 announcements answer
		// ARP for it on these devices. (cilium 1.18's values and templates
		// have no externalIPs key: kube-proxy replacement covers it.)
		"l2announcements": pulumi.Map{"enabled": pulumi.Bool(true)},
		"devices":         pulumi.ToStringArray(ciliumDevices(a.Talos)),
		"k8sClientRateLimit": pulumi.Map{
			"qps":   pulumi.Int(ciliumClientQPS),
			"burst": pulumi.Int(ciliumClientBurst),
		},
	}
}
