package observability

import (
	"fmt"
	"net"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
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

// BlackboxValues are the blackbox-exporter chart values; check is what the
// Cloudflare monitor sends the failover origin.
func BlackboxValues(check config.OriginCheck) map[string]any {
	ip4 := map[string]any{"preferred_ip_protocol": "ip4"}
	return map[string]any{
		"fullnameOverride": BlackboxRelease,
		// ICMP needs CAP_NET_RAW. The chart's allowIcmp key is gone since
		// chart 7.0.0; 11.17.2's values.yaml says "Add NET_RAW to enable
		// ICMP" under securityContext.capabilities (it keeps drop: ALL).
		"securityContext": map[string]any{"capabilities": map[string]any{"add": []any{"NET_RAW"}}},
		"config": map[string]any{"modules": map[string]any{
			moduleICMP:   map[string]any{"prober": "icmp", "timeout": "5s", "icmp": ip4},
			moduleTCP:    map[string]any{"prober": "tcp", "timeout": "5s", "tcp": ip4},
			moduleOrigin: OriginModule(check),
		}},
	}
}

// OriginModule is the blackbox module that probes the failover origin as
// Cloudflare's monitor does: the same Host header and SNI, no redirects, the
// monitor's per-try timeout and expected codes, TLS required, and the
// certificate checked exactly when the monitor checks it (its expiry is
// exported either way, probe_ssl_earliest_cert_expiry, and alerted on).
// Keys checked: blackbox_exporter v0.28.0 (module cache) config/config.go
// (Module prober/timeout/http; HTTPProbe valid_status_codes, method,
// headers, fail_if_not_ssl, preferred_ip_protocol and the inline
// http_client_config) and CONFIGURATION.md (follow_redirects, tls_config
// server_name and insecure_skip_verify); prober/http.go sends the Host header
// as request.Host (and, were server_name unset, would take the SNI from it).
// tests/blackbox loads it with the exporter's strict loader
// (SafeConfig.ReloadConfig, unknown keys refused; it does not check prober
// names, the /probe handler does) and runs prober.ProbeHTTP with it against a
// Host- and SNI-routing TLS origin: it is up or down as the monitor's
// settings say the monitor would be (Cloudflare's monitor itself is not run:
// unverified against it).
func OriginModule(check config.OriginCheck) map[string]any {
	codes := make([]any, 0, len(check.StatusCodes()))
	for _, c := range check.StatusCodes() {
		codes = append(codes, c)
	}
	return map[string]any{"prober": "http", "timeout": fmt.Sprintf("%ds", check.TimeoutSeconds), "http": map[string]any{
		"preferred_ip_protocol": "ip4",
		"method":                "GET",
		"headers":               map[string]any{"Host": check.Host},
		"valid_status_codes":    codes,
		"fail_if_not_ssl":       true,
		"follow_redirects":      check.FollowRedirects,
		"tls_config":            map[string]any{"server_name": check.Host, "insecure_skip_verify": check.InsecureSkipVerify},
	}}
}

// probes declares the blackbox exporter and one Probe per target kind: ICMP
// for a bare tunnel address, TCP connect for address:port, HTTPS for the
// failover origin.
func probes(ctx *pulumi.Context, a *Args, parent, afterCRDs pulumi.ResourceOption) error {
	exporter, err := kube.Chart(ctx, BlackboxRelease, versions.BlackboxExporter.From(a.ChartRepository), a.Namespace, BlackboxValues(a.OriginCheck), parent, afterCRDs)
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
		name, job, module, interval string
		targets                     []string
	}
	var all []probe
	if len(icmp) > 0 {
		all = append(all, probe{"wireguard-tunnel-icmp", TunnelJob, moduleICMP, "30s", icmp})
	}
	if len(tcp) > 0 {
		all = append(all, probe{"wireguard-tunnel-tcp", TunnelJob, moduleTCP, "30s", tcp})
	}
	// The origin is probed as often as Cloudflare's monitor probes it.
	all = append(all, probe{"failover-origin", OriginJob, moduleOrigin, fmt.Sprintf("%ds", a.OriginCheck.IntervalSeconds), a.Probes.Origins})
	prober := pulumi.Sprintf("%s.%s.svc:9115", BlackboxRelease, a.Namespace)
	for _, p := range all {
		_, err := kube.CustomResource(ctx, p.name, PrometheusOperatorAPI, "Probe", kube.Meta(p.name, a.Namespace, nil), map[string]any{
			"spec": map[string]any{
				"jobName":  p.job,
				"interval": p.interval,
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
