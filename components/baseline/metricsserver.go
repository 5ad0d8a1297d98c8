package baseline

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/kube"
	"github.com/hybridcloud/platform/internal/versions"
)

// MetricsServerNamespace is where metrics-server runs: kube-system, which
// every cluster has, next to the APIService it backs.
const MetricsServerNamespace = "kube-system"

// metricsServer installs metrics-server so that HPA and kubectl top work.
// The chart has no hooks, so helm/v4 renders it completely.
func metricsServer(ctx *pulumi.Context, ms config.MetricsServer, repository string, opts ...pulumi.ResourceOption) error {
	args := []string{"--kubelet-preferred-address-types=InternalIP", "--metric-resolution=15s"}
	if ms.KubeletInsecureTLS {
		args = append(args, "--kubelet-insecure-tls")
	}
	_, err := kube.Chart(ctx, "metrics-server", versions.MetricsServer.From(repository), pulumi.String(MetricsServerNamespace), map[string]any{
		"replicas":            2,
		"args":                kube.Strings(args),
		"podDisruptionBudget": map[string]any{"enabled": true, "minAvailable": 1},
		"metrics":             map[string]any{"enabled": true},
		"serviceMonitor":      map[string]any{"enabled": false},
	}, opts...)
	return err
}
