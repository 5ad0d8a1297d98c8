// Package platform is the platform layer both clusters run, one component
// (hybrid:platform:Platform) with five children: the security baseline,
// observability, GitOps, backup and the ingress. Each stack's composition
// declares it once, after its cluster exists. It reads no config: the stack
// hands it everything in Args (stacks.PlatformArgs fills what the stack
// config decides).
//
//	prod (DOKS):
//	  args := stacks.PlatformArgs(cfg) // kind, names, settings, secrets
//	  args.Provider, args.StorageClass = cluster.Provider, "do-block-storage"
//	  args.SpacesRegion = pulumi.String(cfg.Spaces.Region)
//	  args.BackupsBucket = svc.Buckets.MapIndex(pulumi.String(data.ConsumerVelero)) // LogsBucket, AppBucket alike
//	  args.Loki = platform.SpacesCredentials{AccessKey: svc.Keys[data.ConsumerLoki].AccessKey, ...} // Velero alike
//	  layer, err := platform.New(ctx, "platform", args)
//	onprem (Talos):
//	  args.Provider, args.StorageClass = cluster.Provider, storage.LocalClass
//	  args.SpacesRegion, the buckets and keys: from the prod stack (prodref)
//	  args.DependsOn = []pulumi.Resource{cluster.Cni}   // LB-IPAM CRDs come with Cilium
//	  args.VolumesAfter = disks.Ready
//	then merge layer.Exports() into the stack's outputs.
//
// Contract:
//   - Kind is the cluster's kind: config.ClusterDOKS or config.ClusterTalos.
//   - ClusterName labels metrics and logs and is this cluster's prefix in
//     the shared buckets; PeerClusterName is the other cluster's prefix,
//     whose backups this one may restore ("" for an environment without a
//     peer).
//   - Provider is the cluster's kubernetes.Provider; every object of the
//     layer is created through it.
//   - StorageClass is the cluster's default ReadWriteOnce class
//     (do-block-storage on DOKS, local-ssd on Talos): Prometheus,
//     Alertmanager, Grafana and Loki volumes use it.
//   - SpacesRegion is the region of the Spaces buckets (nyc3); the S3
//     endpoint is derived from it.
//   - BackupsBucket and LogsBucket are the bucket names; both clusters
//     share them, each under its own prefix (ClusterName).
//   - Loki and Velero are each consumer's own Spaces key. The values may
//     come from SpacesKey resources or a StackReference; the platform makes
//     them secret either way.
//   - ControlPlaneIPs (scraped for etcd, scheduler and controller-manager),
//     PublicAddress and L2Interfaces are Talos's; empty on DOKS.
//   - DependsOn lists resources the layer must wait for beyond the
//     provider (the Cilium release on Talos).
//   - VolumesAfter lists what workloads with volumes must also wait for
//     (the storage provisioners and classes on Talos); the rest of the
//     layer, the ingress among it, does not wait for them.
//
// The five children were top-level resources before the platform was a
// component; each carries an alias to that URN, so that a deployed stack
// keeps them (tests/aliases_test.go).
package platform

import (
	"maps"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/components/backup"
	"github.com/hybridcloud/platform/components/baseline"
	"github.com/hybridcloud/platform/components/gitops"
	"github.com/hybridcloud/platform/components/ingress"
	"github.com/hybridcloud/platform/components/observability"
	"github.com/hybridcloud/platform/internal/argcheck"
	"github.com/hybridcloud/platform/internal/ciliumpolicy"
	"github.com/hybridcloud/platform/internal/config"
)

// Type is the component's type token.
const Type = "hybrid:platform:Platform"

// SpacesCredentials is one consumer's Spaces access key.
type SpacesCredentials struct {
	AccessKey pulumi.StringInput
	SecretKey pulumi.StringInput
}

