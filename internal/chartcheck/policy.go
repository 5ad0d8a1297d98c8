package chartcheck

import "github.com/hybridcloud/platform/internal/config"

// freeForm lists, per chart, the values that are the user's own data; each
// entry says why nothing below it is a chart setting.
//
// Each reason names the template that consumes the map whole; the paths are
// as narrow as the template allows.
var freeForm = map[string][]FreeForm{
	"argo-cd": {
		{Path: "configs.params", Reason: "argocd-cmd-params-cm parameters: templates/_helpers.tpl (argo-cd.config.params) ranges over .Values.configs.params into the ConfigMap; the chart README sets server.insecure there for TLS ending at the ingress"},
		{Path: "global.additionalLabels", Reason: "a label map: templates/_common.tpl adds it whole to every object's labels"},
	},
	"kube-prometheus-stack": {
		{Path: "alertmanager.config", Reason: "Alertmanager's own configuration file: templates/alertmanager/secret.yaml renders it whole (toYaml) into alertmanager.yaml"},
		{Path: "alertmanager.alertmanagerSpec.storage", Reason: "an operator StorageSpec: templates/alertmanager/alertmanager.yaml copies it whole (toYaml) into the Alertmanager resource, whose CRD schema the render test checks"},
		{Path: "prometheus.prometheusSpec.externalLabels", Reason: "a label map: templates/prometheus/prometheus.yaml copies it whole into the Prometheus resource"},
		{Path: "prometheus.prometheusSpec.storageSpec", Reason: "an operator StorageSpec: templates/prometheus/prometheus.yaml copies it whole (toYaml) into the Prometheus resource, whose CRD schema the render test checks"},
	},
	"loki": {
		{Path: "loki.compactor", Reason: "Loki's compactor block: the loki.config template in values.yaml renders it whole (toYaml) into Loki's config"},
		{Path: "loki.limits_config", Reason: "Loki's limits_config block: the loki.config template in values.yaml renders it whole into Loki's config"},
		{Path: "loki.schemaConfig", Reason: "Loki's schema_config: the loki.config template in values.yaml renders it whole (toYaml)"},
	},
	"prometheus-blackbox-exporter": {
		{Path: "config.modules", Reason: "blackbox_exporter's own module configuration: templates/configmap.yaml renders .Values.config whole (toYaml) into blackbox.yaml"},
		{Path: "securityContext", Reason: "a Kubernetes SecurityContext: templates/_helpers.tpl renders it whole (toYaml) into the container"},
	},
	"traefik": {
		{Path: "tlsOptions", Reason: "a map of the user's TLSOption names: templates/tlsoption.yaml renders one TLSOption per entry, whose CRD schema the render test checks"},
		{Path: "tlsStore", Reason: "a map of the user's TLSStore names: templates/tlsstore.yaml renders one TLSStore per entry, whose CRD schema the render test checks"},
	},
	"velero": {
		{Path: "schedules", Reason: "a map of the user's Schedule names: templates/schedule.yaml renders one Schedule per entry, whose CRD schema the render test checks"},
	},
}

// runtimeObjects are objects that a controller creates once the release is
// up, so that no manifest holds them.
var runtimeObjects = []RuntimeObject{
	{Kind: "Secret", Namespace: config.EtcdBackupNamespace, Name: "talos-backup",
		Reason: "Talos writes the talosconfig Secret of the talos.dev ServiceAccount talos-backup (components/etcdbackup), under the ServiceAccount's name " +
			"(siderolabs/talos v1.12.11 internal/app/machined/pkg/controllers/kubeaccess/serviceaccount/crd_controller.go:598-615)"},
}

// DefaultPolicy is what the render test (tests/charts) and cmd/charts
// exempt.
var DefaultPolicy = Policy{FreeForm: freeForm, Runtime: runtimeObjects}
