package observability

import (
	"net"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/kube"
	"github.com/hybridcloud/platform/internal/versions"
)

// Probe job names; the alert rules select on them.
const (
	TunnelJob = "wireguard-tunnel"
	OriginJob = "failover-origin"
)

// Blackbox modules.
const (
	moduleICMP   = "icmp"
	moduleTCP    = "tcp_connect"
	moduleOrigin = "https_origin"
)

// PrometheusOperatorAPI is the API version of the operator's kinds.
const PrometheusOperatorAPI = "monitoring.coreos.com/v1"

func blackboxValues() map[string]any {
	ip4 := map[string]any{"preferred_ip_protocol": "ip4"}
	return map[string]any{
		"fullnameOverride": BlackboxRelease,
		// ICMP needs CAP_NET_RAW. The chart's allowIcmp key is gone since
		// chart 7.0.0; 11.17.2's values.yaml says "Add NET_RAW to enable
		// ICMP" under securityContext.capabilities (it keeps drop: ALL).
		"securityContext": map[string]any{"capabilities": map[string]any{"add": []any{"NET_RAW"}}},
		"config": map[string]any{"modules": map[string]any{
			moduleICMP: map[string]any{"prober": "icmp", "timeout": "5s", "icmp": ip4},
			moduleTCP:  map[string]any{"prober": "tcp", "timeout": "5s", "tcp": ip4},
			// As Cloudflare's monitor sees the origin: TLS required, 200
			// expected. The Origin CA certificate is not publicly trusted, so
			// the chain is not verified here; its expiry is still exported
			// (probe_ssl_earliest_cert_expiry) and alerted on.
			moduleOrigin: map[string]any{"prober": "http", "timeout": "10s", "http": map[string]any{
				"preferred_ip_protocol": "ip4",
				"valid_status_codes":    []any{200},
				"fail_if_not_ssl":       true,
				"tls_config":            map[string]any{"insecure_skip_verify": true},
			}},
		}},
	}
}

// probes declares the blackbox exporter and one Probe per target kind: ICMP
// for a bare tunnel address, TCP connect for address:port, HTTPS for the
// failover origin.
func probes(ctx *pulumi.Context, a *Args, parent, afterCRDs pulumi.ResourceOption) error {
	exporter, err := kube.Chart(ctx, BlackboxRelease, versions.BlackboxExporter.From(a.ChartRepository), a.Namespace, blackboxValues(), parent, afterCRDs)
	if err != nil {
		return err
	}
	var icmp, tcp []string
	for _, t := range a.Probes.Tunnel {
		if _, _, err := net.SplitHostPort(t); err == nil {
			tcp = append(tcp, t)
		} else {
			icmp = append(icmp, t)
		}
	}
	type probe struct {
		name, job, module string
		targets           []string
	}
	var all []probe
	if len(icmp) > 0 {
		all = append(all, probe{"wireguard-tunnel-icmp", TunnelJob, moduleICMP, icmp})
	}
	if len(tcp) > 0 {
		all = append(all, probe{"wireguard-tunnel-tcp", TunnelJob, moduleTCP, tcp})
	}
	all = append(all, probe{"failover-origin", OriginJob, moduleOrigin, a.Probes.Origins})
	prober := pulumi.Sprintf("%s.%s.svc:9115", BlackboxRelease, a.Namespace)
	for _, p := range all {
		_, err := kube.CustomResource(ctx, p.name, PrometheusOperatorAPI, "Probe", kube.Meta(p.name, a.Namespace, nil), map[string]any{
			"spec": map[string]any{
				"jobName":  p.job,
				"interval": "30s",
				"module":   p.module,
				"prober":   map[string]any{"url": prober},
				"targets":  map[string]any{"staticConfig": map[string]any{"static": kube.Strings(p.targets)}},
			},
		}, parent, afterCRDs, pulumi.DependsOn([]pulumi.Resource{exporter}))
		if err != nil {
			return err
		}
	}
	return nil
}
