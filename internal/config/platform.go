package config

import (
	"net/netip"
	"strings"
)

// Platform is the platform layer both clusters run (key "platform"): the
// observability stack, GitOps, backups, the ingress controller and the
// security baseline. Both stack files set it; the values differ per cluster.
type Platform struct {
	Monitoring    Monitoring     `json:"monitoring"`
	GitOps        GitOps         `json:"gitops"`
	Backup        Backup         `json:"backup"`
	RBAC          RBAC           `json:"rbac"`
	Apps          []AppNamespace `json:"apps"`
	Ingress       Ingress        `json:"ingress"`
	Probes        Probes         `json:"probes"`
	MetricsServer MetricsServer  `json:"metricsServer"`
	// ChartRepository is the one Helm repository (a ChartMuseum, a static
	// mirror of index.yaml plus archives) every chart of the stack comes
	// from, under its upstream name and pinned version: for sites that
	// cannot reach the public chart repositories. Empty: each chart comes
	// from its upstream repository (internal/versions).
	ChartRepository string `json:"chartRepository"`
}

// Monitoring sizes and retains the observability stack.
type Monitoring struct {
	// PrometheusRetention is how long Prometheus keeps samples, as a
	// Prometheus duration such as 15d.
	PrometheusRetention string `json:"prometheusRetention"`
	// PrometheusRetentionSize caps the TSDB size (Prometheus units: 45GB); it
	// must fit the volume, or Prometheus fills it before the time limit.
	PrometheusRetentionSize string `json:"prometheusRetentionSize"`
	// PrometheusStorage, AlertmanagerStorage, GrafanaStorage and LokiStorage
	// are PVC sizes as Kubernetes quantities (50Gi).
	PrometheusStorage   string `json:"prometheusStorage"`
	AlertmanagerStorage string `json:"alertmanagerStorage"`
	GrafanaStorage      string `json:"grafanaStorage"`
	LokiStorage         string `json:"lokiStorage"`
	// LokiRetention is how long Loki keeps logs in the logs bucket, enforced by
	// the compactor; a multiple of 24h (the index period), such as 744h or 31d.
	LokiRetention string `json:"lokiRetention"`
	// SMTP is the relay Alertmanager mails alertEmail through.
	SMTP SMTP `json:"smtp"`
}

// SMTP is an outgoing mail relay.
type SMTP struct {
	Smarthost  string `json:"smarthost"` // host:port
	From       string `json:"from"`
	RequireTLS bool   `json:"requireTls"`
}

// GitOps is the Argo CD root application source.
type GitOps struct {
	RepoURL              string `json:"repoUrl"`
	Path                 string `json:"path"`
	Revision             string `json:"revision"`
	RevisionHistoryLimit int    `json:"revisionHistoryLimit"`
}

// Backup is the Velero schedule set.
type Backup struct {
	Schedules []BackupSchedule `json:"schedules"`
}

// BackupSchedule is one Velero Schedule.
type BackupSchedule struct {
	Name string `json:"name"`
	// Cron is a five-field cron expression (UTC) or a descriptor such as
	// @daily or @every 6h, as Velero parses it.
	Cron string `json:"cron"`
	// TTL is how long each backup is kept, a Go duration such as 720h.
	TTL string `json:"ttl"`
	// IncludedNamespaces lists the namespaces backed up; ["*"] is the whole
	// cluster state.
	IncludedNamespaces []string `json:"includedNamespaces"`
	ExcludedNamespaces []string `json:"excludedNamespaces"`
}

// RBAC names who may read and who administers the clusters.
type RBAC struct {
	Developers     Subjects `json:"developers"`     // read-only, no Secrets
	PlatformAdmins Subjects `json:"platformAdmins"` // cluster-admin
}

// Subjects are Kubernetes RBAC subjects as the authenticator names them.
type Subjects struct {
	Groups []string `json:"groups"`
	Users  []string `json:"users"`
}

