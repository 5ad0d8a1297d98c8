package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/components/data"
	"github.com/hybridcloud/platform/components/doks"
	"github.com/hybridcloud/platform/components/failover"
	"github.com/hybridcloud/platform/components/network"
	"github.com/hybridcloud/platform/components/platform"
	"github.com/hybridcloud/platform/internal/config"
)

// Prod is the DigitalOcean side: network, DOKS, the data services, the
// platform layer on DOKS, and the Cloudflare edge that fails over to on-prem.
func Prod(ctx *pulumi.Context, cfg *config.Config) (pulumi.Map, error) {
	prefix := "hybrid-" + cfg.Stack
	do, err := newDigitalOcean(ctx)
	if err != nil {
		return nil, err
	}
	onDO := pulumi.Providers(do)
	// Resolved before anything but its provider is declared: a line
	// DigitalOcean does not offer fails the run with nothing created.
	doksVersion, err := doks.ResolveVersion(ctx, cfg.Doks.KubernetesMinor, pulumi.Provider(do))
	if err != nil {
		return nil, err
	}
	cf, err := newCloudflare(ctx)
	if err != nil {
		return nil, err
	}
	if err := warnSupport(ctx, cfg, doksVersion); err != nil {
		return nil, err
	}
	net, err := network.New(ctx, "network", &network.Args{
		Prefix:            prefix,
		Network:           cfg.Network,
		Gateway:           cfg.Gateway,
		GatewayPrivateKey: cfg.Secrets.WireguardGatewayPrivateKey,
	}, onDO)
	if err != nil {
		return nil, err
	}
	cluster, err := doks.New(ctx, "doks", &doks.Args{
		Prefix:           prefix,
		Region:           cfg.Network.Region,
		Doks:             cfg.Doks,
		Version:          doksVersion,
		Registry:         cfg.Registry,
		PodCidr:          cfg.Network.DoksPodCidr,
		ServiceCidr:      cfg.Network.DoksServiceCidr,
		VpcID:            net.VpcID,
		GatewayPrivateIP: net.GatewayPrivateIP,
		OnpremCidr:       cfg.Network.OnpremCidr,
	}, onDO)
	if err != nil {
		return nil, err
	}
	svc, err := data.New(ctx, "data", &data.Args{
		Prefix:           prefix,
		Region:           cfg.Network.Region,
		Spaces:           cfg.Spaces,
		Database:         cfg.Database,
		VpcID:            net.VpcID,
		ClusterID:        cluster.ClusterID,
		GatewayDropletID: net.GatewayDropletID,
	}, onDO)
	if err != nil {
		return nil, err
	}
	args := PlatformArgs(cfg)
	args.Provider = cluster.Provider
	args.StorageClass = "do-block-storage"
	args.SpacesRegion = pulumi.String(cfg.Spaces.Region)
	args.BackupsBucket = svc.Buckets.MapIndex(pulumi.String(config.ConsumerVelero))
	args.LogsBucket = svc.Buckets.MapIndex(pulumi.String(config.ConsumerLoki))
	args.AppBucket = svc.Buckets.MapIndex(pulumi.String(config.ConsumerApp))
	args.Loki = platform.SpacesCredentials{AccessKey: svc.Keys[config.ConsumerLoki].AccessKey, SecretKey: svc.Keys[config.ConsumerLoki].SecretKey}
	args.Velero = platform.SpacesCredentials{AccessKey: svc.Keys[config.ConsumerVelero].AccessKey, SecretKey: svc.Keys[config.ConsumerVelero].SecretKey}
	args.Edge = platform.EdgeContract{UIs: cfg.Edge.UIs, OriginCheck: cfg.Edge.OriginCheck()}
	layer, err := platform.New(ctx, "platform", args)
	if err != nil {
		return nil, err
	}
	onprem, err := failover.ResolveOnpremOrigin(ctx, cfg.Edge)
	if err != nil {
		return nil, err
	}
	edge, err := failover.New(ctx, "failover", &failover.Args{
		Edge:              cfg.Edge,
		AccessGroups:      cfg.AccessGroups(),
		NotificationEmail: cfg.AlertEmail,
		CloudOrigin:       layer.IngressAddress,
		OnpremOrigin:      pulumi.String(onprem.Address),
	}, pulumi.Providers(cf))
	if err != nil {
		return nil, err
	}

	outputs := pulumi.Map{
		"addressPlan": addressPlan(cfg),
		// read by the onprem stack
		config.OutputGatewayEndpoint:      net.GatewayEndpoint,
		config.OutputGatewayPublicKey:     net.GatewayPublicKey,
		config.OutputGatewayTunnelIP:      net.GatewayTunnelIP,
		config.OutputOnpremRoutes:         net.OnpremRoutes,
		config.OutputRegistryServer:       cluster.RegistryServer,
		config.OutputRegistryEndpoint:     cluster.RegistryEndpoint,
		config.OutputRegistryDockerConfig: cluster.RegistryDockerConfig,
		config.OutputSpacesRegion:         pulumi.String(cfg.Spaces.Region),
		"spacesEndpoint":                  svc.SpacesEndpoint,
		config.OutputBuckets:              svc.Buckets,
		config.OutputSpacesCredentials:    svc.Credentials,
		// for operators
		"vpcId":             net.VpcID,
		"gatewayPublicIp":   net.GatewayPublicIP,
		"gatewayPrivateIp":  net.GatewayPrivateIP,
		"clusterId":         cluster.ClusterID,
		"clusterEndpoint":   cluster.Endpoint,
		"kubeconfig":        cluster.Kubeconfig,
		"databaseUri":       svc.DatabaseURI,
		"databasePassword":  svc.DatabasePassword,
		"databaseHost":      svc.DatabaseHost,
		"databaseClusterId": svc.DatabaseClusterID,
		// the edge
		"failoverHostname":         edge.Hostname,
		"failoverDetectionSeconds": edge.DetectionSeconds,
		"failoverDetectionBound":   edge.DetectionDerivation,
		// read by the onprem stack, the failover origin
		config.OutputOriginCheck:     originCheckOutput(cfg.Edge.OriginCheck()),
		config.OutputPublishedUIs:    edge.UIs,
		"failoverOnpremOrigin":       pulumi.String(onprem.Address),
		"failoverOnpremOriginSource": pulumi.String(onprem.Source),
	}
	for k, v := range layer.Exports() {
		outputs[k] = v
	}
	return outputs, nil
}

// originCheckOutput is the edge's origin check as a plain map output; the
// onprem stack reads it back into config.OriginCheck (internal/prodref).
func originCheckOutput(c config.OriginCheck) pulumi.Map {
	return pulumi.Map{
		"host": pulumi.String(c.Host), "path": pulumi.String(c.Path), "expectedCodes": pulumi.String(c.ExpectedCodes),
		"timeoutSeconds": pulumi.Int(c.TimeoutSeconds), "intervalSeconds": pulumi.Int(c.IntervalSeconds),
		"insecureSkipVerify": pulumi.Bool(c.InsecureSkipVerify), "followRedirects": pulumi.Bool(c.FollowRedirects),
	}
}
