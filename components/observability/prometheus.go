package observability

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/kube"
)

// Talos control-plane metrics ports. Talos binds them to 0.0.0.0 only when
// the machine config says so (docs/onprem.md); DOKS does not expose them.
const (
	etcdMetricsPort       = 2381
	schedulerPort         = 10259
	controllerManagerPort = 10257
)

func volumeClaim(storageClass, size string) map[string]any {
	return map[string]any{"spec": map[string]any{
		"storageClassName": storageClass,
		"accessModes":      []any{"ReadWriteOnce"},
		"resources":        map[string]any{"requests": map[string]any{"storage": size}},
	}}
}

// prometheusValues are the kube-prometheus-stack values.
//
// helm/v4 renders the chart, so Helm hooks do not run. The chart's hooks are
// the admission-webhook certificate jobs (kube-webhook-certgen), which create
// a Secret and patch the webhook configurations after install: rendered as
// plain resources they race the webhook they patch. The webhooks are
// therefore off (the operator still rejects invalid rules when it loads
// them), and operator TLS with them. The CRDs are off here: the
// prometheus-operator-crds release installs the same ones first (helm/v4
// installs and, unlike Helm, also upgrades CRDs of a release).
func prometheusValues(a *Args) map[string]any {
	s := a.Settings
	doks := a.Kind == config.ClusterDOKS
	values := map[string]any{
		"fullnameOverride": PrometheusRelease,
		"crds":             map[string]any{"enabled": false},
		"defaultRules": map[string]any{
			"create": true,
			// No alerts for control-plane parts nobody can scrape on DOKS.
			"rules": map[string]any{
				"etcd":                      !doks,
				"kubeControllerManager":     !doks,
				"kubeSchedulerAlerting":     !doks,
				"kubeSchedulerRecording":    !doks,
				"kubeProxy":                 false,
				"kubernetesSystem":          true,
				"kubeApiserverAvailability": true,
			},
		},
		"prometheusOperator": map[string]any{
			"admissionWebhooks": map[string]any{"enabled": false},
			"tls":               map[string]any{"enabled": false},
		},
		"prometheus": map[string]any{"prometheusSpec": map[string]any{
			"retention":      s.PrometheusRetention,
			"retentionSize":  s.PrometheusRetentionSize,
			"externalLabels": map[string]any{"cluster": a.ClusterName},
			"storageSpec":    map[string]any{"volumeClaimTemplate": volumeClaim(a.StorageClass, s.PrometheusStorage)},
			// Select every ServiceMonitor, PodMonitor, Probe and rule in the
			// cluster, not only those labelled for this release.
			"ruleSelectorNilUsesHelmValues":           false,
			"serviceMonitorSelectorNilUsesHelmValues": false,
			"podMonitorSelectorNilUsesHelmValues":     false,
			"probeSelectorNilUsesHelmValues":          false,
			"scrapeConfigSelectorNilUsesHelmValues":   false,
		}},
		"alertmanager": map[string]any{
			"alertmanagerSpec": map[string]any{
				"storage": map[string]any{"volumeClaimTemplate": volumeClaim(a.StorageClass, s.AlertmanagerStorage)},
			},
			"config": alertmanagerConfig(a),
		},
		"grafana":          grafanaValues(a),
		"kubeProxy":        map[string]any{"enabled": false}, // DOKS: managed; Talos: Cilium replaces kube-proxy
		"nodeExporter":     map[string]any{"enabled": true},
		"kubeStateMetrics": map[string]any{"enabled": true},
	}
	if doks {
		// The managed control plane is not reachable for scraping.
		for _, k := range []string{"kubeEtcd", "kubeScheduler", "kubeControllerManager"} {
			values[k] = map[string]any{"enabled": false}
		}
		return values
	}
	ips := kube.Strings(a.ControlPlaneIPs)
	values["kubeEtcd"] = map[string]any{
		"enabled":   true,
		"endpoints": ips,
		"service":   map[string]any{"enabled": true, "port": etcdMetricsPort, "targetPort": etcdMetricsPort},
	}
	for k, port := range map[string]int{"kubeScheduler": schedulerPort, "kubeControllerManager": controllerManagerPort} {
		values[k] = map[string]any{
			"enabled":        true,
			"endpoints":      ips,
			"service":        map[string]any{"enabled": true, "port": port, "targetPort": port},
			"serviceMonitor": map[string]any{"https": true, "insecureSkipVerify": true},
		}
	}
	return values
}

func grafanaValues(a *Args) map[string]any {
	return map[string]any{
		"fullnameOverride": GrafanaService,
		"admin": map[string]any{
			"existingSecret": "grafana-admin",
			"userKey":        "admin-user",
			"passwordKey":    "admin-password",
		},
		"persistence": map[string]any{
			"enabled":          true,
			"type":             "pvc",
			"storageClassName": a.StorageClass,
			"size":             a.Settings.GrafanaStorage,
			"accessModes":      []any{"ReadWriteOnce"},
			// The grafana chart (12.11.1, inside kube-prometheus-stack's
			// archive: templates/pvc.yaml, values.yaml lookupVolumeName:
			// true) looks the claim up and writes its bound spec.volumeName
			// into the render. The first render has none, every later one
			// has it: spec.volumeName is immutable, so the second `up`
			// replaced the claim, and with it Grafana's data (found by
			// tests/kubelayer, whose second prod run hung deleting it).
			"lookupVolumeName": false,
		},
		// A ReadWriteOnce volume cannot be mounted by two pods during a
		// rolling update.
		"deploymentStrategy": map[string]any{"type": "Recreate"},
		"sidecar":            map[string]any{"datasources": map[string]any{"defaultDatasourceEnabled": true}},
		"additionalDataSources": []any{map[string]any{
			"name":     "Loki",
			"type":     "loki",
			"uid":      "loki",
			"access":   "proxy",
			"url":      pulumi.Sprintf("http://%s.%s.svc:3100", LokiRelease, a.Namespace),
			"jsonData": map[string]any{"maxLines": 5000},
		}},
	}
}

// alertmanagerConfig routes every alert to the platform's alert address,
// except the always-firing Watchdog and InfoInhibitor.
func alertmanagerConfig(a *Args) map[string]any {
	smtp := a.Settings.SMTP
	quiet := func(alert string) map[string]any {
		return map[string]any{"receiver": "null", "matchers": []any{`alertname = "` + alert + `"`}}
	}
	return map[string]any{
		"global": map[string]any{
			"smtp_smarthost":   smtp.Smarthost,
			"smtp_from":        smtp.From,
			"smtp_require_tls": smtp.RequireTLS,
		},
		"route": map[string]any{
			"receiver":        "platform-oncall",
			"group_by":        []any{"alertname", "cluster", "namespace"},
			"group_wait":      "30s",
			"group_interval":  "5m",
			"repeat_interval": "4h",
			"routes":          []any{quiet("Watchdog"), quiet("InfoInhibitor")},
		},
		"receivers": []any{
			map[string]any{"name": "null"},
			map[string]any{"name": "platform-oncall", "email_configs": []any{
				map[string]any{"to": a.AlertEmail, "send_resolved": true},
			}},
		},
		"inhibit_rules": []any{map[string]any{
			"source_matchers": []any{`severity = "critical"`},
			"target_matchers": []any{`severity = "warning"`},
			"equal":           []any{"alertname", "cluster", "namespace"},
		}},
	}
}
