package talos

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumiverse/pulumi-talos/sdk/go/talos/client"
	talcluster "github.com/pulumiverse/pulumi-talos/sdk/go/talos/cluster"
	"github.com/pulumiverse/pulumi-talos/sdk/go/talos/machine"

	"github.com/hybridcloud/platform/internal/config"
)

type machines struct {
	kubeconfig  pulumi.StringOutput
	talosconfig pulumi.StringOutput
}

// newMachines declares the Talos chain: secrets, one ConfigurationApply per
// node, the bootstrap after every control-plane apply, then the kubeconfig.
func newMachines(ctx *pulumi.Context, c *TalosCluster, a *Args) (*machines, error) {
	t := a.Talos
	parent := pulumi.Parent(c)

	// The cluster's CA and keys: losing them means rebuilding the cluster.
	// The SDK does not mark them secret; the program does, in state
	// (AdditionalSecretOutputs) and wherever they flow (ToSecret).
	secrets, err := machine.NewSecrets(ctx, t.ClusterName, &machine.SecretsArgs{
		TalosVersion: pulumi.String(t.TalosVersion),
	}, parent, pulumi.Protect(true),
		pulumi.AdditionalSecretOutputs([]string{"machineSecrets", "clientConfiguration"}))
	if err != nil {
		return nil, err
	}
	machineSecrets := pulumi.ToSecret(secrets.MachineSecrets).(machine.MachineSecretsOutput)
	clientCfg := pulumi.ToSecret(secrets.ClientConfiguration).(machine.ClientConfigurationOutput)

	patches, err := renderPatches(a)
	if err != nil {
		return nil, err
	}

	// The base machine config per role; the patches go on each apply, where
	// the plan shows them.
	base := map[string]pulumi.StringOutput{}
	for _, role := range []string{config.RoleControlPlane, config.RoleWorker} {
		cfg := machine.GetConfigurationOutput(ctx, machine.GetConfigurationOutputArgs{
			ClusterName:       pulumi.String(t.ClusterName),
			MachineType:       pulumi.String(role),
			ClusterEndpoint:   pulumi.String(endpoint(t)),
			MachineSecrets:    machineSecrets,
			TalosVersion:      pulumi.String(t.TalosVersion),
			KubernetesVersion: pulumi.String(t.KubernetesVersion),
			Docs:              pulumi.Bool(false),
			Examples:          pulumi.Bool(false),
		}, parent)
		base[role] = pulumi.ToSecret(cfg.MachineConfiguration()).(pulumi.StringOutput)
	}

	var cpApplies []pulumi.Resource
	for _, n := range t.Nodes {
		apply, err := machine.NewConfigurationApply(ctx, n.Name, &machine.ConfigurationApplyArgs{
			ClientConfiguration:       clientCfg,
			MachineConfigurationInput: base[n.Role],
			// The node's own address: the VIP moves and is not up yet.
			Node:          pulumi.String(n.IP),
			ConfigPatches: patches.forNode(n),
			// The applied config carries the cluster's keys (and, on the
			// tunnel node, the WireGuard private key).
		}, parent, pulumi.AdditionalSecretOutputs([]string{"machineConfiguration"}))
		if err != nil {
			return nil, err
		}
		if n.Role == config.RoleControlPlane {
			cpApplies = append(cpApplies, apply)
		}
	}

	// etcd is bootstrapped once, on the first control-plane node, and only
	// after every control-plane node has its config: the provider does not
	// wait for the applies by itself.
	first := t.ControlPlanes()[0]
	bootstrap, err := machine.NewBootstrap(ctx, t.ClusterName, &machine.BootstrapArgs{
		ClientConfiguration: clientCfg,
		Node:                pulumi.String(first.IP),
		Endpoint:            pulumi.String(first.IP),
		// Protected: a replaced Bootstrap would meet an etcd that is already
		// bootstrapped, and the provider retries "already bootstrapped" for
		// its whole 10-minute timeout before failing. A change that would
		// replace it (another first control-plane node) must fail at once;
		// docs/runbooks say how to move it deliberately.
	}, parent, pulumi.DependsOn(cpApplies), pulumi.Protect(true))
	if err != nil {
		return nil, err
	}

	kubeconfig, err := talcluster.NewKubeconfig(ctx, t.ClusterName, &talcluster.KubeconfigArgs{
		// The cluster package has its own client-configuration type.
		ClientConfiguration: talcluster.KubeconfigClientConfigurationArgs{
			CaCertificate:     clientCfg.CaCertificate(),
			ClientCertificate: clientCfg.ClientCertificate(),
			ClientKey:         clientCfg.ClientKey(),
		},
		Node:     pulumi.String(first.IP),
		Endpoint: pulumi.String(first.IP),
	}, parent, pulumi.DependsOn([]pulumi.Resource{bootstrap}),
		pulumi.AdditionalSecretOutputs([]string{"kubeconfigRaw", "kubernetesClientConfiguration"}))
	if err != nil {
		return nil, err
	}

	var endpoints, nodes, workers pulumi.StringArray
	for _, n := range t.Nodes {
		if n.Role == config.RoleControlPlane {
			// talosctl talks to the nodes directly, never through the VIP.
			endpoints = append(endpoints, pulumi.String(n.IP))
		} else {
			workers = append(workers, pulumi.String(n.IP))
		}
		nodes = append(nodes, pulumi.String(n.IP))
	}

	// The first `up` from nothing: nothing in Kubernetes may be declared
	// before the API answers. The Talos cluster health check runs after the
	// bootstrap, and the kubeconfig the Kubernetes provider uses is released
	// only by its result. Checked in terraform-provider-talos v0.10.1
	// (pkg/talos/talos_cluster_health_data_source.go): with
	// skipKubernetesChecks it waits for check.PreBootSequenceChecks and
	// check.K8sComponentsReadinessChecks (etcd, apid, kubelet, the
	// control-plane static pods ready), and fails the run with "cluster
	// health check failed" after the read timeout (default 10m). The full
	// checks also want every node Ready, which cannot happen before the CNI
	// (Cilium, a Helm release of this program) is in: they would deadlock.
	// The wait is at most HealthTimeout after the Bootstrap (itself at most
	// 10 minutes). On later runs it checks a running cluster in seconds; an
	// unhealthy control plane stops the platform layer instead of
	// half-applying it.
	health := talcluster.GetHealthOutput(ctx, talcluster.GetHealthOutputArgs{
		ClientConfiguration: talcluster.GetHealthClientConfigurationArgs{
			CaCertificate:     clientCfg.CaCertificate(),
			ClientCertificate: clientCfg.ClientCertificate(),
			ClientKey:         clientCfg.ClientKey(),
		},
		Endpoints:            endpoints,
		ControlPlaneNodes:    endpoints,
		WorkerNodes:          workers,
		SkipKubernetesChecks: pulumi.Bool(true),
		Timeouts:             talcluster.GetHealthTimeoutsArgs{Read: pulumi.String(HealthTimeout)},
	}, parent, pulumi.DependsOn([]pulumi.Resource{bootstrap, kubeconfig}))
	gated := pulumi.All(health.Id(), kubeconfig.KubeconfigRaw).ApplyT(func(v []any) string { return v[1].(string) }).(pulumi.StringOutput)
	talosconfig := client.GetConfigurationOutput(ctx, client.GetConfigurationOutputArgs{
		ClusterName: pulumi.String(t.ClusterName),
		ClientConfiguration: client.GetConfigurationClientConfigurationArgs{
			CaCertificate:     clientCfg.CaCertificate(),
			ClientCertificate: clientCfg.ClientCertificate(),
			ClientKey:         clientCfg.ClientKey(),
		},
		Endpoints: endpoints,
		Nodes:     nodes,
	}, parent)

	return &machines{
		kubeconfig:  pulumi.ToSecret(gated).(pulumi.StringOutput),
		talosconfig: pulumi.ToSecret(talosconfig.TalosConfig()).(pulumi.StringOutput),
	}, nil
}