// Args is what a stack hands the platform layer; see the contract in the
// package comment.
type Args struct {
	Kind string // config.ClusterDOKS or config.ClusterTalos
	// ClusterName is this cluster's name (the stack's), PeerClusterName the
	// other cluster's ("" when there is none).
	ClusterName     string
	PeerClusterName string
	Provider        pulumi.ProviderResource
	StorageClass    string
	SpacesRegion    pulumi.StringInput
	BackupsBucket   pulumi.StringInput
	LogsBucket      pulumi.StringInput
	// AppBucket is the app bucket's name: the namespaces with
	// Settings.Apps[].AppBucket may reach its Spaces endpoint.
	AppBucket pulumi.StringInput
	Loki      SpacesCredentials
	Velero    SpacesCredentials
	// Settings is the validated "platform" config.
	Settings config.Platform
	// AlertEmail receives Alertmanager's notifications.
	AlertEmail string
	// Secrets: Grafana's admin password, the Cloudflare Origin CA
	// certificate and key the ingress serves, and Argo CD's Redis password.
	GrafanaAdminPassword pulumi.StringInput
	OriginCertificate    pulumi.StringInput
	OriginKey            pulumi.StringInput
	ArgoCDRedisPassword  pulumi.StringInput
	// ControlPlaneIPs are the Talos control-plane node addresses.
	ControlPlaneIPs []string
	// PublicAddress is the router's public address that forwards 443 to the
	// ingress's LoadBalancer IP (Talos); L2Interfaces the node NICs that
	// announce that IP.
	PublicAddress string
	L2Interfaces  []string
	DependsOn     []pulumi.Resource
	VolumesAfter  []pulumi.Resource
	// Edge is what the Cloudflare edge expects of this cluster, which is
	// either origin: prod from its config, onprem from prod's outputs.
	Edge EdgeContract
}

// EdgeContract is what Cloudflare's load balancer expects of an origin: the
// UIs it publishes (each routed by the ingress) and the health check it runs
// (repeated by the origin probe).
type EdgeContract struct {
	UIs         map[string]string
	OriginCheck config.OriginCheck
}

// uiBackends are the in-cluster Services behind each publishable UI.
var uiBackends = map[string]struct {
	namespace, service string
	port               int
}{
	config.UIGrafana: {nsMonitoring, observability.GrafanaService, 80},
	config.UIArgoCD:  {nsArgoCD, gitops.Release + "-server", 80},
}

// Platform is the platform layer of one cluster.
type Platform struct {
	pulumi.ResourceState

	// IngressAddress is the failover origin: the public address Cloudflare
	// connects to (the DO load balancer's IP on DOKS, the router's public IP
	// that forwards 443 to the LoadBalancer IP on Talos).
	IngressAddress pulumi.StringOutput `pulumi:"ingressAddress"`
	// IngressLoadBalancerIP is the ingress Service's load-balancer address.
	IngressLoadBalancerIP pulumi.StringOutput `pulumi:"ingressLoadBalancerIp"`
	IngressClass          pulumi.StringOutput `pulumi:"ingressClass"`
	// In-cluster URLs operators port-forward to.
	GrafanaURL      pulumi.StringOutput `pulumi:"grafanaUrl"`
	PrometheusURL   pulumi.StringOutput `pulumi:"prometheusUrl"`
	AlertmanagerURL pulumi.StringOutput `pulumi:"alertmanagerUrl"`
	LokiURL         pulumi.StringOutput `pulumi:"lokiUrl"`
	ArgoCDURL       pulumi.StringOutput `pulumi:"argocdUrl"`
	// BackupLocation is where this cluster's Velero backups go.
	BackupLocation  pulumi.StringOutput      `pulumi:"backupLocation"`
	BackupSchedules pulumi.StringArrayOutput `pulumi:"backupSchedules"`
	Namespaces      pulumi.StringArrayOutput `pulumi:"namespaces"`
	AppNamespaces   pulumi.StringArrayOutput `pulumi:"appNamespaces"`

	baseline *baseline.Baseline
}

// Namespace returns a namespace's name as an output of the namespace the
// baseline declares, so that resources placed in it wait for it.
func (p *Platform) Namespace(name string) pulumi.StringOutput {
	return p.baseline.Namespace(name)
}

