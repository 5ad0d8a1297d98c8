package standin

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/localcluster"
	"github.com/hybridcloud/platform/internal/simcloud"
)

// AccessEnv names the file of localcluster.ControlPlane.WriteAccess. When it
// is set, the stand-in DOKS cluster and the stand-in Talos kubeconfig hand
// out the endpoint, CA and credentials of the local API server of their
// cluster instead of invented ones, so that the program's own provider
// wiring is what connects the real Kubernetes provider to a real API server.
const AccessEnv = "HYBRID_STANDIN_CLUSTER_ACCESS"

// loadAccess reads the access file AccessEnv names; nil when it is unset.
func loadAccess() (map[string]localcluster.Access, error) {
	path := os.Getenv(AccessEnv)
	if path == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", AccessEnv, err)
	}
	var out map[string]localcluster.Access
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", AccessEnv, err)
	}
	return out, nil
}

// withAccess rewrites the outputs that say how to reach a cluster.
//
//   - DOKS cluster: endpoint, and kubeConfigs[0] (host, clusterCaCertificate
//     as base64 PEM, the form DOKS reports, and its token). The program's
//     kubeconfig takes the endpoint and the CA from here and gets its token
//     from doctl, which the simulated credentials endpoint answers.
//   - Talos kubeconfig: kubeconfigRaw and kubernetesClientConfiguration, with
//     the admin client certificate, as Talos hands them out.
func withAccess(typ string, outputs resource.PropertyMap, access map[string]localcluster.Access) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	switch typ {
	case "digitalocean:index/kubernetesCluster:KubernetesCluster":
		a, ok := access[config.ClusterDOKS]
		if !ok {
			return
		}
		outputs["endpoint"] = resource.NewProperty(a.Endpoint)
		outputs["kubeConfigs"] = resource.NewPropertyValue([]any{map[string]any{
			"host":                 a.Endpoint,
			"clusterCaCertificate": b64(a.CA),
			"token":                a.Token,
			"expiresAt":            "2099-01-01T00:00:00Z",
			"rawConfig":            simcloud.Kubeconfig(a.Endpoint, b64(a.CA), "doks", "token: "+a.Token),
			"clientCertificate":    "",
			"clientKey":            "",
		}})
	case "talos:cluster/kubeconfig:Kubeconfig":
		a, ok := access[config.ClusterTalos]
		if !ok {
			return
		}
		outputs["kubeconfigRaw"] = resource.NewProperty(simcloud.Kubeconfig(a.Endpoint, b64(a.CA), "admin@talos",
			"client-certificate-data: "+b64(a.ClientCert)+"\n    client-key-data: "+b64(a.ClientKey)))
		outputs["kubernetesClientConfiguration"] = resource.NewPropertyValue(map[string]any{
			"host":              a.Endpoint,
			"caCertificate":     b64(a.CA),
			"clientCertificate": b64(a.ClientCert),
			"clientKey":         b64(a.ClientKey),
		})
	}
}
