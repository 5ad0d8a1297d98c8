package stacks

// The platform layer both clusters run. Each stack's composition calls
// Platform once, after its cluster exists:
//
//	prod (DOKS):
//	  out, err := Platform(ctx, cfg, PlatformInputs{
//	      Kind: config.ClusterDOKS, Provider: doks.Provider, StorageClass: "do-block-storage",
//	      SpacesRegion: pulumi.String(cfg.Spaces.Region),
//	      BackupsBucket: backups.Name, LogsBucket: logs.Name,
//	      Loki:   SpacesCredentials{AccessKey: lokiKey.AccessKey, SecretKey: lokiKey.SecretKey},
//	      Velero: SpacesCredentials{AccessKey: veleroKey.AccessKey, SecretKey: veleroKey.SecretKey},
//	  })
//	onprem (Talos):
//	  out, err := Platform(ctx, cfg, PlatformInputs{
//	      Kind: config.ClusterTalos, Provider: talos.Provider, StorageClass: "local-ssd",
//	      SpacesRegion: prod.GetStringOutput(pulumi.String("spacesRegion")),
//	      BackupsBucket: ..., LogsBucket: ..., Loki: ..., Velero: ...,  // from the prod StackReference
//	      DependsOn: []pulumi.Resource{cilium},                        // LB-IPAM CRDs come with Cilium
//	  })
//	then export out.Exports() (merged into the stack's outputs).
//
// Contract:
//   - Kind must match the stack: prod runs DOKS, onprem runs Talos.
//   - Provider is the cluster's kubernetes.Provider; every object of the
//     layer is created through it.
//   - StorageClass is the cluster's default ReadWriteOnce class
//     (do-block-storage on DOKS, local-ssd on Talos): Prometheus,
//     Alertmanager, Grafana and Loki volumes use it.
//   - SpacesRegion is the region of the Spaces buckets (nyc3); the S3
//     endpoint is derived from it.
//   - BackupsBucket and LogsBucket are the bucket names; both clusters
//     share them, each under its own prefix (the stack name).
//   - Loki and Velero are each consumer's own Spaces key. The values may
//     come from SpacesKey resources or a StackReference; Platform makes them
//     secret either way.
//   - DependsOn lists resources the layer must wait for beyond the
//     provider (the Cilium release on Talos).
//   - VolumesAfter lists what workloads with volumes must also wait for
//     (the storage provisioners and classes on Talos); the rest of the
//     layer, the ingress among it, does not wait for them.
//
// Platform reads the validated "platform" config and the grafanaAdminPassword,
// originTlsCertificate and originTlsPrivateKey secrets from cfg.

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/components/backup"
	"github.com/hybridcloud/platform/components/baseline"
	"github.com/hybridcloud/platform/components/gitops"
	"github.com/hybridcloud/platform/components/ingress"
	"github.com/hybridcloud/platform/components/observability"
	"github.com/hybridcloud/platform/internal/ciliumpolicy"
	"github.com/hybridcloud/platform/internal/config"
)

// SpacesCredentials is one consumer's Spaces access key.
type SpacesCredentials struct {
	AccessKey pulumi.StringInput
	SecretKey pulumi.StringInput
}

