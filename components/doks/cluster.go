package doks

import (
	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
)

// newCluster declares the cluster in the VPC with its default pool (the
// system pool), and the workload pools. Registry integration is ordered
// after the registry exists.
func newCluster(ctx *pulumi.Context, name string, args *Args, registry *digitalocean.ContainerRegistry, parent pulumi.ResourceOption) (*digitalocean.KubernetesCluster, error) {
	d := args.Doks
	// kubeConfigs holds a bearer token: secret in state whatever the SDK marks.
	opts := []pulumi.ResourceOption{parent, pulumi.Protect(true), pulumi.DependsOn([]pulumi.Resource{registry}),
		pulumi.AdditionalSecretOutputs([]string{"kubeConfigs"})}
	// No IgnoreChanges on version: auto-upgrade applies only patch releases
	// of the line, and args.Version is the newest slug of that line resolved
	// at each run, so DigitalOcean's upgrades and the program agree. A minor
	// upgrade in config (doks.kubernetesMinor) is then a visible, applied diff.
	// The default pool is the system pool: its size is ForceNew and, nested
	// in the cluster, replaces the cluster (config.ProdSystemPoolSize), so
	// workloads live on their own KubernetesNodePools (newPool).
	pool := d.SystemPool
	cluster, err := digitalocean.NewKubernetesCluster(ctx, name, &digitalocean.KubernetesClusterArgs{
		Name:          pulumi.String(args.Prefix + "-doks"),
		Region:        pulumi.String(args.Region),
		Version:       pulumi.String(args.Version),
		VpcUuid:       args.VpcID,
		ClusterSubnet: pulumi.String(args.PodCidr.String()),
		ServiceSubnet: pulumi.String(args.ServiceCidr.String()),
		Ha:            pulumi.Bool(d.HA),
		AutoUpgrade:   pulumi.Bool(d.AutoUpgrade),
		SurgeUpgrade:  pulumi.Bool(d.SurgeUpgrade),
		MaintenancePolicy: &digitalocean.KubernetesClusterMaintenancePolicyArgs{
			Day:       pulumi.String(d.Maintenance.Day),
			StartTime: pulumi.String(d.Maintenance.StartTime),
		},
		RegistryIntegration: pulumi.Bool(true),
		RoutingAgent:        &digitalocean.KubernetesClusterRoutingAgentArgs{Enabled: pulumi.Bool(true)},
		ControlPlaneFirewall: &digitalocean.KubernetesClusterControlPlaneFirewallArgs{
			Enabled:          pulumi.Bool(true),
			AllowedAddresses: pulumi.ToStringArray(config.Strings(d.ControlPlaneAllowedCidrs)),
		},
		NodePool: digitalocean.KubernetesClusterNodePoolArgs{
			Name:      pulumi.String(pool.Name),
			Size:      pulumi.String(pool.Size),
			AutoScale: pulumi.Bool(true),
			MinNodes:  pulumi.Int(pool.MinNodes),
			MaxNodes:  pulumi.Int(pool.MaxNodes),
			Labels:    pulumi.ToStringMap(pool.Labels),
			Tags:      pulumi.ToStringArray(pool.Tags),
			Taints:    clusterTaints(pool.Taints),
		},
		Tags:                          pulumi.StringArray{pulumi.String(args.Prefix)},
		DestroyAllAssociatedResources: pulumi.Bool(false),
	}, opts...)
	if err != nil {
		return nil, err
	}
	for _, p := range append([]config.NodePool{d.NodePool}, d.ExtraPools...) {
		if err := newPool(ctx, name, cluster, p, parent); err != nil {
			return nil, err
		}
	}
	return cluster, nil
}

// newPool declares a workload pool. Its Pulumi name follows the configured
// name only, so a new size is a replacement of the same resource, not a
// delete and an unrelated create. A new size (ForceNew) replaces only this
// pool: the pool is named CloudName, NAME-SIZE, so the replacement does not
// clash with the old pool, and DeleteBeforeReplace(false) has it created
// before the old one is deleted. The option is needed: the bridge auto-names
// `name` and asks for delete-before-replace whenever a program sets it
// itself (pulumi-terraform-bridge v3.135.0 pkg/tfbridge/provider.go:1275-1276,
// schema.go:193-245), and the program's option wins over the provider's
// request (pulumi pkg v3.274.1 resource/deploy/step_generator.go:2142-2145).
func newPool(ctx *pulumi.Context, name string, cluster *digitalocean.KubernetesCluster, p config.NodePool, parent pulumi.ResourceOption) error {
	_, err := digitalocean.NewKubernetesNodePool(ctx, name+"-pool-"+p.Name, &digitalocean.KubernetesNodePoolArgs{
		ClusterId: cluster.ID(),
		Name:      pulumi.String(p.CloudName()),
		Size:      pulumi.String(p.Size),
		AutoScale: pulumi.Bool(true),
		MinNodes:  pulumi.Int(p.MinNodes),
		MaxNodes:  pulumi.Int(p.MaxNodes),
		Labels:    pulumi.ToStringMap(p.Labels),
		Tags:      pulumi.ToStringArray(p.Tags),
		Taints:    poolTaints(p.Taints),
	}, parent, pulumi.DeleteBeforeReplace(false))
	return err
}