// Exports returns the stack outputs of the platform layer.
func (p *Platform) Exports() pulumi.Map {
	return pulumi.Map{
		config.OutputIngressAddress: p.IngressAddress,
		"platform":                  p.outputs(),
	}
}

func (p *Platform) outputs() pulumi.Map {
	return pulumi.Map{
		"ingressLoadBalancerIp": p.IngressLoadBalancerIP,
		"ingressClass":          p.IngressClass,
		"grafanaUrl":            p.GrafanaURL,
		"prometheusUrl":         p.PrometheusURL,
		"alertmanagerUrl":       p.AlertmanagerURL,
		"lokiUrl":               p.LokiURL,
		"argocdUrl":             p.ArgoCDURL,
		"backupLocation":        p.BackupLocation,
		"backupSchedules":       p.BackupSchedules,
		"namespaces":            p.Namespaces,
		"appNamespaces":         p.AppNamespaces,
	}
}

// Platform namespaces.
const (
	nsMonitoring = "monitoring"
	nsArgoCD     = "argocd"
	nsVelero     = "velero"
	nsIngress    = "ingress"
)

func (a *Args) check() error {
	if a == nil {
		return argcheck.Nil("platform")
	}
	e := argcheck.For("platform")
	e.OneOf("Kind", a.Kind, config.ClusterDOKS, config.ClusterTalos)
	e.Required("ClusterName", a.ClusterName == "")
	if a.ClusterName != "" && a.PeerClusterName == a.ClusterName {
		e.Invalid("PeerClusterName", "%q is this cluster's own name; the peer's must differ", a.PeerClusterName)
	}
	e.Required("Provider", a.Provider == nil)
	e.Required("StorageClass", a.StorageClass == "")
	e.Required("SpacesRegion", a.SpacesRegion == nil)
	e.Required("BackupsBucket", a.BackupsBucket == nil)
	e.Required("LogsBucket", a.LogsBucket == nil)
	for _, app := range a.Settings.Apps {
		if app.AppBucket && a.AppBucket == nil {
			e.RequiredFor("AppBucket", true, "for app namespace "+app.Name+", which has appBucket")
			break
		}
	}
	e.Required("Loki.AccessKey", a.Loki.AccessKey == nil)
	e.Required("Loki.SecretKey", a.Loki.SecretKey == nil)
	e.Required("Velero.AccessKey", a.Velero.AccessKey == nil)
	e.Required("Velero.SecretKey", a.Velero.SecretKey == nil)
	e.Required("GrafanaAdminPassword", a.GrafanaAdminPassword == nil)
	e.Required("OriginCertificate", a.OriginCertificate == nil)
	e.Required("OriginKey", a.OriginKey == nil)
	e.Required("ArgoCDRedisPassword", a.ArgoCDRedisPassword == nil)
	if a.Kind == config.ClusterTalos {
		e.RequiredFor("ControlPlaneIPs", len(a.ControlPlaneIPs) == 0, "on Talos")
		e.RequiredFor("PublicAddress", a.PublicAddress == "", "on Talos")
		e.RequiredFor("L2Interfaces", len(a.L2Interfaces) == 0, "on Talos")
	}
	if msg := a.Edge.OriginCheck.Check(); msg != "" {
		e.Invalid("Edge.OriginCheck", "%s", msg)
	}
	for _, ui := range slices.Sorted(maps.Keys(a.Edge.UIs)) {
		if _, ok := uiBackends[ui]; !ok {
			e.Invalid("Edge.UIs", "no backend for UI %q", ui)
		}
	}
	return e.Err()
}

