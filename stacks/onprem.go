package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/components/etcdbackup"
	"github.com/hybridcloud/platform/components/platform"
	"github.com/hybridcloud/platform/components/registry"
	"github.com/hybridcloud/platform/components/storage"
	"github.com/hybridcloud/platform/components/talos"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/prodref"
	"github.com/hybridcloud/platform/internal/talosupgrade/stackout"
)

// Onprem is the on-premises side: the Talos cluster, its storage, the
// platform layer and the registry pull secret. It reads the prod stack (WireGuard gateway,
// registry) and stops with a clear error when prod is not up yet.
func Onprem(ctx *pulumi.Context, cfg *config.Config) (pulumi.Map, error) {
	if err := warnSupport(ctx, cfg, ""); err != nil {
		return nil, err
	}
	gatewayTunnel, onpremTunnel := cfg.Network.TunnelAddresses()
	prod, err := prodref.Read(ctx, cfg.ProdStackRef, gatewayTunnel.Addr())
	if err != nil {
		return nil, err
	}
	// A node dropped from talos.nodes loses its ConfigurationApply and
	// nothing else; unless it is marked decommissioned, that is refused here.
	if err := checkNodeRemovals(ctx, cfg); err != nil {
		return nil, err
	}
	tp, err := newTalos(ctx)
	if err != nil {
		return nil, err
	}
	cluster, err := talos.New(ctx, cfg.Talos.ClusterName, &talos.Args{
		Talos: cfg.Talos, Network: cfg.Network, LocalStoragePath: cfg.Storage.LocalPath,
		ChartRepository: cfg.Platform.ChartRepository,
		WireGuard: talos.WireGuard{
			PrivateKey: cfg.Secrets.WireguardOnpremPrivateKey.Output(),
			Address:    onpremTunnel,
			ListenPort: cfg.Network.WireguardPort,
			Peer: talos.Peer{
				PublicKey: prod.GatewayPublicKey, Endpoint: prod.GatewayEndpoint.String(),
				AllowedIPs: prod.OnpremRoutes, Gateway: prod.GatewayTunnelIP,
			},
		},
	}, pulumi.Providers(tp))
	if err != nil {
		return nil, err
	}
	disks, err := storage.New(ctx, cfg.Talos.ClusterName, &storage.Args{
		Provider: cluster.Provider, Storage: cfg.Storage, Cni: cluster.Cni,
		ChartRepository: cfg.Platform.ChartRepository,
	})
	if err != nil {
		return nil, err
	}
	args := PlatformArgs(cfg)
	args.Provider = cluster.Provider
	args.StorageClass = storage.LocalClass
	args.SpacesRegion = pulumi.String(prod.SpacesRegion)
	args.BackupsBucket = pulumi.String(prod.Buckets[config.ConsumerVelero])
	args.LogsBucket = pulumi.String(prod.Buckets[config.ConsumerLoki])
	args.AppBucket = pulumi.String(prod.Buckets[config.ConsumerApp])
	args.Loki = platform.SpacesCredentials{AccessKey: prod.Keys[config.ConsumerLoki].AccessKey, SecretKey: prod.Keys[config.ConsumerLoki].SecretKey}
	args.Velero = platform.SpacesCredentials{AccessKey: prod.Keys[config.ConsumerVelero].AccessKey, SecretKey: prod.Keys[config.ConsumerVelero].SecretKey}
	// Pods need the CNI, and the ingress's LB-IPAM resources are Cilium's.
	args.DependsOn = []pulumi.Resource{cluster.Cni}
	// Prometheus, Alertmanager, Grafana and Loki claim local-ssd volumes.
	args.VolumesAfter = disks.Ready
	// This cluster is the failover origin: it routes what prod's edge
	// publishes and probes itself as prod's monitor does.
	args.Edge = platform.EdgeContract{UIs: prod.PublishedUIs, OriginCheck: prod.OriginCheck}
	layer, err := platform.New(ctx, "platform", args)
	if err != nil {
		return nil, err
	}
	etcdRPO, err := cfg.Talos.EtcdBackup.RPO()
	if err != nil {
		return nil, err // validation has proved the schedule runs
	}
	etcd, err := etcdbackup.New(ctx, "etcd-backup", &etcdbackup.Args{
		Namespace:   layer.Namespace(config.EtcdBackupNamespace),
		ClusterName: cfg.Talos.ClusterName,
		Prefix:      config.EtcdBackupPrefix(cfg.Stack),
		Schedule:    cfg.Talos.EtcdBackup.Schedule,
		// Velero's bucket and Spaces key: the snapshots sit beside its
		// prefix in the same bucket.
		Bucket:          args.BackupsBucket,
		Region:          args.SpacesRegion,
		Endpoint:        pulumi.String("https://" + prod.SpacesRegion + ".digitaloceanspaces.com"),
		AccessKey:       args.Velero.AccessKey,
		SecretKey:       args.Velero.SecretKey,
		AgeRecipient:    cfg.Secrets.EtcdBackupAgeRecipient.Output(),
		ControlPlaneIPs: config.Strings(cfg.Talos.ControlPlaneIPs()),
		RPO:             etcdRPO,
		After:           []pulumi.Resource{cluster.Cni},
		// The PrometheusRule kind comes with the platform's monitoring.
		AlertsAfter: []pulumi.Resource{layer},
	}, pulumi.Provider(cluster.Provider))
	if err != nil {
		return nil, err
	}
	pull, err := registry.New(ctx, cfg.PullSecret.Name, &registry.Args{
		Provider: cluster.Provider, SecretName: cfg.PullSecret.Name,
		Namespaces: cfg.PullSecret.Namespaces, Namespace: layer.Namespace,
		DockerConfig: prod.RegistryDockerConfig,
	})
	if err != nil {
		return nil, err
	}
	var nodes pulumi.MapArray
	for _, n := range cfg.Talos.Nodes {
		nodes = append(nodes, pulumi.Map{"name": pulumi.String(n.Name), "ip": pulumi.String(n.IP.String()), "role": pulumi.String(n.Role)})
	}
	outputs := pulumi.Map{
		"addressPlan":        addressPlan(cfg),
		stackout.Kubeconfig:  cluster.Kubeconfig,
		stackout.Talosconfig: cluster.Talosconfig,
		"kubernetesEndpoint": cluster.Endpoint,
		"talosEndpoints":     pulumi.ToStringArray(config.Strings(cfg.Talos.ControlPlaneIPs())),
		// prod's network.onpremWireguardPublicKey must equal this.
		"wireguardPublicKey": pulumi.String(cfg.Secrets.WireguardOnpremPrivateKey.WireguardPublicKey()),
		"wireguardTunnelIp":  pulumi.String(onpremTunnel.Addr().String()),
		"wireguardNode":      pulumi.String(cfg.Talos.WireguardNode),
		"storageClasses":     pulumi.StringMap{"default": disks.DefaultClass, "shared": disks.SharedClass},
		"registryEndpoint":   pulumi.String(prod.RegistryEndpoint),
		"registryPullSecret": pull.Name,
		"etcdBackupLocation": etcd.Location,
		// What cmd/talos-upgrade reads: the versions every node must run,
		// and the active nodes in config order (the next run's
		// checkNodeRemovals reads them back). The machine config names the
		// installer, but Talos uses it only at install: the OS moves only
		// when that command upgrades it.
		stackout.TalosVersion:      pulumi.String(cfg.Talos.TalosVersion),
		stackout.InstallImage:      pulumi.String(cfg.Talos.InstallImage),
		stackout.KubernetesVersion: pulumi.String(cfg.Talos.KubernetesVersion),
		stackout.Nodes:             nodes,
	}
	// ingressAddress, Cloudflare's failover origin, comes with the platform.
	for k, v := range layer.Exports() {
		outputs[k] = v
	}
	return outputs, nil
}
