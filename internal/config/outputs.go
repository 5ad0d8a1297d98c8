package config

// Spaces consumers: each has its own bucket and its own key on prod. The
// onprem stack runs Loki and Velero too; they ship to prod's buckets with
// prod's per-consumer keys, under their own prefix.
const (
	ConsumerApp    = "app"
	ConsumerVelero = "velero"
	ConsumerLoki   = "loki"
)

// SpacesConsumers lists every consumer in the order prod declares them.
var SpacesConsumers = []string{ConsumerApp, ConsumerVelero, ConsumerLoki}

// ConsumerBuckets maps each consumer to its configured bucket.
func (s Spaces) ConsumerBuckets() map[string]string {
	return map[string]string{ConsumerApp: s.AppBucket, ConsumerVelero: s.BackupsBucket, ConsumerLoki: s.LogsBucket}
}

// The prod stack's outputs that the onprem stack reads (internal/prodref
// checks each before onprem uses it). prod exports them under these names.
const (
	OutputGatewayEndpoint      = "gatewayEndpoint"      // "PUBLIC_IP:PORT" of the DO WireGuard gateway
	OutputGatewayPublicKey     = "gatewayPublicKey"     // the gateway's WireGuard public key
	OutputGatewayTunnelIP      = "gatewayTunnelIp"      // the gateway's tunnel address
	OutputOnpremRoutes         = "onpremRoutes"         // CIDRs on-prem routes through the tunnel
	OutputRegistryServer       = "registryServer"       // registry host, registry.digitalocean.com
	OutputRegistryEndpoint     = "registryEndpoint"     // registry host and name, the image prefix
	OutputRegistryDockerConfig = "registryDockerConfig" // secret .dockerconfigjson, read-only
	OutputSpacesRegion         = "spacesRegion"         // region of the Spaces buckets
	OutputBuckets              = "buckets"              // consumer -> bucket name
	OutputSpacesCredentials    = "spacesCredentials"    // secret: consumer -> {accessKey, secretKey}
	OutputOriginCheck          = "failoverOriginCheck"  // what Cloudflare's monitor sends an origin (OriginCheck)
	OutputPublishedUIs         = "publishedUis"         // UI name -> hostname, behind Cloudflare Access
)

// ProdOutputsForOnprem lists every prod output the onprem stack reads, in a
// stable order.
var ProdOutputsForOnprem = []string{
	OutputGatewayEndpoint, OutputGatewayPublicKey, OutputGatewayTunnelIP, OutputOnpremRoutes,
	OutputRegistryServer, OutputRegistryEndpoint, OutputRegistryDockerConfig,
	OutputSpacesRegion, OutputBuckets, OutputSpacesCredentials, OutputOriginCheck, OutputPublishedUIs,
}

// OutputIngressAddress is the output, exported by both stacks, that names a
// cluster's public ingress address; prod's edge reads onprem's as the
// failover origin (edge.onpremStackRef).
const OutputIngressAddress = "ingressAddress"
