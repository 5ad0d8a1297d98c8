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
//
// Every pin below is a release that exists: each version was checked
// against the offline mirror ../shared/charts (its index.yaml entry, and the
// Chart.yaml version and appVersion inside the archive), which holds the
// charts packaged unmodified from the upstream tag its README names. Each
// repository URL was checked in the chart's upstream documentation (the
// chart README's `helm repo add` line, or the repository's own index page).
// The render test (tests/charts) renders every pin with the program's values.
var (
	// ArgoCD is argo-cd 10.1.1 (Argo CD v3.4.4), argoproj/argo-helm tag
	// argo-cd-10.1.1. Repo: argo-cd README `helm repo add argo`.
	ArgoCD = Chart{Name: "argo-cd", Repo: "https://argoproj.github.io/argo-helm", Version: "10.1.1"}
	// BlackboxExporter probes the WireGuard tunnel and the failover origin:
	// prometheus-blackbox-exporter 11.17.2 (blackbox_exporter v0.28.0),
	// prometheus-community/helm-charts tag prometheus-blackbox-exporter-11.17.2.
	BlackboxExporter = Chart{Name: "prometheus-blackbox-exporter", Repo: "https://prometheus-community.github.io/helm-charts", Version: "11.17.2"}
	// Cilium is the CNI of the Talos cluster (Talos runs with cni: none):
	// cilium 1.18.12, the upstream archive of cilium/charts (built from
	// cilium/cilium v1.18.12). Repo: cilium README `helm repo add cilium`.
	Cilium = Chart{Name: "cilium", Repo: "https://helm.cilium.io", Version: "1.18.12"}
	// GrafanaAlloy is the log shipper: alloy 1.11.1 (Alloy v1.18.1),
	// grafana/alloy tag helm-chart/1.11.1. Repo: alloy README.
	GrafanaAlloy = Chart{Name: "alloy", Repo: "https://grafana.github.io/helm-charts", Version: "1.11.1"}
	// KubePrometheusStack is Prometheus, Alertmanager, Grafana, node exporter
	// and kube-state-metrics: kube-prometheus-stack 88.5.3 (operator v0.93.1),
	// prometheus-community/helm-charts tag kube-prometheus-stack-88.5.3. Its
	// own CRDs are off: PrometheusOperatorCRDs installs them first.
	KubePrometheusStack = Chart{Name: "kube-prometheus-stack", Repo: "https://prometheus-community.github.io/helm-charts", Version: "88.5.3"}
	// LocalPathProvisioner provisions hostPath volumes on the nodes' local SSD:
	// local-path-provisioner 0.0.37 (provisioner v0.0.36), containeroo/helm-charts
	// tag local-path-provisioner-0.0.37. Upstream (rancher) publishes no chart
	// repository; containeroo packages rancher's chart. Repo: containeroo's
	// README `helm repo add containeroo`.
	LocalPathProvisioner = Chart{Name: "local-path-provisioner", Repo: "https://charts.containeroo.ch", Version: "0.0.37"}
	// Loki is Grafana Loki in single-binary mode: loki 7.3.0 (Loki 3.6.12),
	// grafana/loki tag helm-loki-7.3.0 (production/helm/loki).
	Loki = Chart{Name: "loki", Repo: "https://grafana.github.io/helm-charts", Version: "7.3.0"}
	// MetricsServer serves metrics.k8s.io for HPA: metrics-server 3.13.1
	// (metrics-server v0.8.1), kubernetes-sigs/metrics-server tag
	// metrics-server-helm-chart-3.13.1. Repo: the chart README.
	MetricsServer = Chart{Name: "metrics-server", Repo: "https://kubernetes-sigs.github.io/metrics-server/", Version: "3.13.1"}
	// NFSSubdirExternalProvisioner provisions shared RWX volumes on the NFS
	// server: nfs-subdir-external-provisioner 4.0.18 (provisioner v4.0.2),
	// kubernetes-sigs tag nfs-subdir-external-provisioner-4.0.18 (2023-03-13,
	// still the newest release of the chart). Repo: the chart README.
	NFSSubdirExternalProvisioner = Chart{Name: "nfs-subdir-external-provisioner", Repo: "https://kubernetes-sigs.github.io/nfs-subdir-external-provisioner", Version: "4.0.18"}
	// PrometheusOperatorCRDs installs the monitoring.coreos.com CRDs before
	// anything that uses them: prometheus-operator-crds 31.0.1, operator
	// v0.93.1 as in KubePrometheusStack (the mirror's README: its ten CRDs are
	// identical to those kube-prometheus-stack 88.5.3 ships).
	PrometheusOperatorCRDs = Chart{Name: "prometheus-operator-crds", Repo: "https://prometheus-community.github.io/helm-charts", Version: "31.0.1"}
	// Traefik is the ingress controller: traefik 41.3.0 (Traefik v3.7.11),
	// traefik/traefik-helm-chart tag v41.3.0. Repo: traefik.github.io/charts,
	// the repository's index page. Why not ingress-nginx: SIG Network retired
	// it (best-effort maintenance ended March 2026, no more security fixes);
	// seen in public reports of the announcement, not in an upstream source
	// here (unverified: the kubernetes/ingress-nginx README would settle it).
	Traefik = Chart{Name: "traefik", Repo: "https://traefik.github.io/charts", Version: "41.3.0"}
	// Velero is the backup server: velero 12.1.0 (Velero 1.18.1),
	// vmware-tanzu/helm-charts tag velero-12.1.0. Repo: vmware-tanzu.github.io/helm-charts.
	Velero = Chart{Name: "velero", Repo: "https://vmware-tanzu.github.io/helm-charts", Version: "12.1.0"}
)

