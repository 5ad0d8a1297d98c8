package observability

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/kube"
	"github.com/hybridcloud/platform/internal/versions"
)

// LokiSchemaStart is the first day of Loki's only schema period. It is a
// fixed date, not "today", so that two runs render the same config.
const LokiSchemaStart = "2026-01-01"

const lokiCredentialsSecret = "loki-object-store"

// logging declares Loki (single binary, chunks in the logs bucket under the
// cluster's prefix, compactor retention) and Alloy, a DaemonSet that tails
// pod logs on each node and pushes them to Loki.
func logging(ctx *pulumi.Context, a *Args, opts ...pulumi.ResourceOption) error {
	creds, err := kube.Secret(ctx, lokiCredentialsSecret, a.Namespace, "Opaque", pulumi.StringMap{
		"LOKI_S3_ACCESS_KEY_ID":     a.Logs.AccessKey,
		"LOKI_S3_SECRET_ACCESS_KEY": a.Logs.SecretKey,
	}, opts...)
	if err != nil {
		return err
	}
	loki, err := kube.Chart(ctx, LokiRelease, versions.Loki.From(a.ChartRepository), a.Namespace, lokiValues(a),
		append(opts, pulumi.DependsOn(append([]pulumi.Resource{creds}, a.VolumesAfter...)))...)
	if err != nil {
		return err
	}
	_, err = kube.Chart(ctx, AlloyRelease, versions.GrafanaAlloy.From(a.ChartRepository), a.Namespace, alloyValues(a),
		append(opts, pulumi.DependsOn([]pulumi.Resource{loki}))...)
	return err
}

// lokiValues keep credentials out of the chart values: Loki expands
// ${LOKI_S3_...} from the environment, filled from the Secret above.
func lokiValues(a *Args) map[string]any {
	disabled := map[string]any{"enabled": false}
	zero := map[string]any{"replicas": 0}
	return map[string]any{
		"fullnameOverride": LokiRelease,
		"deploymentMode":   "SingleBinary",
		"loki": map[string]any{
			"auth_enabled": false,
			"commonConfig": map[string]any{"replication_factor": 1},
			"schemaConfig": map[string]any{"configs": []any{map[string]any{
				"from":         LokiSchemaStart,
				"store":        "tsdb",
				"object_store": "s3",
				"schema":       "v13",
				"index":        map[string]any{"prefix": "index_", "period": "24h"},
			}}},
			"storage": map[string]any{
				"type":                "s3",
				"use_thanos_objstore": true,
				"bucketNames":         map[string]any{"chunks": a.Logs.Bucket, "ruler": a.Logs.Bucket, "admin": a.Logs.Bucket},
				"object_store": map[string]any{
					"type":           "s3",
					"storage_prefix": a.Logs.Prefix,
					"s3": map[string]any{
						"endpoint":          a.Logs.Endpoint,
						"region":            a.Logs.Region,
						"access_key_id":     "${LOKI_S3_ACCESS_KEY_ID}",
						"secret_access_key": "${LOKI_S3_SECRET_ACCESS_KEY}",
						"insecure":          false,
					},
				},
			},
			// Loki reads Prometheus-style durations (744h, 31d); validation
			// has made it whole days.
			"limits_config": map[string]any{"retention_period": a.Settings.LokiRetention},
			"compactor": map[string]any{
				"retention_enabled":      true,
				"delete_request_store":   "s3",
				"retention_delete_delay": "2h",
				"compaction_interval":    "10m",
			},
		},
		"singleBinary": map[string]any{
			"replicas":     1,
			"extraArgs":    []any{"-config.expand-env=true"},
			"extraEnvFrom": []any{map[string]any{"secretRef": map[string]any{"name": lokiCredentialsSecret}}},
			"persistence": map[string]any{
				"enabled":      true,
				"size":         a.Settings.LokiStorage,
				"storageClass": a.StorageClass,
			},
		},
		"read": zero, "write": zero, "backend": zero,
		// The memcached caches default to gigabytes of memory; a single
		// binary at this size does without them.
		"chunksCache": disabled, "resultsCache": disabled,
		"gateway": disabled, "lokiCanary": disabled, "test": disabled, "minio": disabled,
	}
}

// alloyConfig is Alloy's pipeline: discover this node's pods, tail their
// log files, parse the CRI format and push to Loki with the cluster label.
const alloyConfig = `discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + sys.env("NODE_NAME")
  }
}

discovery.relabel "pod_logs" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]
    separator     = "/"
    target_label  = "__path__"
    replacement   = "/var/log/pods/*$1/*.log"
  }
}

local.file_match "pod_logs" {
  path_targets = discovery.relabel.pod_logs.output
}

loki.source.file "pod_logs" {
  targets    = local.file_match.pod_logs.targets
  forward_to = [loki.process.pod_logs.receiver]
}

loki.process "pod_logs" {
  stage.cri {}
  forward_to = [loki.write.default.receiver]
}

loki.write "default" {
  endpoint {
    url = %q
  }
  external_labels = {
    cluster = %q,
  }
}
`

func alloyValues(a *Args) map[string]any {
	push := pulumi.Sprintf("http://%s.%s.svc:3100/loki/api/v1/push", LokiRelease, a.Namespace)
	return map[string]any{
		"fullnameOverride": AlloyRelease,
		"controller":       map[string]any{"type": "daemonset"},
		"alloy": map[string]any{
			"configMap": map[string]any{
				"create":  true,
				"content": push.ApplyT(func(url string) string { return fmt.Sprintf(alloyConfig, url, a.ClusterName) }),
			},
			// Pod log files live on the node: a read-only hostPath mount.
			"mounts": map[string]any{"varlog": true},
			"extraEnv": []any{map[string]any{
				"name":      "NODE_NAME",
				"valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "spec.nodeName"}},
			}},
		},
	}
}
