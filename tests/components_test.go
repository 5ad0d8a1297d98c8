package tests

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/components/backup"
	"github.com/hybridcloud/platform/components/baseline"
	"github.com/hybridcloud/platform/components/data"
	"github.com/hybridcloud/platform/components/doks"
	"github.com/hybridcloud/platform/components/failover"
	"github.com/hybridcloud/platform/components/gitops"
	"github.com/hybridcloud/platform/components/ingress"
	"github.com/hybridcloud/platform/components/network"
	"github.com/hybridcloud/platform/components/observability"
	"github.com/hybridcloud/platform/components/platform"
	"github.com/hybridcloud/platform/components/registry"
	"github.com/hybridcloud/platform/components/storage"
	"github.com/hybridcloud/platform/components/talos"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
)

// assertNamesOnly checks that err is a component's argument error about
// field alone: it names Args.<field> and no other field.
func assertNamesOnly(t *testing.T, err error, component, field string) {
	t.Helper()
	require.Error(t, err)
	msg := err.Error()
	assert.Regexp(t, regexp.MustCompile(regexp.QuoteMeta(component+": Args."+field)+"[ :]"), msg)
	assert.Equal(t, 1, strings.Count(msg, "Args."), "one field is named: %s", msg)
}

// argsCase is one component declared with one field of otherwise valid
// Args missing or invalid.
type argsCase struct {
	component, field string
	declare          func(ctx *pulumi.Context) error
}