// HealthTimeout bounds the health gate's wait for the control plane.
const HealthTimeout = "10m"

// nodePatches are the rendered patches: readable YAML strings, except the
// WireGuard patch, which holds the private key and stays a secret.
type nodePatches struct {
	cluster      string
	controlPlane string
	node         map[string]string
	wireguard    pulumi.StringOutput
	wireguardOn  string
}

func renderPatches(a *Args) (*nodePatches, error) {
	p := &nodePatches{node: map[string]string{}, wireguardOn: a.Talos.WireguardNode}
	var err error
	if p.cluster, err = render(clusterPatch(a)); err != nil {
		return nil, err
	}
	if p.controlPlane, err = render(controlPlanePatch(a)); err != nil {
		return nil, err
	}
	for _, n := range a.Talos.Nodes {
		if p.node[n.Name], err = render(nodePatch(a, n)); err != nil {
			return nil, err
		}
	}
	p.wireguard = pulumi.ToSecret(a.WireGuard.PrivateKey).(pulumi.StringOutput).ApplyT(
		func(key string) (string, error) { return render(wireguardPatch(a, key)) },
	).(pulumi.StringOutput)
	return p, nil
}

// forNode lists a node's patches in merge order: cluster, role, node, tunnel.
func (p *nodePatches) forNode(n config.TalosNode) pulumi.StringArray {
	out := pulumi.StringArray{pulumi.String(p.cluster)}
	if n.Role == config.RoleControlPlane {
		out = append(out, pulumi.String(p.controlPlane))
	}
	out = append(out, pulumi.String(p.node[n.Name]))
	if n.Name == p.wireguardOn {
		out = append(out, pulumi.ToSecret(p.wireguard).(pulumi.StringOutput))
	}
	return out
}
