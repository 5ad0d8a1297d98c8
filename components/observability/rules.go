package observability

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/kube"
)

// Rule is one Prometheus alerting rule.
type Rule struct {
	Alert       string
	Expr        string
	For         string // pending time; empty fires at once
	Severity    string // warning or critical
	Summary     string
	Description string
}

// RuleGroup is a named group of rules evaluated together.
type RuleGroup struct {
	Name  string
	Rules []Rule
}

// certWarnDays is how long before expiry a certificate alert fires.
const certWarnDays = 21

// PlatformRules are the alerts an operator of this platform must hear about
// beyond kube-prometheus-stack's defaults: nodes, volumes, backups,
// certificates, the WireGuard tunnel and the failover origin.
func PlatformRules(rpo time.Duration) []RuleGroup {
	rpoSeconds := int(rpo.Seconds())
	certSeconds := certWarnDays * 24 * 3600
	return []RuleGroup{
		{Name: "platform-nodes", Rules: []Rule{
			{Alert: "NodeNotReady", Expr: `kube_node_status_condition{condition="Ready",status="true"} == 0`, For: "5m", Severity: "critical",
				Summary:     "Node {{ $labels.node }} is not Ready",
				Description: "The kubelet on {{ $labels.node }} has not reported Ready for 5 minutes; its pods are being evicted."},
			{Alert: "NodeExporterDown", Expr: `up{job="node-exporter"} == 0`, For: "5m", Severity: "critical",
				Summary:     "Node {{ $labels.instance }} is down or unreachable",
				Description: "Prometheus cannot scrape the node exporter on {{ $labels.instance }}: the machine is down or cut off the pod network."},
		}},
		{Name: "platform-storage", Rules: []Rule{
			{Alert: "PersistentVolumeFillingUp", Severity: "warning", For: "10m",
				Expr:        `kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes < 0.10 and kubelet_volume_stats_used_bytes > 0`,
				Summary:     "PVC {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is over 90% full",
				Description: "Less than 10% of the volume is free. Grow the claim or clean up before writes fail."},
			{Alert: "PersistentVolumeFullIn24h", Severity: "critical", For: "1h",
				Expr:        `predict_linear(kubelet_volume_stats_available_bytes[6h], 24 * 3600) < 0 and kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes < 0.25`,
				Summary:     "PVC {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} will be full within 24 hours",
				Description: "At the rate of the last 6 hours the volume runs out of space within a day."},
		}},
		{Name: "platform-backups", Rules: []Rule{
			{Alert: "VeleroBackupFailed", Severity: "critical",
				Expr:        `increase(velero_backup_failure_total{schedule!=""}[1h]) > 0`,
				Summary:     "Velero backup of schedule {{ $labels.schedule }} failed",
				Description: "A scheduled backup failed in the last hour: velero backup describe --details on the newest backup of the schedule."},
			{Alert: "VeleroBackupPartiallyFailed", Severity: "warning",
				Expr:        `increase(velero_backup_partial_failure_total{schedule!=""}[1h]) > 0`,
				Summary:     "Velero backup of schedule {{ $labels.schedule }} partially failed",
				Description: "Some items or volumes were not backed up in the last hour."},
			{Alert: "VeleroBackupStale", Severity: "critical",
				Expr:        fmt.Sprintf(`time() - max by (schedule) (velero_backup_last_successful_timestamp{schedule!=""}) > %d`, rpoSeconds),
				Summary:     "No successful backup of schedule {{ $labels.schedule }} within the RPO",
				Description: fmt.Sprintf("The last successful backup is older than %s, the cluster-state recovery point objective.", rpo)},
			{Alert: "VeleroNoSuccessfulBackup", Severity: "critical", For: durationString(rpo),
				Expr:        `absent(velero_backup_last_successful_timestamp{schedule!=""})`,
				Summary:     "Velero has no successful scheduled backup",
				Description: "Velero reports no successful scheduled backup at all: check the server and the backup storage location."},
		}},
		{Name: "platform-certificates", Rules: []Rule{
			{Alert: "OriginCertificateExpiring", Severity: "warning",
				Expr:        fmt.Sprintf(`probe_ssl_earliest_cert_expiry{job=%q} - time() < %d`, OriginJob, certSeconds),
				Summary:     "The origin certificate served at {{ $labels.instance }} expires within 21 days",
				Description: "Cloudflare runs in strict mode: an expired origin certificate takes the site down. Issue a new Origin CA certificate and set originTlsCertificate."},
			{Alert: "IngressCertificateExpiring", Severity: "warning",
				Expr:        fmt.Sprintf(`min by (cn, sans) (traefik_tls_certs_not_after) - time() < %d`, certSeconds),
				Summary:     "A certificate the ingress serves ({{ $labels.cn }}) expires within 21 days",
				Description: "Renew it before Cloudflare's strict mode rejects the origin."},
		}},
		{Name: "platform-connectivity", Rules: []Rule{
			{Alert: "WireGuardTunnelDown", Severity: "critical", For: "3m",
				Expr:        fmt.Sprintf(`probe_success{job=%q} == 0`, TunnelJob),
				Summary:     "WireGuard tunnel: {{ $labels.instance }} is unreachable",
				Description: "The probe across the tunnel fails: DOKS and on-prem cannot reach each other (database traffic from on-prem, backups and failover readiness are affected). Check the gateway Droplet and wg show on both ends."},
			{Alert: "FailoverOriginUnhealthy", Severity: "critical", For: "3m",
				Expr:        fmt.Sprintf(`probe_success{job=%q} == 0`, OriginJob),
				Summary:     "Failover origin {{ $labels.instance }} is unhealthy",
				Description: "The on-prem ingress does not answer its health check over TLS: Cloudflare would fail over to a broken origin."},
			{Alert: "PlatformProbesMissing", Severity: "warning", For: "10m",
				Expr:        fmt.Sprintf(`absent(probe_success{job=%q}) or absent(probe_success{job=%q})`, TunnelJob, OriginJob),
				Summary:     "Tunnel or origin probes report nothing",
				Description: "The blackbox exporter or its Probes are gone, so the tunnel and failover alerts cannot fire."},
		}},
	}
}

func durationString(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dm", int(d.Minutes()))
}

func (r Rule) value() map[string]any {
	v := map[string]any{
		"alert":       r.Alert,
		"expr":        r.Expr,
		"labels":      map[string]any{"severity": r.Severity},
		"annotations": map[string]any{"summary": r.Summary, "description": r.Description},
	}
	if r.For != "" {
		v["for"] = r.For
	}
	return v
}

// alertRules declares the platform rules as one PrometheusRule.
func alertRules(ctx *pulumi.Context, a *Args, opts ...pulumi.ResourceOption) error {
	var groups []any
	for _, g := range PlatformRules(a.BackupRPO) {
		var rules []any
		for _, r := range g.Rules {
			rules = append(rules, r.value())
		}
		groups = append(groups, map[string]any{"name": g.Name, "rules": rules})
	}
	_, err := kube.CustomResource(ctx, "platform-alerts", PrometheusOperatorAPI, "PrometheusRule",
		kube.Meta("platform-alerts", a.Namespace, nil), map[string]any{"spec": map[string]any{"groups": groups}}, opts...)
	return err
}