// PlatformInputs is what a stack hands the platform layer; see the contract
// at the top of this file.
type PlatformInputs struct {
	Kind          string // config.ClusterDOKS or config.ClusterTalos
	Provider      pulumi.ProviderResource
	StorageClass  string
	SpacesRegion  pulumi.StringInput
	BackupsBucket pulumi.StringInput
	LogsBucket    pulumi.StringInput
	// AppBucket is the app bucket's name: the namespaces with
	// platform.apps[].appBucket may reach its Spaces endpoint.
	AppBucket    pulumi.StringInput
	Loki         SpacesCredentials
	Velero       SpacesCredentials
	DependsOn    []pulumi.Resource
	VolumesAfter []pulumi.Resource
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

// PlatformOutputs is what the platform layer gives back to its stack.
type PlatformOutputs struct {
	// IngressAddress is the failover origin: the public address Cloudflare
	// connects to (the DO load balancer's IP on DOKS, the router's public IP
	// that forwards 443 to the LoadBalancer IP on Talos).
	IngressAddress pulumi.StringOutput
	// IngressLoadBalancerIP is the ingress Service's load-balancer address.
	IngressLoadBalancerIP pulumi.StringOutput
	IngressClass          pulumi.StringOutput
	// In-cluster URLs operators port-forward to.
	GrafanaURL      pulumi.StringOutput
	PrometheusURL   pulumi.StringOutput
	AlertmanagerURL pulumi.StringOutput
	LokiURL         pulumi.StringOutput
	ArgoCDURL       pulumi.StringOutput
	// BackupLocation is where this cluster's Velero backups go.
	BackupLocation  pulumi.StringOutput
	BackupSchedules pulumi.StringArrayOutput
	Namespaces      pulumi.StringArrayOutput
	AppNamespaces   pulumi.StringArrayOutput

	baseline *baseline.Baseline
}

// Namespace returns a namespace's name as an output of the namespace the
// baseline declares, so that resources placed in it wait for it.
func (o *PlatformOutputs) Namespace(name string) pulumi.StringOutput {
	return o.baseline.Namespace(name)
}

// Exports returns the stack outputs of the platform layer.
func (o *PlatformOutputs) Exports() pulumi.Map {
	return pulumi.Map{
		"ingressAddress": o.IngressAddress,
		"platform": pulumi.Map{
			"ingressLoadBalancerIp": o.IngressLoadBalancerIP,
			"ingressClass":          o.IngressClass,
			"grafanaUrl":            o.GrafanaURL,
			"prometheusUrl":         o.PrometheusURL,
			"alertmanagerUrl":       o.AlertmanagerURL,
			"lokiUrl":               o.LokiURL,
			"argocdUrl":             o.ArgoCDURL,
			"backupLocation":        o.BackupLocation,
			"backupSchedules":       o.BackupSchedules,
			"namespaces":            o.Namespaces,
			"appNamespaces":         o.AppNamespaces,
		},
	}
}

// Platform namespaces.
const (
	nsMonitoring = "monitoring"
	nsArgoCD     = "argocd"
	nsVelero     = "velero"
	nsIngress    = "ingress"
)

func (in *PlatformInputs) check(cfg *config.Config) error {
	var errs []error
	if in.Kind != cfg.ClusterKind() {
		errs = append(errs, fmt.Errorf("platform: stack %s runs a %s cluster, not %q", cfg.Stack, cfg.ClusterKind(), in.Kind))
	}
	if in.Provider == nil {
		errs = append(errs, errors.New("platform: the cluster's kubernetes provider is required"))
	}
	if in.StorageClass == "" {
		errs = append(errs, errors.New("platform: the default StorageClass name is required"))
	}
	if in.SpacesRegion == nil || in.BackupsBucket == nil || in.LogsBucket == nil {
		errs = append(errs, errors.New("platform: the Spaces region and the backups and logs buckets are required"))
	}
	if msg := in.Edge.OriginCheck.Check(); msg != "" {
		errs = append(errs, errors.New("platform: Edge.OriginCheck."+msg))
	}
	for ui := range in.Edge.UIs {
		if _, ok := uiBackends[ui]; !ok {
			errs = append(errs, fmt.Errorf("platform: Edge.UIs: no backend for UI %q", ui))
		}
	}
	for _, app := range cfg.Platform.Apps {
		if app.AppBucket && in.AppBucket == nil {
			errs = append(errs, fmt.Errorf("platform: the app bucket is required: namespace %s has appBucket", app.Name))
			break
		}
	}
	for name, c := range map[string]SpacesCredentials{"loki": in.Loki, "velero": in.Velero} {
		if c.AccessKey == nil || c.SecretKey == nil {
			errs = append(errs, fmt.Errorf("platform: the %s Spaces key is required", name))
		}
	}
	return errors.Join(errs...)
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
	return []baseline.NamespaceSpec{
		{Name: nsArgoCD, PodSecurity: baseline.LevelBaseline,
			Reason: "not every argo-cd component (redis secret init Job) is verified against restricted yet"},
		{Name: nsIngress, PodSecurity: baseline.LevelRestricted},
		{Name: nsMonitoring, PodSecurity: baseline.LevelPrivileged,
			Reason: "node-exporter uses hostNetwork, hostPID and hostPath; Alloy reads /var/log/pods; ICMP probes need NET_RAW"},
		velero,
	}
}

// Platform declares the platform layer on the stack's cluster. Inputs are
// checked before anything is declared.
func Platform(ctx *pulumi.Context, cfg *config.Config, in PlatformInputs) (*PlatformOutputs, error) {
	if err := in.check(cfg); err != nil {
		return nil, err
	}
	pc := cfg.Platform
	provider := pulumi.Provider(in.Provider)
	cluster, peerCluster := cfg.Stack, config.StackOnprem
	if cluster == config.StackOnprem {
		peerCluster = config.StackProd
	}
	endpoint := pulumi.Sprintf("%s.digitaloceanspaces.com", in.SpacesRegion)

	base, err := baseline.New(ctx, "baseline", &baseline.Args{
		Platform:          platformNamespaces(in.Kind),
		Apps:              pc.Apps,
		RBAC:              pc.RBAC,
		IngressController: baseline.Peer{Namespace: nsIngress, Labels: ingress.PodLabels},
		Prometheus:        baseline.Peer{Namespace: nsMonitoring, Labels: map[string]string{"app.kubernetes.io/name": "prometheus"}},
		MetricsServer:     pc.MetricsServer,
		ChartRepository:   pc.ChartRepository,
		SpacesHosts:       spacesHosts(in),
		After:             in.DependsOn,
	}, provider)
	if err != nil {
		return nil, err
	}

	var controlPlane, interfaces []string
	for _, n := range cfg.Talos.Nodes {
		if n.Role == config.RoleControlPlane {
			controlPlane = append(controlPlane, n.IP)
		}
		// Any node may answer ARP for the ingress address: a cluster of
		// control-plane nodes only must still announce it.
		if !slices.Contains(interfaces, n.Interface) {
			interfaces = append(interfaces, n.Interface)
		}
	}
	obs, err := observability.New(ctx, "observability", &observability.Args{
		Kind:                 in.Kind,
		ClusterName:          cluster,
		Namespace:            base.Namespace(nsMonitoring),
		StorageClass:         in.StorageClass,
		Settings:             pc.Monitoring,
		AlertEmail:           cfg.AlertEmail,
		GrafanaAdminPassword: cfg.Secrets.GrafanaAdminPassword.Output(),
		Logs: observability.ObjectStore{
			Endpoint: endpoint, Region: in.SpacesRegion, Bucket: in.LogsBucket, Prefix: cluster,
			AccessKey: secret(in.Loki.AccessKey), SecretKey: secret(in.Loki.SecretKey),
		},
		ControlPlaneIPs: controlPlane,
		Probes:          pc.Probes,
		OriginCheck:     in.Edge.OriginCheck,
		ChartRepository: pc.ChartRepository,
		BackupRPO:       config.ClusterStateRPO,
		VolumesAfter:    in.VolumesAfter,
	}, provider)
	if err != nil {
		return nil, err
	}
	// ServiceMonitors in the other charts need the monitoring CRDs, and
	// nothing more of the observability stack.
	afterMonitoring := []pulumi.Resource{obs.CRDs}

	argo, err := gitops.New(ctx, "gitops", &gitops.Args{
		Namespace:   base.Namespace(nsArgoCD),
		ClusterName: cluster,
		Source:      pc.GitOps,
		RBAC:        pc.RBAC,
		After:       afterMonitoring,
		// argocd-redis, which the chart expects from a hook Job.
		RedisPassword:   cfg.Secrets.ArgoCDRedisPassword.Output(),
		ChartRepository: pc.ChartRepository,
		PublicHost:      in.Edge.UIs[config.UIArgoCD],
	}, provider)
	if err != nil {
		return nil, err
	}
	velero, err := backup.New(ctx, "backup", &backup.Args{
		Kind:            in.Kind,
		Namespace:       base.Namespace(nsVelero),
		Bucket:          in.BackupsBucket,
		Prefix:          cluster,
		PeerPrefix:      peerCluster,
		Endpoint:        pulumi.Sprintf("https://%s", endpoint),
		Region:          in.SpacesRegion,
		AccessKey:       secret(in.Velero.AccessKey),
		SecretKey:       secret(in.Velero.SecretKey),
		Schedules:       pc.Backup.Schedules,
		ChartRepository: pc.ChartRepository,
		After:           afterMonitoring,
	}, provider)
	if err != nil {
		return nil, err
	}
	publicAddress := ""
	if in.Kind == config.ClusterTalos {
		publicAddress = cfg.IngressAddress()
	}
	var routes []ingress.Route
	for _, ui := range slices.Sorted(maps.Keys(in.Edge.UIs)) {
		b := uiBackends[ui]
		routes = append(routes, ingress.Route{Name: ui, Host: in.Edge.UIs[ui], Namespace: base.Namespace(b.namespace), Service: b.service, Port: b.port})
	}
	edge, err := ingress.New(ctx, "ingress", &ingress.Args{
		Routes:            routes,
		Kind:              in.Kind,
		ClusterName:       cluster,
		Namespace:         base.Namespace(nsIngress),
		Settings:          pc.Ingress,
		OriginCertificate: cfg.Secrets.OriginTLSCertificate.Output(),
		OriginKey:         cfg.Secrets.OriginTLSPrivateKey.Output(),
		PublicAddress:     publicAddress,
		L2Interfaces:      interfaces,
		ChartRepository:   pc.ChartRepository,
		After:             afterMonitoring,
	}, provider)
	if err != nil {
		return nil, err
	}
	return &PlatformOutputs{
		IngressAddress:        edge.PublicAddress,
		IngressLoadBalancerIP: edge.LoadBalancerAddress,
		IngressClass:          edge.ClassName,
		GrafanaURL:            obs.GrafanaURL,
		PrometheusURL:         obs.PrometheusURL,
		AlertmanagerURL:       obs.AlertmanagerURL,
		LokiURL:               obs.LokiURL,
		ArgoCDURL:             argo.ServerURL,
		BackupLocation:        velero.Location,
		BackupSchedules:       velero.Schedules,
		Namespaces:            base.NamespaceNames,
		AppNamespaces:         base.AppNamespaces,
		baseline:              base,
	}, nil
}

// secret marks a credential secret whatever its source did.
func secret(v pulumi.StringInput) pulumi.StringOutput {
	return pulumi.ToSecret(v).(pulumi.StringOutput)
}

// spacesHosts are the names of the app bucket's Spaces endpoint, or nil
// without an app bucket.
func spacesHosts(in PlatformInputs) pulumi.StringArrayInput {
	if in.AppBucket == nil {
		return nil
	}
	return pulumi.All(in.SpacesRegion, in.AppBucket).ApplyT(func(v []any) []string {
		return ciliumpolicy.SpacesHosts(v[0].(string), v[1].(string))
	}).(pulumi.StringArrayOutput)
}