// Each component rejects each missing or invalid field with an error naming
// that field, before it declares anything. Every row starts from valid Args
// (each row names exactly one field) and breaks one.
func TestComponentArgsNameTheBadField(t *testing.T) {
	gatewayKey := loadConfig(t, config.StackProd).Secrets.WireguardGatewayPrivateKey
	var cases []argsCase
	// rows maps a field to a declaration that breaks it; a trailing # tells
	// apart a second row about the same field.
	add := func(component string, rows map[string]func(ctx *pulumi.Context) error) {
		for field, declare := range rows {
			cases = append(cases, argsCase{component, strings.TrimSuffix(field, "#"), declare})
		}
	}
	// A provider or resource that is never used: the args fail first.
	provider := &kubernetes.Provider{}

	backupArgs := func(edit func(*backup.Args)) func(ctx *pulumi.Context) error {
		a := backup.Args{Kind: config.ClusterDOKS, Namespace: pulumi.String("velero"), Bucket: pulumi.String("b"),
			Endpoint: pulumi.String("https://nyc3.digitaloceanspaces.com"), Region: pulumi.String("nyc3"),
			AccessKey: pulumi.String("a"), SecretKey: pulumi.String("s"), Prefix: "prod", PeerPrefix: "onprem",
			Schedules: []config.BackupSchedule{{Name: "daily"}}}
		edit(&a)
		return func(ctx *pulumi.Context) error { _, err := backup.New(ctx, "x", &a); return err }
	}
	add("backup", map[string]func(ctx *pulumi.Context) error{
		"Kind":        backupArgs(func(a *backup.Args) { a.Kind = "eks" }),
		"Namespace":   backupArgs(func(a *backup.Args) { a.Namespace = nil }),
		"Bucket":      backupArgs(func(a *backup.Args) { a.Bucket = nil }),
		"Endpoint":    backupArgs(func(a *backup.Args) { a.Endpoint = nil }),
		"Region":      backupArgs(func(a *backup.Args) { a.Region = nil }),
		"AccessKey":   backupArgs(func(a *backup.Args) { a.AccessKey = nil }),
		"SecretKey":   backupArgs(func(a *backup.Args) { a.SecretKey = nil }),
		"Prefix":      backupArgs(func(a *backup.Args) { a.Prefix = "" }),
		"PeerPrefix#": backupArgs(func(a *backup.Args) { a.PeerPrefix = a.Prefix }),
		"Schedules":   backupArgs(func(a *backup.Args) { a.Schedules = nil }),
	})

	baselineArgs := func(edit func(*baseline.Args)) func(ctx *pulumi.Context) error {
		a := baseline.Args{Platform: []baseline.NamespaceSpec{{Name: "ingress", PodSecurity: baseline.LevelRestricted}},
			IngressController: baseline.Peer{Namespace: "ingress"}, Prometheus: baseline.Peer{Namespace: "monitoring"}}
		edit(&a)
		return func(ctx *pulumi.Context) error { _, err := baseline.New(ctx, "x", &a); return err }
	}
	add("baseline", map[string]func(ctx *pulumi.Context) error{
		"Platform[0].Name":            baselineArgs(func(a *baseline.Args) { a.Platform[0].Name = "" }),
		"Platform[0].PodSecurity":     baselineArgs(func(a *baseline.Args) { a.Platform[0].PodSecurity = "open" }),
		"Platform[0].Reason":          baselineArgs(func(a *baseline.Args) { a.Platform[0].PodSecurity = baseline.LevelBaseline }),
		"Platform[1].Name":            baselineArgs(func(a *baseline.Args) { a.Platform = append(a.Platform, a.Platform[0]) }),
		"Apps[0].Name":                baselineArgs(func(a *baseline.Args) { a.Apps = []config.AppNamespace{{Name: "ingress"}} }),
		"SpacesHosts":                 baselineArgs(func(a *baseline.Args) { a.Apps = []config.AppNamespace{{Name: "shop", AppBucket: true}} }),
		"IngressController.Namespace": baselineArgs(func(a *baseline.Args) { a.IngressController.Namespace = "" }),
		"Prometheus.Namespace":        baselineArgs(func(a *baseline.Args) { a.Prometheus.Namespace = "" }),
	})

	dataArgs := func(edit func(*data.Args)) func(ctx *pulumi.Context) error {
		a := data.Args{Prefix: "hybrid-prod", Region: "nyc3", VpcID: pulumi.String("vpc"), ClusterID: pulumi.String("c"), GatewayDropletID: pulumi.String("d")}
		edit(&a)
		return func(ctx *pulumi.Context) error { _, err := data.New(ctx, "x", &a); return err }
	}
	add("data", map[string]func(ctx *pulumi.Context) error{
		"Prefix":           dataArgs(func(a *data.Args) { a.Prefix = "" }),
		"Region":           dataArgs(func(a *data.Args) { a.Region = "" }),
		"VpcID":            dataArgs(func(a *data.Args) { a.VpcID = nil }),
		"ClusterID":        dataArgs(func(a *data.Args) { a.ClusterID = nil }),
		"GatewayDropletID": dataArgs(func(a *data.Args) { a.GatewayDropletID = nil }),
	})

	doksArgs := func(edit func(*doks.Args)) func(ctx *pulumi.Context) error {
		a := doks.Args{Prefix: "hybrid-prod", Region: "nyc3", Doks: config.Doks{KubernetesMinor: "1.35"}, Version: "1.35.4-do.0",
			PodCidr: netip.MustParsePrefix("10.244.0.0/16"), ServiceCidr: netip.MustParsePrefix("10.245.0.0/16"), OnpremCidr: netip.MustParsePrefix("192.168.10.0/24"),
			VpcID: pulumi.String("vpc"), GatewayPrivateIP: pulumi.String("10.100.0.2")}
		edit(&a)
		return func(ctx *pulumi.Context) error { _, err := doks.New(ctx, "x", &a); return err }
	}
	add("doks", map[string]func(ctx *pulumi.Context) error{
		"Prefix":           doksArgs(func(a *doks.Args) { a.Prefix = "" }),
		"Region":           doksArgs(func(a *doks.Args) { a.Region = "" }),
		"VpcID":            doksArgs(func(a *doks.Args) { a.VpcID = nil }),
		"GatewayPrivateIP": doksArgs(func(a *doks.Args) { a.GatewayPrivateIP = nil }),
		"PodCidr":          doksArgs(func(a *doks.Args) { a.PodCidr = netip.Prefix{} }),
		"ServiceCidr":      doksArgs(func(a *doks.Args) { a.ServiceCidr = netip.Prefix{} }),
		"OnpremCidr":       doksArgs(func(a *doks.Args) { a.OnpremCidr = netip.Prefix{} }),
		"Version":          doksArgs(func(a *doks.Args) { a.Version = "1.34.1-do.0" }),
	})

	failoverArgs := func(edit func(*failover.Args)) func(ctx *pulumi.Context) error {
		a := failover.Args{CloudOrigin: pulumi.String("203.0.113.1"), OnpremOrigin: pulumi.String("203.0.113.2"),
			Edge: config.Edge{Zone: "example.com", Hostname: "app.example.com", UIs: map[string]string{config.UIGrafana: "grafana.example.com"},
				Access: config.EdgeAccess{IdentityProviderID: "idp"}},
			AccessGroups: []string{"admins"}}
		edit(&a)
		return func(ctx *pulumi.Context) error { _, err := failover.New(ctx, "x", &a); return err }
	}
	add("failover", map[string]func(ctx *pulumi.Context) error{
		"CloudOrigin":                    failoverArgs(func(a *failover.Args) { a.CloudOrigin = nil }),
		"OnpremOrigin":                   failoverArgs(func(a *failover.Args) { a.OnpremOrigin = nil }),
		"Edge.Zone":                      failoverArgs(func(a *failover.Args) { a.Edge.Zone = "" }),
		"Edge.Hostname":                  failoverArgs(func(a *failover.Args) { a.Edge.Hostname = "" }),
		"AccessGroups":                   failoverArgs(func(a *failover.Args) { a.AccessGroups = nil }),
		"Edge.Access.IdentityProviderID": failoverArgs(func(a *failover.Args) { a.Edge.Access.IdentityProviderID = "" }),
	})

	gitopsArgs := func(edit func(*gitops.Args)) func(ctx *pulumi.Context) error {
		a := gitops.Args{Namespace: pulumi.String("argocd"), ClusterName: "prod", RedisPassword: pulumi.String("r"),
			Source: config.GitOps{RepoURL: "https://git.example.com/apps.git", Path: "clusters/prod", Revision: "main", RevisionHistoryLimit: 10}}
		edit(&a)
		return func(ctx *pulumi.Context) error { _, err := gitops.New(ctx, "x", &a); return err }
	}
	add("gitops", map[string]func(ctx *pulumi.Context) error{
		"Namespace":                   gitopsArgs(func(a *gitops.Args) { a.Namespace = nil }),
		"ClusterName":                 gitopsArgs(func(a *gitops.Args) { a.ClusterName = "" }),
		"Source.RepoURL":              gitopsArgs(func(a *gitops.Args) { a.Source.RepoURL = "" }),
		"Source.Path":                 gitopsArgs(func(a *gitops.Args) { a.Source.Path = "" }),
		"Source.Revision":             gitopsArgs(func(a *gitops.Args) { a.Source.Revision = "" }),
		"Source.RevisionHistoryLimit": gitopsArgs(func(a *gitops.Args) { a.Source.RevisionHistoryLimit = 0 }),
		"RedisPassword":               gitopsArgs(func(a *gitops.Args) { a.RedisPassword = nil }),
	})

	ingressArgs := func(kind string, edit func(*ingress.Args)) func(ctx *pulumi.Context) error {
		a := ingress.Args{Kind: kind, ClusterName: "prod", Namespace: pulumi.String("ingress"),
			OriginCertificate: pulumi.String("cert"), OriginKey: pulumi.String("key"),
			Settings:      config.Ingress{Replicas: 2, CloudflareCidrs: []netip.Prefix{netip.MustParsePrefix("173.245.48.0/20")}, LoadBalancerIP: netip.MustParseAddr("192.168.10.50")},
			PublicAddress: "203.0.113.10", L2Interfaces: []string{"eth0"}}
		edit(&a)
		return func(ctx *pulumi.Context) error { _, err := ingress.New(ctx, "x", &a); return err }
	}
	add("ingress", map[string]func(ctx *pulumi.Context) error{
		"Kind":                     ingressArgs("eks", func(*ingress.Args) {}),
		"Settings.CloudflareCidrs": ingressArgs(config.ClusterDOKS, func(a *ingress.Args) { a.Settings.CloudflareCidrs = nil }),
		"Settings.LoadBalancerIP":  ingressArgs(config.ClusterTalos, func(a *ingress.Args) { a.Settings.LoadBalancerIP = netip.Addr{} }),
		"PublicAddress":            ingressArgs(config.ClusterTalos, func(a *ingress.Args) { a.PublicAddress = "" }),
		"L2Interfaces":             ingressArgs(config.ClusterTalos, func(a *ingress.Args) { a.L2Interfaces = nil }),
		"ClusterName":              ingressArgs(config.ClusterDOKS, func(a *ingress.Args) { a.ClusterName = "" }),
		"Namespace":                ingressArgs(config.ClusterDOKS, func(a *ingress.Args) { a.Namespace = nil }),
		"OriginCertificate":        ingressArgs(config.ClusterDOKS, func(a *ingress.Args) { a.OriginCertificate = nil }),
		"OriginKey":                ingressArgs(config.ClusterDOKS, func(a *ingress.Args) { a.OriginKey = nil }),
		"Settings.Replicas":        ingressArgs(config.ClusterDOKS, func(a *ingress.Args) { a.Settings.Replicas = 0 }),
	})

	networkArgs := func(edit func(*network.Args)) func(ctx *pulumi.Context) error {
		a := network.Args{Prefix: "hybrid-prod", GatewayPrivateKey: gatewayKey}
		edit(&a)
		return func(ctx *pulumi.Context) error { _, err := network.New(ctx, "x", &a); return err }
	}
	add("network", map[string]func(ctx *pulumi.Context) error{
		"Prefix":            networkArgs(func(a *network.Args) { a.Prefix = "" }),
		"GatewayPrivateKey": networkArgs(func(a *network.Args) { a.GatewayPrivateKey = config.Secret{} }),
	})

	observabilityArgs := func(kind string, edit func(*observability.Args)) func(ctx *pulumi.Context) error {
		a := observability.Args{Kind: kind, ClusterName: "onprem", Namespace: pulumi.String("monitoring"), StorageClass: "local-ssd",
			GrafanaAdminPassword: pulumi.String("g"), ControlPlaneIPs: []string{"192.168.10.11"}, BackupRPO: 24 * time.Hour,
			OriginCheck: config.OriginCheck{Host: "app.example.com", Path: "/healthz", ExpectedCodes: "200", TimeoutSeconds: 5, IntervalSeconds: 60},
			Logs: observability.ObjectStore{Endpoint: pulumi.String("nyc3.digitaloceanspaces.com"), Region: pulumi.String("nyc3"),
				Bucket: pulumi.String("logs"), Prefix: "onprem", AccessKey: pulumi.String("a"), SecretKey: pulumi.String("s")}}
		edit(&a)
		return func(ctx *pulumi.Context) error { _, err := observability.New(ctx, "x", &a); return err }
	}
	talosKind := config.ClusterTalos
	add("observability", map[string]func(ctx *pulumi.Context) error{
		"Kind":                 observabilityArgs("eks", func(*observability.Args) {}),
		"ClusterName":          observabilityArgs(talosKind, func(a *observability.Args) { a.ClusterName = "" }),
		"Namespace":            observabilityArgs(talosKind, func(a *observability.Args) { a.Namespace = nil }),
		"StorageClass":         observabilityArgs(talosKind, func(a *observability.Args) { a.StorageClass = "" }),
		"GrafanaAdminPassword": observabilityArgs(talosKind, func(a *observability.Args) { a.GrafanaAdminPassword = nil }),
		"ControlPlaneIPs":      observabilityArgs(talosKind, func(a *observability.Args) { a.ControlPlaneIPs = nil }),
		"OriginCheck":          observabilityArgs(talosKind, func(a *observability.Args) { a.OriginCheck.Host = "" }),
		"BackupRPO":            observabilityArgs(talosKind, func(a *observability.Args) { a.BackupRPO = 0 }),
		"Logs.Endpoint":        observabilityArgs(talosKind, func(a *observability.Args) { a.Logs.Endpoint = nil }),
		"Logs.Region":          observabilityArgs(talosKind, func(a *observability.Args) { a.Logs.Region = nil }),
		"Logs.Bucket":          observabilityArgs(talosKind, func(a *observability.Args) { a.Logs.Bucket = nil }),
		"Logs.Prefix":          observabilityArgs(talosKind, func(a *observability.Args) { a.Logs.Prefix = "" }),
		"Logs.AccessKey":       observabilityArgs(talosKind, func(a *observability.Args) { a.Logs.AccessKey = nil }),
		"Logs.SecretKey":       observabilityArgs(talosKind, func(a *observability.Args) { a.Logs.SecretKey = nil }),
	})

	registryArgs := func(edit func(*registry.Args)) func(ctx *pulumi.Context) error {
		a := registry.Args{Provider: provider, SecretName: "regcred", Namespaces: []string{"apps"},
			Namespace: func(n string) pulumi.StringOutput { return pulumi.String(n).ToStringOutput() }, DockerConfig: pulumi.String("{}")}
		edit(&a)
		return func(ctx *pulumi.Context) error { _, err := registry.New(ctx, "x", &a); return err }
	}
	add("registry", map[string]func(ctx *pulumi.Context) error{
		"Provider":     registryArgs(func(a *registry.Args) { a.Provider = nil }),
		"SecretName":   registryArgs(func(a *registry.Args) { a.SecretName = "" }),
		"Namespaces":   registryArgs(func(a *registry.Args) { a.Namespaces = nil }),
		"Namespace":    registryArgs(func(a *registry.Args) { a.Namespace = nil }),
		"DockerConfig": registryArgs(func(a *registry.Args) { a.DockerConfig = nil }),
	})

	storageArgs := func(edit func(*storage.Args)) func(ctx *pulumi.Context) error {
		a := storage.Args{Provider: provider, Cni: provider,
			Storage: config.Storage{LocalPath: "/var/mnt/local", NFSServer: "192.168.10.5", NFSPath: "/export"}}
		edit(&a)
		return func(ctx *pulumi.Context) error { _, err := storage.New(ctx, "x", &a); return err }
	}
	add("storage", map[string]func(ctx *pulumi.Context) error{
		"Provider":          storageArgs(func(a *storage.Args) { a.Provider = nil }),
		"Cni":               storageArgs(func(a *storage.Args) { a.Cni = nil }),
		"Storage.LocalPath": storageArgs(func(a *storage.Args) { a.Storage.LocalPath = "" }),
		"Storage.NFSServer": storageArgs(func(a *storage.Args) { a.Storage.NFSServer = "" }),
		"Storage.NFSPath":   storageArgs(func(a *storage.Args) { a.Storage.NFSPath = "" }),
		"Storage.Ceph":      storageArgs(func(a *storage.Args) { a.Storage.Ceph = true }),
	})

	talosArgs := func(edit func(*talos.Args)) func(ctx *pulumi.Context) error {
		a := talos.Args{
			Talos: config.Talos{WireguardNode: "cp-1", Nodes: []config.TalosNode{{Name: "cp-1", IP: netip.MustParseAddr("192.168.10.11"), Role: config.RoleControlPlane}}},
			WireGuard: talos.WireGuard{PrivateKey: pulumi.String("k"), Address: netip.MustParsePrefix("10.200.0.2/30"), Peer: talos.Peer{
				PublicKey: "pub", Endpoint: "203.0.113.1:51820", AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.100.0.0/16")},
				Gateway: netip.MustParseAddr("10.200.0.1")}}}
		edit(&a)
		return func(ctx *pulumi.Context) error { _, err := talos.New(ctx, "x", &a); return err }
	}
	add("talos", map[string]func(ctx *pulumi.Context) error{
		"Talos.Nodes":               talosArgs(func(a *talos.Args) { a.Talos.Nodes[0].Role = config.RoleWorker }),
		"Talos.WireguardNode":       talosArgs(func(a *talos.Args) { a.Talos.WireguardNode = "cp-9" }),
		"WireGuard.PrivateKey":      talosArgs(func(a *talos.Args) { a.WireGuard.PrivateKey = nil }),
		"WireGuard.Address":         talosArgs(func(a *talos.Args) { a.WireGuard.Address = netip.Prefix{} }),
		"WireGuard.Peer.Gateway":    talosArgs(func(a *talos.Args) { a.WireGuard.Peer.Gateway = netip.Addr{} }),
		"WireGuard.Peer.PublicKey":  talosArgs(func(a *talos.Args) { a.WireGuard.Peer.PublicKey = "" }),
		"WireGuard.Peer.Endpoint":   talosArgs(func(a *talos.Args) { a.WireGuard.Peer.Endpoint = "" }),
		"WireGuard.Peer.AllowedIPs": talosArgs(func(a *talos.Args) { a.WireGuard.Peer.AllowedIPs = nil }),
	})

	for _, tc := range cases {
		t.Run(tc.component+"/"+tc.field, func(t *testing.T) {
			cloud := mockcloud.New(config.Project, config.StackOnprem)
			err := pulumi.RunErr(tc.declare, pulumi.WithMocks(config.Project, config.StackOnprem, cloud))
			assertNamesOnly(t, err, tc.component, tc.field)
			assert.Empty(t, cloud.Resources(), "nothing is declared from bad args")
		})
	}
}