// platformNamespaces are the platform's namespaces with the Pod Security
// level each needs, and why when that is below restricted.
func platformNamespaces(kind string) []baseline.NamespaceSpec {
	velero := baseline.NamespaceSpec{Name: nsVelero, PodSecurity: baseline.LevelBaseline,
		Reason: "the velero chart sets no restricted security context on the server"}
	if kind == config.ClusterTalos {
		velero = baseline.NamespaceSpec{Name: nsVelero, PodSecurity: baseline.LevelPrivileged,
			Reason: "the node agent mounts /var/lib/kubelet/pods (hostPath) to back up local volumes"}
	}
	specs := []baseline.NamespaceSpec{
		{Name: nsArgoCD, PodSecurity: baseline.LevelBaseline,
			Reason: "not every argo-cd component (redis secret init Job) is verified against restricted yet"},
		{Name: nsIngress, PodSecurity: baseline.LevelRestricted},
		{Name: nsMonitoring, PodSecurity: baseline.LevelPrivileged,
			Reason: "node-exporter uses hostNetwork, hostPID and hostPath; Alloy reads /var/log/pods; ICMP probes need NET_RAW"},
		velero,
	}
	if kind == config.ClusterTalos {
		// The etcd snapshot CronJob, which the onprem stack declares
		// (components/etcdbackup); its pod meets restricted.
		specs = append(specs, baseline.NamespaceSpec{Name: config.EtcdBackupNamespace, PodSecurity: baseline.LevelRestricted})
	}
	return specs
}

// child are the options of each of the five parts: parented here, through
// the cluster's provider, and aliased to the URN it had when it was a
// top-level resource (oldType: its type token then, when it changed).
func (p *Platform) child(provider pulumi.ProviderResource, oldType string) pulumi.ResourceOption {
	alias := pulumi.Alias{NoParent: pulumi.Bool(true)}
	if oldType != "" {
		alias.Type = pulumi.String(oldType)
	}
	return pulumi.Composite(pulumi.Parent(p), pulumi.Provider(provider), pulumi.Aliases([]pulumi.Alias{alias}))
}