// AppNamespace is one application (workload) namespace.
type AppNamespace struct {
	Name string `json:"name"`
	// PodSecurity is the enforced Pod Security level: restricted or baseline.
	PodSecurity string     `json:"podSecurity"`
	Quota       Quota      `json:"quota"`
	Limits      LimitRange `json:"limits"`
	// Egress lists the destinations outside the cluster the namespace may
	// reach, on top of DNS (e.g. the managed PostgreSQL on 25060).
	Egress []EgressRule `json:"egress"`
	// AppBucket says the namespace's workloads use the app bucket (prod's
	// spaces.appBucket): its Spaces endpoint is opened by name, on 443, with
	// a CiliumNetworkPolicy (Spaces has no fixed CIDR for Egress).
	AppBucket bool `json:"appBucket"`
}

// Quota is the namespace ResourceQuota; values are Kubernetes quantities.
type Quota struct {
	RequestsCPU            string `json:"requestsCpu"`
	RequestsMemory         string `json:"requestsMemory"`
	LimitsCPU              string `json:"limitsCpu"`
	LimitsMemory           string `json:"limitsMemory"`
	RequestsStorage        string `json:"requestsStorage"`
	Pods                   int    `json:"pods"`
	PersistentVolumeClaims int    `json:"persistentVolumeClaims"`
}

// LimitRange gives containers defaults and a ceiling; Kubernetes quantities.
type LimitRange struct {
	DefaultRequestCPU    string `json:"defaultRequestCpu"`
	DefaultRequestMemory string `json:"defaultRequestMemory"`
	DefaultCPU           string `json:"defaultCpu"`
	DefaultMemory        string `json:"defaultMemory"`
	MaxCPU               string `json:"maxCpu"`
	MaxMemory            string `json:"maxMemory"`
}

// EgressRule allows TCP to a CIDR on some ports.
type EgressRule struct {
	CIDR  netip.Prefix `json:"cidr"`
	Ports []int        `json:"ports"`
}

// Ingress is the ingress controller in front of the apps.
type Ingress struct {
	Replicas int `json:"replicas"`
	// LoadBalancerIP is the on-prem address Cilium announces for the
	// controller (onprem only; DigitalOcean assigns one on DOKS). The on-prem
	// router forwards TCP 443 of network.onpremPublicIp to it.
	// The zero address (loadBalancerIp: "") means unset.
	LoadBalancerIP netip.Addr `json:"loadBalancerIp"`
	// CloudflareCidrs are Cloudflare's published edge ranges: the only
	// sources the DO load balancer admits, and the proxies whose
	// X-Forwarded-For the controller trusts.
	CloudflareCidrs []netip.Prefix `json:"cloudflareCidrs"`
}

// Probes are the blackbox checks behind the tunnel and failover alerts.
type Probes struct {
	// Tunnel targets are addresses on the far side of the WireGuard tunnel:
	// an IP (ICMP) or IP:port (TCP connect).
	Tunnel []string `json:"tunnel"`
	// Origins are https URLs of the failover origin, probed like Cloudflare's
	// health monitor does.
	Origins []string `json:"origins"`
}

// MetricsServer installs metrics-server, which HPA needs.
type MetricsServer struct {
	// Install is true where the cluster lacks metrics-server (DOKS and Talos
	// ship without it).
	Install bool `json:"install"`
	// KubeletInsecureTLS skips verifying kubelet serving certificates, which
	// are self-signed on DOKS and on Talos without serving-cert rotation.
	KubeletInsecureTLS bool `json:"kubeletInsecureTls"`
}

// Cluster kinds the platform layer knows.
const (
	ClusterDOKS  = "doks"
	ClusterTalos = "talos"
)

// ClusterKind is the kind of Kubernetes cluster a stack runs.
func (c *Config) ClusterKind() string {
	if c.Kind == KindOnprem {
		return ClusterTalos
	}
	return ClusterDOKS
}

// PeerStack is the name of the stack this one pairs with, the last part of
// the reference it reads: on-prem, prodStackRef; on DigitalOcean,
// edge.onpremStackRef, "" when the edge reads no stack (an environment
// without a peer, such as staging).
func (c *Config) PeerStack() string {
	ref := c.Edge.OnpremStackRef
	if c.Kind == KindOnprem {
		ref = c.ProdStackRef
	}
	return ref[strings.LastIndex(ref, "/")+1:]
}

// PlatformNamespaces are the namespaces the platform layer owns; application
// namespaces may not take these names.
var PlatformNamespaces = []string{"argocd", "ingress", "monitoring", "velero"}
