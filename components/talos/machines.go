package talos

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumiverse/pulumi-talos/sdk/go/talos/client"
	talcluster "github.com/pulumiverse/pulumi-talos/sdk/go/talos/cluster"
	"github.com/pulumiverse/pulumi-talos/sdk/go/talos/machine"

	"github.com/hybridcloud/platform/components/talos/machineconfig"
	"github.com/hybridcloud/platform/internal/config"
)

type machines struct {
	kubeconfig  pulumi.StringOutput
	talosconfig pulumi.StringOutput
}

// newMachines declares the Talos chain: secrets, one ConfigurationApply per
// node, the bootstrap after every control-plane apply, then the kubeconfig.
func newMachines(ctx *pulumi.Context, c *Cluster, a *Args) (*machines, error) {
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

	patches, err := machineconfig.Render(a.machineInput())
	if err != nil {
		return nil, err
	}
	// The wg0 patch holds the private key: it stays a secret.
	tunnel := pulumi.ToSecret(a.WireGuard.PrivateKey).(pulumi.StringOutput).ApplyT(patches.Tunnel).(pulumi.StringOutput)
	base := machineconfig.BaseFor(t)

	// The base machine config per role; the patches go on each apply, where
	// the plan shows them.
	roleConfig := map[string]pulumi.StringOutput{}
	for _, role := range []string{config.RoleControlPlane, config.RoleWorker} {
		cfg := machine.GetConfigurationOutput(ctx, machine.GetConfigurationOutputArgs{
			ClusterName:       pulumi.String(base.ClusterName),
			MachineType:       pulumi.String(role),
			ClusterEndpoint:   pulumi.String(base.Endpoint),
			MachineSecrets:    machineSecrets,
			TalosVersion:      pulumi.String(base.TalosVersion),
			KubernetesVersion: pulumi.String(base.KubernetesVersion),
			Docs:              pulumi.Bool(false),
			Examples:          pulumi.Bool(false),
		}, parent)
		roleConfig[role] = pulumi.ToSecret(cfg.MachineConfiguration()).(pulumi.StringOutput)
	}

	var cpApplies []pulumi.Resource
	for _, n := range t.Nodes {
		apply, err := machine.NewConfigurationApply(ctx, n.Name, &machine.ConfigurationApplyArgs{
			ClientConfiguration:       clientCfg,
			MachineConfigurationInput: roleConfig[n.Role],
			// The node's own address: the VIP moves and is not up yet.
			Node:          pulumi.String(n.IP.String()),
			ConfigPatches: nodePatches(patches, tunnel, n),
			ApplyMode:     pulumi.String(ApplyMode),
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
		Node:                pulumi.String(first.IP.String()),
		Endpoint:            pulumi.String(first.IP.String()),
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
		Node:     pulumi.String(first.IP.String()),
		Endpoint: pulumi.String(first.IP.String()),
	}, parent, pulumi.DependsOn([]pulumi.Resource{bootstrap}),
		pulumi.AdditionalSecretOutputs([]string{"kubeconfigRaw", "kubernetesClientConfiguration"}))
	if err != nil {
		return nil, err
	}

	var endpoints, nodes, workers pulumi.StringArray
	for _, n := range t.Nodes {
		if n.Role == config.RoleControlPlane {
			// talosctl talks to the nodes directly, never through the VIP.
			endpoints = append(endpoints, pulumi.String(n.IP.String()))
		} else {
			workers = append(workers, pulumi.String(n.IP.String()))
		}
		nodes = append(nodes, pulumi.String(n.IP.String()))
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

// ApplyMode is how every node takes a changed machine config on `up`
// (terraform-provider-talos v0.10.1, the provider pulumi-talos v0.7.1
// bridges: pkg/talos/talos_machine_configuration_apply_resource.go:102-111,
// one of auto, reboot, no_reboot, staged, staged_if_needing_reboot; the
// default is auto). The provider dry-runs the change at plan time
// (handleRebootPrevention, :529-540): a change Talos applies live is applied
// with auto, one that needs a reboot is staged (:555-560, with the warning
// "Reboot prevented - using staged mode") and takes effect at the node's
// next reboot. With auto such a change would reboot every affected node at
// once (Talos v1.12.11 ApplyConfiguration: AUTO turns into REBOOT when the
// config cannot be applied immediately), since Pulumi updates the applies
// in parallel: all control-plane nodes together lose etcd quorum. Reboots
// stay with cmd/talos-upgrade and the operator, one node at a time
// (docs/onprem.md, "How a machine-config change reaches the nodes").
const ApplyMode = "staged_if_needing_reboot"

// HealthTimeout bounds the health gate\'s wait for the control plane.
const HealthTimeout = "10m"

// nodePatches lists node n's patches in merge order (machineconfig's), the
// secret tunnel patch last on the WireGuard node.
func nodePatches(p *machineconfig.Patches, tunnel pulumi.StringOutput, n config.TalosNode) pulumi.StringArray {
	out := pulumi.ToStringArray(p.Public(n))
	if p.CarriesTunnel(n) {
		out = append(out, tunnel)
	}
	return out
}