// New declares the platform layer on the stack's cluster. Args are checked
// before anything is declared.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Platform, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	p := &Platform{}
	if err := ctx.RegisterComponentResource(Type, name, p, opts...); err != nil {
		return nil, err
	}
	pc := args.Settings
	endpoint := pulumi.Sprintf("%s.digitaloceanspaces.com", args.SpacesRegion)

	base, err := baseline.New(ctx, "baseline", &baseline.Args{
		Platform:          platformNamespaces(args.Kind),
		Apps:              pc.Apps,
		RBAC:              pc.RBAC,
		IngressController: baseline.Peer{Namespace: nsIngress, Labels: ingress.PodLabels},
		Prometheus:        baseline.Peer{Namespace: nsMonitoring, Labels: map[string]string{"app.kubernetes.io/name": "prometheus"}},
		MetricsServer:     pc.MetricsServer,
		ChartRepository:   pc.ChartRepository,
		SpacesHosts:       spacesHosts(args),
		After:             args.DependsOn,
	}, p.child(args.Provider, baseline.OldType))
	if err != nil {
		return nil, err
	}

	obs, err := observability.New(ctx, "observability", &observability.Args{
		Kind:                 args.Kind,
		ClusterName:          args.ClusterName,
		Namespace:            base.Namespace(nsMonitoring),
		StorageClass:         args.StorageClass,
		Settings:             pc.Monitoring,
		AlertEmail:           args.AlertEmail,
		GrafanaAdminPassword: args.GrafanaAdminPassword,
		Logs: observability.ObjectStore{
			Endpoint: endpoint, Region: args.SpacesRegion, Bucket: args.LogsBucket, Prefix: args.ClusterName,
			AccessKey: secret(args.Loki.AccessKey), SecretKey: secret(args.Loki.SecretKey),
		},
		ControlPlaneIPs: args.ControlPlaneIPs,
		Probes:          pc.Probes,
		OriginCheck:     args.Edge.OriginCheck,
		ChartRepository: pc.ChartRepository,
		BackupRPO:       config.ClusterStateRPO,
		VolumesAfter:    args.VolumesAfter,
	}, p.child(args.Provider, ""))
	if err != nil {
		return nil, err
	}
	// ServiceMonitors in the other charts need the monitoring CRDs, and
	// nothing more of the observability stack.
	afterMonitoring := []pulumi.Resource{obs.CRDs}

	argo, err := gitops.New(ctx, "gitops", &gitops.Args{
		Namespace:   base.Namespace(nsArgoCD),
		ClusterName: args.ClusterName,
		Source:      pc.GitOps,
		RBAC:        pc.RBAC,
		After:       afterMonitoring,
		// argocd-redis, which the chart expects from a hook Job.
		RedisPassword:   args.ArgoCDRedisPassword,
		ChartRepository: pc.ChartRepository,
		PublicHost:      args.Edge.UIs[config.UIArgoCD],
	}, p.child(args.Provider, ""))
	if err != nil {
		return nil, err
	}
	velero, err := backup.New(ctx, "backup", &backup.Args{
		Kind:            args.Kind,
		Namespace:       base.Namespace(nsVelero),
		Bucket:          args.BackupsBucket,
		Prefix:          args.ClusterName,
		PeerPrefix:      args.PeerClusterName,
		Endpoint:        pulumi.Sprintf("https://%s", endpoint),
		Region:          args.SpacesRegion,
		AccessKey:       secret(args.Velero.AccessKey),
		SecretKey:       secret(args.Velero.SecretKey),
		Schedules:       pc.Backup.Schedules,
		ChartRepository: pc.ChartRepository,
		After:           afterMonitoring,
	}, p.child(args.Provider, ""))
	if err != nil {
		return nil, err
	}
	var routes []ingress.Route
	for _, ui := range slices.Sorted(maps.Keys(args.Edge.UIs)) {
		b := uiBackends[ui]
		routes = append(routes, ingress.Route{Name: ui, Host: args.Edge.UIs[ui], Namespace: base.Namespace(b.namespace), Service: b.service, Port: b.port})
	}
	edge, err := ingress.New(ctx, "ingress", &ingress.Args{
		Routes:            routes,
		Kind:              args.Kind,
		ClusterName:       args.ClusterName,
		Namespace:         base.Namespace(nsIngress),
		Settings:          pc.Ingress,
		OriginCertificate: args.OriginCertificate,
		OriginKey:         args.OriginKey,
		PublicAddress:     args.PublicAddress,
		L2Interfaces:      args.L2Interfaces,
		ChartRepository:   pc.ChartRepository,
		After:             afterMonitoring,
	}, p.child(args.Provider, ""))
	if err != nil {
		return nil, err
	}
	p.IngressAddress = edge.PublicAddress
	p.IngressLoadBalancerIP = edge.LoadBalancerAddress
	p.IngressClass = edge.ClassName
	p.GrafanaURL = obs.GrafanaURL
	p.PrometheusURL = obs.PrometheusURL
	p.AlertmanagerURL = obs.AlertmanagerURL
	p.LokiURL = obs.LokiURL
	p.ArgoCDURL = argo.ServerURL
	p.BackupLocation = velero.Location
	p.BackupSchedules = velero.Schedules
	p.Namespaces = base.NamespaceNames
	p.AppNamespaces = base.AppNamespaces
	p.baseline = base
	outputs := p.outputs()
	outputs[config.OutputIngressAddress] = p.IngressAddress
	if err := ctx.RegisterResourceOutputs(p, outputs); err != nil {
		return nil, err
	}
	return p, nil
}

// secret marks a credential secret whatever its source did.
func secret(v pulumi.StringInput) pulumi.StringOutput {
	return pulumi.ToSecret(v).(pulumi.StringOutput)
}

// spacesHosts are the names of the app bucket's Spaces endpoint, or nil
// without an app bucket.
func spacesHosts(a *Args) pulumi.StringArrayInput {
	if a.AppBucket == nil {
		return nil
	}
	return pulumi.All(a.SpacesRegion, a.AppBucket).ApplyT(func(v []any) []string {
		return ciliumpolicy.SpacesHosts(v[0].(string), v[1].(string))
	}).(pulumi.StringArrayOutput)
}
