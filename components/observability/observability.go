// Package observability is the monitoring and logging stack of one cluster:
// kube-prometheus-stack (Prometheus, Alertmanager, Grafana, node exporter,
// kube-state-metrics), Loki in single-binary mode with its chunks in the
// Spaces logs bucket, Grafana Alloy shipping pod logs to Loki, a blackbox
// exporter probing the WireGuard tunnel and the failover origin, and the
// alert rules an operator of this platform must hear about.
package observability

import (
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/argcheck"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/kube"
	"github.com/hybridcloud/platform/internal/versions"
)

// Release names; they fix the in-cluster service names below.
const (
	PrometheusRelease = "kps"
	// CRDsRelease installs the monitoring.coreos.com CRDs.
	CRDsRelease     = "prometheus-operator-crds"
	LokiRelease     = "loki"
	AlloyRelease    = "alloy"
	BlackboxRelease = "blackbox-exporter"
	GrafanaService  = "grafana"
)

// ObjectStore is an S3-compatible bucket with its own access key.
type ObjectStore struct {
	Endpoint  pulumi.StringInput // host name, no scheme: nyc3.digitaloceanspaces.com
	Region    pulumi.StringInput
	Bucket    pulumi.StringInput
	Prefix    string // key prefix inside the bucket; one per cluster
	AccessKey pulumi.StringInput
	SecretKey pulumi.StringInput
}

func (o *ObjectStore) check(e *argcheck.Errors, field string) {
	e.Required(field+".Endpoint", o.Endpoint == nil)
	e.Required(field+".Region", o.Region == nil)
	e.Required(field+".Bucket", o.Bucket == nil)
	e.Required(field+".Prefix", o.Prefix == "")
	e.Required(field+".AccessKey", o.AccessKey == nil)
	e.Required(field+".SecretKey", o.SecretKey == nil)
}

// Args configures the stack.
type Args struct {
	// Kind is config.ClusterDOKS or config.ClusterTalos.
	Kind string
	// ClusterName labels every metric and log line (external label "cluster").
	ClusterName string
	// Namespace is where everything runs; pass the namespace's output so the
	// charts wait for it.
	Namespace pulumi.StringInput
	// StorageClass backs Prometheus, Alertmanager, Grafana and Loki volumes.
	StorageClass string
	Settings     config.Monitoring
	AlertEmail   string
	// GrafanaAdminPassword is the Grafana admin password (a secret).
	GrafanaAdminPassword pulumi.StringInput
	// Logs is where Loki keeps chunks and index.
	Logs ObjectStore
	// ControlPlaneIPs are the Talos control-plane node addresses, scraped for
	// etcd, scheduler and controller-manager. Empty on DOKS (managed).
	ControlPlaneIPs []string
	Probes          config.Probes
	// OriginCheck is what Cloudflare's monitor sends the failover origin;
	// the origin probe sends the same.
	OriginCheck config.OriginCheck
	// BackupRPO is the longest a cluster-state backup may be missing.
	BackupRPO time.Duration
	// ChartRepository, when set, is the one Helm repository every chart
	// comes from (platform.chartRepository); empty means upstream.
	ChartRepository string
	// VolumesAfter lists what the charts with volumes (kube-prometheus-stack,
	// Loki) wait for, such as the storage provisioners; nothing else does.
	VolumesAfter []pulumi.Resource
}

func (a *Args) check() error {
	if a == nil {
		return argcheck.Nil("observability")
	}
	e := argcheck.For("observability")
	e.OneOf("Kind", a.Kind, config.ClusterDOKS, config.ClusterTalos)
	e.Required("ClusterName", a.ClusterName == "")
	e.Required("Namespace", a.Namespace == nil)
	e.Required("StorageClass", a.StorageClass == "")
	e.Required("GrafanaAdminPassword", a.GrafanaAdminPassword == nil)
	e.RequiredFor("ControlPlaneIPs", a.Kind == config.ClusterTalos && len(a.ControlPlaneIPs) == 0,
		"on Talos, to scrape etcd, scheduler and controller-manager")
	if msg := a.OriginCheck.Check(); msg != "" {
		e.Invalid("OriginCheck", "%s", msg)
	}
	e.RequiredFor("BackupRPO", a.BackupRPO <= 0, "for the stale-backup alert")
	a.Logs.check(e, "Logs")
	return e.Err()
}

// Observability is the monitoring and logging component.
type Observability struct {
	pulumi.ResourceState

	// In-cluster endpoints operators port-forward to.
	GrafanaURL      pulumi.StringOutput `pulumi:"grafanaUrl"`
	PrometheusURL   pulumi.StringOutput `pulumi:"prometheusUrl"`
	AlertmanagerURL pulumi.StringOutput `pulumi:"alertmanagerUrl"`
	LokiURL         pulumi.StringOutput `pulumi:"lokiUrl"`

	// CRDs is the prometheus-operator-crds release: the ServiceMonitor,
	// PodMonitor, Probe, PrometheusRule (and other monitoring.coreos.com)
	// CRDs. Anything that creates those objects depends on it, and only on
	// it: waiting for the whole kube-prometheus-stack would put its rollout
	// on the critical path of every chart with a ServiceMonitor.
	CRDs pulumi.Resource
}

// Type is the component's type token.
const Type = "hybrid:observability:Observability"

// New declares the stack. Everything is a child of the
// component and waits for the namespace.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Observability, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	o := &Observability{}
	if err := ctx.RegisterComponentResource(Type, name, o, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(o)
	ns := args.Namespace

	grafanaSecret, err := kube.Secret(ctx, "grafana-admin", ns, "Opaque", pulumi.StringMap{
		"admin-user":     pulumi.String("admin"),
		"admin-password": args.GrafanaAdminPassword,
	}, parent)
	if err != nil {
		return nil, err
	}
	// The CRDs come first, as their own release; kube-prometheus-stack's
	// own copy (the same operator version) is off.
	crds, err := kube.Chart(ctx, CRDsRelease, versions.PrometheusOperatorCRDs.From(args.ChartRepository), ns, nil, parent)
	if err != nil {
		return nil, err
	}
	o.CRDs = crds
	afterCRDs := pulumi.DependsOn([]pulumi.Resource{crds})
	if _, err := kube.Chart(ctx, PrometheusRelease, versions.KubePrometheusStack.From(args.ChartRepository), ns, prometheusValues(args), parent,
		pulumi.DependsOn(append([]pulumi.Resource{grafanaSecret, crds}, args.VolumesAfter...))); err != nil {
		return nil, err
	}
	if err := logging(ctx, args, parent); err != nil {
		return nil, err
	}
	if err := probes(ctx, args, parent, afterCRDs); err != nil {
		return nil, err
	}
	if err := alertRules(ctx, args, parent, afterCRDs); err != nil {
		return nil, err
	}

	svc := func(service string, port int) pulumi.StringOutput {
		return pulumi.Sprintf("http://%s.%s.svc:%d", service, ns, port)
	}
	o.GrafanaURL = svc(GrafanaService, 80)
	o.PrometheusURL = svc(PrometheusRelease+"-prometheus", 9090)
	o.AlertmanagerURL = svc(PrometheusRelease+"-alertmanager", 9093)
	o.LokiURL = svc(LokiRelease, 3100)
	if err := ctx.RegisterResourceOutputs(o, pulumi.Map{
		"grafanaUrl":      o.GrafanaURL,
		"prometheusUrl":   o.PrometheusURL,
		"alertmanagerUrl": o.AlertmanagerURL,
		"lokiUrl":         o.LokiURL,
	}); err != nil {
		return nil, err
	}
	return o, nil
}