// Charts lists every pinned chart, for tools that fetch or mirror them all.
var Charts = []Chart{
	ArgoCD, BlackboxExporter, Cilium, GrafanaAlloy, KubePrometheusStack, LocalPathProvisioner, Loki,
	MetricsServer, NFSSubdirExternalProvisioner, PrometheusOperatorCRDs, Traefik, Velero,
}

// From returns the chart as it is pulled from repository: the same name and
// version from another Helm repository (an air-gapped mirror, ChartMuseum or
// Harbor). An empty repository means the chart's upstream repository.
func (c Chart) From(repository string) Chart {
	if repository != "" {
		c.Repo = repository
	}
	return c
}

// KubeletServingCertApprover approves the kubelet serving-certificate CSRs
// that rotate-server-certificates produces (metrics-server needs them). It is
// applied by Talos as an extra manifest; the URL pins a release tag. Checked:
// alex1989hu/kubelet-serving-cert-approver tag v0.11.0 (2026-07-17, the
// newest tag) has deploy/standalone-install.yaml, whose image is
// ghcr.io/alex1989hu/kubelet-serving-cert-approver:0.11.0 ("freeze image tags").
const KubeletServingCertApprover = "https://raw.githubusercontent.com/alex1989hu/kubelet-serving-cert-approver/v0.11.0/deploy/standalone-install.yaml"

// Container images the program sets itself, alphabetic by variable name.
// Images a chart sets from its own appVersion are pinned by the chart version
// above (a published chart version is immutable); they are overridden here
// only where the program must choose.
var (
	// TalosBackup takes the Talos cluster's etcd snapshots
	// (components/etcdbackup). Checked in siderolabs/talos-backup: tag
	// v0.1.0-beta.3 (2025-02-10, commit 11ca8c5, the newest tag; CHANGELOG.md
	// release notes), and its CI pushes ghcr.io/siderolabs/talos-backup with
	// the git tag as image tag on every v* tag
	// (.github/workflows/ci.yaml:9-15 and :95-101, Makefile:8-19 at the
	// tag). ghcr.io itself is not reachable here (unverified). Its S3 client
	// is aws-sdk-go-v2 service/s3 v1.76.0 (go.mod): see the checksum note in
	// components/etcdbackup. Later commits on main (minio client, zstd) are
	// in no tag yet.
	TalosBackup = Image{Repository: "ghcr.io/siderolabs/talos-backup", Tag: "v0.1.0-beta.3"}
	// VeleroPluginForAWS is the S3 object-store plugin (talks to Spaces).
	// Checked: tag v1.14.2 exists (the Go module proxy serves
	// github.com/vmware-tanzu/velero-plugin-for-aws@v1.14.2), and its README's
	// compatibility table pairs v1.14.x with Velero v1.18.x (the velero chart
	// 12.1.0 runs Velero 1.18.1). The image on Docker Hub is published by the
	// release workflow; Docker Hub itself is not reachable here (unverified).
	VeleroPluginForAWS = Image{Repository: "velero/velero-plugin-for-aws", Tag: "v1.14.2"}
)
