// Package versions is the one place where chart, manifest and image versions
// are pinned. Components read these values; nothing else names a version.
// Talos, Kubernetes and DOKS versions are stack config, not here.
//
// Keep each block alphabetic: several changes land here, and sorted entries
// merge cleanly. Each pin says where it was checked, so that a bump knows what
// to re-verify (chart values keys change between majors).
package versions

// Chart is a pinned Helm chart in a classic (HTTP) chart repository.
type Chart struct {
	Name    string // chart name in the repository
	Repo    string // repository URL
	Version string // exact chart version; never a range
}

// Image is a pinned container image.
type Image struct {
	Repository string
	Tag        string
}

// Ref is the image reference repository:tag.
func (i Image) Ref() string { return i.Repository + ":" + i.Tag }

// Helm charts, alphabetic by variable name.
var (
	// ArgoCD is argo-cd (Argo CD 3.x), checked 2026-09 (argo-helm release argo-cd-10.9.2).
	ArgoCD = Chart{Name: "argo-cd", Repo: "https://argoproj.github.io/argo-helm", Version: "10.9.2"}
	// BlackboxExporter probes the WireGuard tunnel and the failover origin
	// (prometheus-community release prometheus-blackbox-exporter-11.17.2, 2026-08-10).
	BlackboxExporter = Chart{Name: "prometheus-blackbox-exporter", Repo: "https://prometheus-community.github.io/helm-charts", Version: "11.17.2"}
	// Cilium is the CNI of the Talos cluster (Talos runs with cni: none).
	Cilium = Chart{Name: "cilium", Repo: "https://helm.cilium.io", Version: "1.18.2"}
	// GrafanaAlloy is the log shipper (grafana/helm-charts release alloy-1.12.1).
	GrafanaAlloy = Chart{Name: "alloy", Repo: "https://grafana.github.io/helm-charts", Version: "1.12.1"}
	// KubePrometheusStack is Prometheus, Alertmanager, Grafana, node exporter
	// and kube-state-metrics (prometheus-community release kube-prometheus-stack-91.8.1).
	KubePrometheusStack = Chart{Name: "kube-prometheus-stack", Repo: "https://prometheus-community.github.io/helm-charts", Version: "91.8.1"}
	// LocalPathProvisioner provisions hostPath volumes on the nodes' local SSD.
	// Upstream (rancher) publishes no chart repository; containeroo mirrors the
	// upstream chart (0.0.38 = provisioner v0.0.37).
	LocalPathProvisioner = Chart{Name: "local-path-provisioner", Repo: "https://charts.containeroo.ch", Version: "0.0.38"}
	// Loki is Grafana Loki in single-binary mode (grafana/helm-charts
	// helm-loki-7.3.0, Loki 3.6.12). The 7.x values keep the 6.x layout used here
	// (deploymentMode, loki.storage, singleBinary); re-render before bumping.
	Loki = Chart{Name: "loki", Repo: "https://grafana.github.io/helm-charts", Version: "7.3.0"}
	// MetricsServer serves metrics.k8s.io for HPA (kubernetes-sigs release metrics-server-helm-chart-3.14.0).
	MetricsServer = Chart{Name: "metrics-server", Repo: "https://kubernetes-sigs.github.io/metrics-server/", Version: "3.14.0"}
	// NFSSubdirExternalProvisioner provisions shared RWX volumes on the NFS server.
	NFSSubdirExternalProvisioner = Chart{Name: "nfs-subdir-external-provisioner", Repo: "https://kubernetes-sigs.github.io/nfs-subdir-external-provisioner", Version: "4.0.18"}
	// Traefik is the ingress controller (traefik-helm-chart v41.5.0, Traefik v3.7.13, 2026-09-07).
	// ingress-nginx was archived on 2026-03-24 and gets no more security fixes.
	Traefik = Chart{Name: "traefik", Repo: "https://traefik.github.io/charts", Version: "41.5.0"}
	// Velero is the backup server (vmware-tanzu/helm-charts release velero-12.0.3, Velero 1.18).
	Velero = Chart{Name: "velero", Repo: "https://vmware-tanzu.github.io/helm-charts", Version: "12.0.3"}
)

// KubeletServingCertApprover approves the kubelet serving-certificate CSRs
// that rotate-server-certificates produces (metrics-server needs them). It is
// applied by Talos as an extra manifest; the URL pins a release tag.
const KubeletServingCertApprover = "https://raw.githubusercontent.com/alex1989hu/kubelet-serving-cert-approver/v0.9.2/deploy/standalone-install.yaml"

// Container images the program sets itself, alphabetic by variable name.
// Images a chart sets from its own appVersion are pinned by the chart version
// above (a published chart version is immutable); they are overridden here
// only where the program must choose.
var (
	// VeleroPluginForAWS is the S3 object-store plugin (talks to Spaces).
	// v1.14.x is the line paired with Velero 1.18.
	VeleroPluginForAWS = Image{Repository: "velero/velero-plugin-for-aws", Tag: "v1.14.2"}
)