// Nil Args are refused by every component, with nothing declared.
func TestComponentsRejectNilArgs(t *testing.T) {
	for component, declare := range map[string]func(ctx *pulumi.Context) error{
		"backup":        func(ctx *pulumi.Context) error { _, err := backup.New(ctx, "x", nil); return err },
		"baseline":      func(ctx *pulumi.Context) error { _, err := baseline.New(ctx, "x", nil); return err },
		"data":          func(ctx *pulumi.Context) error { _, err := data.New(ctx, "x", nil); return err },
		"doks":          func(ctx *pulumi.Context) error { _, err := doks.New(ctx, "x", nil); return err },
		"failover":      func(ctx *pulumi.Context) error { _, err := failover.New(ctx, "x", nil); return err },
		"gitops":        func(ctx *pulumi.Context) error { _, err := gitops.New(ctx, "x", nil); return err },
		"ingress":       func(ctx *pulumi.Context) error { _, err := ingress.New(ctx, "x", nil); return err },
		"network":       func(ctx *pulumi.Context) error { _, err := network.New(ctx, "x", nil); return err },
		"observability": func(ctx *pulumi.Context) error { _, err := observability.New(ctx, "x", nil); return err },
		"platform":      func(ctx *pulumi.Context) error { _, err := platform.New(ctx, "x", nil); return err },
		"registry":      func(ctx *pulumi.Context) error { _, err := registry.New(ctx, "x", nil); return err },
		"storage":       func(ctx *pulumi.Context) error { _, err := storage.New(ctx, "x", nil); return err },
		"talos":         func(ctx *pulumi.Context) error { _, err := talos.New(ctx, "x", nil); return err },
	} {
		t.Run(component, func(t *testing.T) {
			cloud := mockcloud.New(config.Project, config.StackOnprem)
			err := pulumi.RunErr(declare, pulumi.WithMocks(config.Project, config.StackOnprem, cloud))
			require.Error(t, err)
			assert.Contains(t, err.Error(), component+": Args are required")
			assert.Empty(t, cloud.Resources())
		})
	}
}
