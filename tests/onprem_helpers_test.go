package tests

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/hybridcloud/platform/internal/config"
)

// prodStack is the prod stack the onprem stack file references.
const prodStack = "organization/hybrid-platform/prod"

// Mocked prod outputs: the gateway's key pair is a test key, never used
// anywhere else.
const (
	gatewayPublicKey = "8sGMZp3N0mJq2oCq0Qe7Yg1mB3n2hFq6yXj1uS5vYkU="
	gatewayEndpoint  = "198.51.100.20:51820"
	dockerConfig     = `{"auths":{"registry.digitalocean.com":{"auth":"cmVhZC1vbmx5OnRva2Vu"}}}`
)

var onpremRoutes = []string{"10.100.0.0/16", "10.244.0.0/16", "10.245.0.0/16", "10.250.0.0/30"}

// prodOutputs are the prod stack's outputs as the onprem stack reads them;
// registryDockerConfig is a secret, as prod exports it.
func prodOutputs() map[string]any {
	routes := make([]any, len(onpremRoutes))
	for i, r := range onpremRoutes {
		routes[i] = r
	}
	return map[string]any{
		config.OutputGatewayEndpoint:      gatewayEndpoint,
		config.OutputGatewayPublicKey:     gatewayPublicKey,
		config.OutputGatewayTunnelIP:      "10.250.0.1",
		config.OutputOnpremRoutes:         routes,
		config.OutputRegistryServer:       "registry.digitalocean.com",
		config.OutputRegistryEndpoint:     "registry.digitalocean.com/hybrid-platform",
		config.OutputRegistryDockerConfig: resource.MakeSecret(resource.NewProperty(dockerConfig)),
		config.OutputSpacesRegion:         "nyc3",
		config.OutputBuckets:              map[string]any{"app": "hybrid-platform-prod-app", "loki": "hybrid-platform-prod-logs", "velero": "hybrid-platform-prod-backups"},
		config.OutputOriginCheck: map[string]any{"host": "app.example.com", "path": "/healthz", "expectedCodes": "200",
			"timeoutSeconds": 5, "intervalSeconds": 60, "insecureSkipVerify": true, "followRedirects": false},
		config.OutputPublishedUIs: map[string]any{"grafana": "grafana.example.com", "argocd": "argocd.example.com"},
		config.OutputSpacesCredentials: resource.MakeSecret(resource.NewPropertyValue(map[string]any{
			"loki":   map[string]any{"accessKey": "DOLOKIACCESSKEY00001", "secretKey": "loki-secret-key-for-tests"},
			"velero": map[string]any{"accessKey": "DOVELEROACCESSKEY001", "secretKey": "velero-secret-key-for-tests"},
		})),
	}
}
