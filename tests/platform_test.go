package tests

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/components/platform"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/versions"
	"github.com/hybridcloud/platform/stacks"
)

// These tests run the platform component alone, with the arguments each
// stack's config decides (stacks.PlatformArgs) and test values for what the
// composition adds, under the mock cloud with each stack's real config file,
// through plan.RunFunc, for both cluster kinds.

const (
	chartType     = "kubernetes:helm.sh/v4:Chart"
	namespaceType = "kubernetes:core/v1:Namespace"
	secretType    = "kubernetes:core/v1:Secret"
	netpolType    = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	providerType  = "pulumi:providers:kubernetes"

	// Credentials handed in as plain strings: Platform must make them secret.
	testLokiAccess     = "DOLOKIACCESSKEY0000001"
	testLokiSecret     = "loki-secret-key-0000000000000000000000001"
	testVeleroAccess   = "DOVELEROACCESSKEY00001"
	testVeleroSecret   = "velero-secret-key-000000000000000000000001"
	testBackupsBucket  = "hybrid-platform-prod-backups"
	testLogsBucket     = "hybrid-platform-prod-logs"
	testAppBucket      = "hybrid-platform-prod-app"
	testFakeKubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "https://127.0.0.1:6443"}}]
contexts: [{name: test, context: {cluster: test, user: test}}]
current-context: test
users: [{name: test, user: {token: test}}]
`
)

// clusterCase is one stack with the cluster kind and storage class its owner
// will pass.
type clusterCase struct {
	stack, kind, storageClass string
}

var clusterCases = []clusterCase{
	{stack: config.StackProd, kind: config.ClusterDOKS, storageClass: "do-block-storage"},
	{stack: config.StackOnprem, kind: config.ClusterTalos, storageClass: "local-ssd"},
}

// platformInputs are the inputs a stack owner passes; tweak edits them.
func platformProgram(c clusterCase, tweak func(*platform.Args)) plan.Program {
	return func(ctx *pulumi.Context) (pulumi.Map, error) {
		cfg, err := config.Load(ctx)
		if err != nil {
			return nil, err
		}
		provider, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String(testFakeKubeconfig)})
		if err != nil {
			return nil, err
		}
		in := stacks.PlatformArgs(cfg)
		// The check prod's monitor runs (prodOutputs carries the same).
		in.Edge = platform.EdgeContract{UIs: map[string]string{"grafana": "grafana.example.com", "argocd": "argocd.example.com"},
			OriginCheck: config.OriginCheck{Host: "app.example.com", Path: "/healthz", ExpectedCodes: "200", TimeoutSeconds: 5, IntervalSeconds: 60, InsecureSkipVerify: true}}
		in.Provider = provider
		in.StorageClass = c.storageClass
		in.SpacesRegion = pulumi.String("nyc3")
		in.BackupsBucket = pulumi.String(testBackupsBucket)
		in.LogsBucket = pulumi.String(testLogsBucket)
		in.AppBucket = pulumi.String(testAppBucket)
		in.Loki = platform.SpacesCredentials{AccessKey: pulumi.String(testLokiAccess), SecretKey: pulumi.String(testLokiSecret)}
		in.Velero = platform.SpacesCredentials{AccessKey: pulumi.String(testVeleroAccess), SecretKey: pulumi.String(testVeleroSecret)}
		if tweak != nil {
			tweak(in)
		}
		out, err := platform.New(ctx, "platform", in)
		if err != nil {
			return nil, err
		}
		return out.Exports(), nil
	}
}

func runPlatform(t testing.TB, c clusterCase, opts plan.Options, tweak func(*platform.Args)) (*plan.Result, error) {
	t.Helper()
	opts.Stack = c.stack
	opts.ProjectDir = projectDir(t)
	return plan.RunFunc(opts, platformProgram(c, tweak))
}

func mustRunPlatform(t testing.TB, c clusterCase) *plan.Result {
	t.Helper()
	res, err := runPlatform(t, c, plan.Options{}, nil)
	require.NoError(t, err)
	return res
}

// loadConfig reads a stack's validated config the way the program does.
func loadConfig(t testing.TB, stack string) *config.Config {
	t.Helper()
	var cfg *config.Config
	_, err := plan.RunFunc(plan.Options{Stack: stack, ProjectDir: projectDir(t)}, func(ctx *pulumi.Context) (pulumi.Map, error) {
		var err error
		cfg, err = config.Load(ctx)
		return nil, err
	})
	require.NoError(t, err)
	return cfg
}

// plainInputs returns a resource's inputs as plain data (secrets as [secret]).
func plainInputs(r *mockcloud.Resource) map[string]any { return plan.Plain(r.Inputs) }

// digPath walks plain data by map keys and list indexes, separated by dots; a
// dot inside a key is written \. (kubernetes\.io/metadata\.name).
func digPath(t testing.TB, v any, path string) any {
	t.Helper()
	const dot = "\x00"
	for _, k := range strings.Split(strings.ReplaceAll(path, `\.`, dot), ".") {
		k = strings.ReplaceAll(k, dot, ".")
		switch cur := v.(type) {
		case map[string]any:
			next, ok := cur[k]
			require.True(t, ok, "no key %q on the way to %s", k, path)
			v = next
		case []any:
			i, err := strconv.Atoi(k)
			require.NoError(t, err, "index %q on the way to %s", k, path)
			require.Less(t, i, len(cur), "index %d on the way to %s", i, path)
			v = cur[i]
		default:
			t.Fatalf("cannot walk %q into %T on the way to %s", k, v, path)
		}
	}
	return v
}

func chartNamespaceURN(res *plan.Result, ns string) string {
	for _, r := range res.Cloud.ByType(namespaceType) {
		if name, _ := plainInputs(r)["metadata"].(map[string]any)["name"].(string); name == ns {
			return r.URN
		}
	}
	return ""
}

func TestPlatformChartsArePinnedInBothStacks(t *testing.T) {
	charts := []struct {
		release, namespace string
		chart              versions.Chart
	}{
		{"prometheus-operator-crds", "monitoring", versions.PrometheusOperatorCRDs},
		{"kps", "monitoring", versions.KubePrometheusStack},
		{"loki", "monitoring", versions.Loki},
		{"alloy", "monitoring", versions.GrafanaAlloy},
		{"blackbox-exporter", "monitoring", versions.BlackboxExporter},
		{"argocd", "argocd", versions.ArgoCD},
		{"velero", "velero", versions.Velero},
		{"traefik", "ingress", versions.Traefik},
		{"metrics-server", "kube-system", versions.MetricsServer},
	}
	for _, c := range clusterCases {
		t.Run(c.stack, func(t *testing.T) {
			res := mustRunPlatform(t, c)
			assert.Len(t, res.Cloud.ByType(chartType), len(charts), "one chart each, nothing more")
			for _, want := range charts {
				r := named(t, res, chartType, want.release)
				v := plainInputs(r)
				assert.Equal(t, want.chart.Name, v["chart"], want.release)
				assert.Equal(t, want.chart.Version, v["version"], "%s must be pinned to versions.go", want.release)
				assert.Regexp(t, `^\d+\.\d+\.\d+$`, v["version"], "%s: an exact version, never a range", want.release)
				assert.Equal(t, want.chart.Repo, digPath(t, v, "repositoryOpts.repo"), want.release)
				assert.Equal(t, want.namespace, v["namespace"], want.release)
			}
		})
	}
}

func TestPlatformChartValuesThatMatter(t *testing.T) {
	for _, c := range clusterCases {
		t.Run(c.stack, func(t *testing.T) {
			cfg := loadConfig(t, c.stack)
			mon := cfg.Platform.Monitoring
			res := mustRunPlatform(t, c)
			values := func(release string) map[string]any {
				return plainInputs(named(t, res, chartType, release))["values"].(map[string]any)
			}

			kps := values("kps")
			for path, want := range map[string]any{
				"prometheus.prometheusSpec.retention":                                                       mon.PrometheusRetention,
				"prometheus.prometheusSpec.retentionSize":                                                   mon.PrometheusRetentionSize,
				"prometheus.prometheusSpec.externalLabels.cluster":                                          c.stack,
				"prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage": mon.PrometheusStorage,
				"prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName":           c.storageClass,
				"alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.resources.requests.storage": mon.AlertmanagerStorage,
				"alertmanager.config.receivers.1.email_configs.0.to":                                        cfg.AlertEmail,
				"grafana.persistence.size":                                                                  mon.GrafanaStorage,
				"grafana.persistence.storageClassName":                                                      c.storageClass,
				"grafana.admin.existingSecret":                                                              "grafana-admin",
				"grafana.additionalDataSources.0.url":                                                       "http://loki.monitoring.svc:3100",
				"prometheusOperator.admissionWebhooks.enabled":                                              false,
				"nodeExporter.enabled":                                                                      true,
				"kubeStateMetrics.enabled":                                                                  true,
				"kubeEtcd.enabled":                                                                          c.kind == config.ClusterTalos,
				"kubeScheduler.enabled":                                                                     c.kind == config.ClusterTalos,
				"kubeControllerManager.enabled":                                                             c.kind == config.ClusterTalos,
				"defaultRules.rules.etcd":                                                                   c.kind == config.ClusterTalos,
				"kubeProxy.enabled":                                                                         false,
			} {
				assert.Equal(t, want, digPath(t, kps, path), "kube-prometheus-stack %s", path)
			}
			if c.kind == config.ClusterTalos {
				var cps []any
				for _, ip := range cfg.Talos.ControlPlaneIPs() {
					cps = append(cps, ip.String())
				}
				assert.Equal(t, cps, digPath(t, kps, "kubeEtcd.endpoints"), "etcd is scraped on every control-plane node")
			}

			loki := values("loki")
			for path, want := range map[string]any{
				"deploymentMode":                             "SingleBinary",
				"loki.storage.bucketNames.chunks":            testLogsBucket,
				"loki.storage.object_store.storage_prefix":   c.stack,
				"loki.storage.object_store.s3.endpoint":      "nyc3.digitaloceanspaces.com",
				"loki.storage.object_store.s3.region":        "nyc3",
				"loki.storage.object_store.s3.access_key_id": "${LOKI_S3_ACCESS_KEY_ID}",
				"loki.limits_config.retention_period":        mon.LokiRetention,
				"loki.compactor.retention_enabled":           true,
				"singleBinary.persistence.size":              mon.LokiStorage,
				"singleBinary.persistence.storageClass":      c.storageClass,
				"singleBinary.extraEnvFrom.0.secretRef.name": "loki-object-store",
				"loki.schemaConfig.configs.0.object_store":   "s3",
			} {
				assert.Equal(t, want, digPath(t, loki, path), "loki %s", path)
			}
			assert.Contains(t, digPath(t, values("alloy"), "alloy.configMap.content"), fmt.Sprintf("cluster = %q", c.stack), "alloy labels logs with the cluster")

			velero := values("velero")
			bsl := digPath(t, velero, "configuration.backupStorageLocation.0").(map[string]any)
			for path, want := range map[string]any{
				"bucket":                   testBackupsBucket,
				"prefix":                   c.stack,
				"default":                  true,
				"provider":                 "aws",
				"config.s3Url":             "https://nyc3.digitaloceanspaces.com",
				"config.region":            "nyc3",
				"config.s3ForcePathStyle":  "true",
				"config.checksumAlgorithm": "",
			} {
				assert.Equal(t, want, digPath(t, bsl, path), "velero backup location %s", path)
			}
			assert.Equal(t, "ReadOnly", digPath(t, velero, "configuration.backupStorageLocation.1.accessMode"), "the peer cluster's backups are read-only")
			assert.Regexp(t, `^velero/velero-plugin-for-aws:v\d+\.\d+\.\d+$`, digPath(t, velero, "initContainers.0.image"), "the S3 plugin, at an exact version")
			assert.Equal(t, c.kind == config.ClusterTalos, digPath(t, velero, "deployNodeAgent"), "node agent only where volumes cannot be snapshotted")
			assert.Equal(t, false, digPath(t, velero, "upgradeCRDs"), "no hook Job: helm/v4 manages the CRDs")
			for _, s := range cfg.Platform.Backup.Schedules {
				assert.Equal(t, s.Cron, digPath(t, velero, "schedules."+s.Name+".schedule"))
				assert.Equal(t, s.TTL, digPath(t, velero, "schedules."+s.Name+".template.ttl"), "retention comes from config")
			}
			if c.kind == config.ClusterDOKS {
				assert.Equal(t, "EnableCSI", digPath(t, velero, "configuration.features"))
				vsc := plainInputs(named(t, res, "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass", "velero-do-block-storage"))
				assert.Equal(t, "dobs.csi.digitalocean.com", vsc["driver"])
				assert.Equal(t, "true", digPath(t, vsc, "metadata.labels.velero\\.io/csi-volumesnapshot-class"))
			} else {
				assert.Equal(t, true, digPath(t, velero, "configuration.defaultVolumesToFsBackup"))
				assert.Nil(t, res.Cloud.Get("kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass", "velero-do-block-storage"))
			}

			traefik := values("traefik")
			assert.Equal(t, "origin-tls", digPath(t, traefik, "tlsStore.default.defaultCertificate.secretName"))
			assert.Equal(t, float64(cfg.Platform.Ingress.Replicas), digPath(t, traefik, "deployment.replicas"))
			assert.Equal(t, false, digPath(t, traefik, "service.enabled"), "the LoadBalancer Service is the component's own")
		})
	}
}

func TestRootApplicationSyncsFromConfiguredRepo(t *testing.T) {
	for _, c := range clusterCases {
		t.Run(c.stack, func(t *testing.T) {
			g := loadConfig(t, c.stack).Platform.GitOps
			res := mustRunPlatform(t, c)
			app := plainInputs(named(t, res, "kubernetes:argoproj.io/v1alpha1:Application", "root-application"))
			for path, want := range map[string]any{
				"metadata.namespace":                 "argocd",
				"spec.source.repoURL":                g.RepoURL,
				"spec.source.path":                   g.Path,
				"spec.source.targetRevision":         g.Revision,
				"spec.revisionHistoryLimit":          float64(g.RevisionHistoryLimit),
				"spec.syncPolicy.automated.prune":    true,
				"spec.syncPolicy.automated.selfHeal": true,
				"spec.destination.server":            "https://kubernetes.default.svc",
			} {
				assert.Equal(t, want, digPath(t, app, path), "root application %s", path)
			}
			assert.NotContains(t, digPath(t, app, "metadata"), "finalizers", "deleting the root app must not cascade")
		})
	}
}

// allPlain renders every recorded input, secrets redacted, as JSON text.
func allPlain(t testing.TB, res *plan.Result) string {
	t.Helper()
	var b strings.Builder
	for _, r := range res.Cloud.Resources() {
		if r.Type == providerType {
			continue
		}
		j, err := json.Marshal(plainInputs(r))
		require.NoError(t, err)
		b.Write(j)
	}
	return b.String()
}

func TestPlatformSecretsAreSecret(t *testing.T) {
	for _, c := range clusterCases {
		t.Run(c.stack, func(t *testing.T) {
			res := mustRunPlatform(t, c)
			for _, s := range []struct{ name, key string }{
				{"grafana-admin", "admin-password"},
				{"loki-object-store", "LOKI_S3_SECRET_ACCESS_KEY"},
				{"loki-object-store", "LOKI_S3_ACCESS_KEY_ID"},
				{"velero-spaces", "cloud"},
				{"origin-tls", "tls.key"},
				{"origin-tls", "tls.crt"},
			} {
				r := named(t, res, secretType, s.name)
				data, ok := r.Inputs["stringData"]
				require.True(t, ok, "%s has no stringData", s.name)
				assert.True(t, data.IsSecret() || data.ContainsSecrets(), "%s.%s must be a Pulumi secret", s.name, s.key)
			}
			assert.Equal(t, "kubernetes.io/tls", plainInputs(named(t, res, secretType, "origin-tls"))["type"])
			// No credential or secret config value leaks into any plain input.
			text := allPlain(t, res)
			leaks := []string{testLokiAccess, testLokiSecret, testVeleroAccess, testVeleroSecret}
			for _, spec := range config.SecretSpecsFor(res.Config.Kind) {
				leaks = append(leaks, spec.StandIn())
			}
			for _, l := range leaks {
				assert.NotContains(t, text, l)
			}
		})
	}
}

func TestDefaultDenyInEveryWorkloadNamespace(t *testing.T) {
	for _, c := range clusterCases {
		t.Run(c.stack, func(t *testing.T) {
			cfg := loadConfig(t, c.stack)
			require.NotEmpty(t, cfg.Platform.Apps)
			res := mustRunPlatform(t, c)
			// Every namespace labelled as an app tier has a default deny.
			var appNamespaces []string
			for _, r := range res.Cloud.ByType(namespaceType) {
				if digPath(t, plainInputs(r), "metadata.labels.hybrid-platform/tier") == "app" {
					appNamespaces = append(appNamespaces, digPath(t, plainInputs(r), "metadata.name").(string))
				}
			}
			var want []string
			for _, a := range cfg.Platform.Apps {
				want = append(want, a.Name)
			}
			assert.ElementsMatch(t, want, appNamespaces)
			for _, ns := range appNamespaces {
				deny := plainInputs(named(t, res, netpolType, ns+"-default-deny"))
				assert.Equal(t, ns, digPath(t, deny, "metadata.namespace"))
				assert.Equal(t, map[string]any{}, digPath(t, deny, "spec.podSelector"), "selects every pod")
				assert.ElementsMatch(t, []any{"Ingress", "Egress"}, digPath(t, deny, "spec.policyTypes"))
				assert.NotContains(t, deny["spec"], "ingress")
				assert.NotContains(t, deny["spec"], "egress")

				dns := plainInputs(named(t, res, netpolType, ns+"-allow-dns"))
				assert.Equal(t, "kube-system", digPath(t, dns, "spec.egress.0.to.0.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name"))
				assert.Equal(t, "kube-dns", digPath(t, dns, "spec.egress.0.to.0.podSelector.matchLabels.k8s-app"))
				assert.ElementsMatch(t, []any{"UDP", "TCP"}, []any{digPath(t, dns, "spec.egress.0.ports.0.protocol"), digPath(t, dns, "spec.egress.0.ports.1.protocol")})

				ing := plainInputs(named(t, res, netpolType, ns+"-allow-from-ingress"))
				assert.Equal(t, "ingress", digPath(t, ing, "spec.ingress.0.from.0.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name"))
				assert.Equal(t, "traefik", digPath(t, ing, "spec.ingress.0.from.0.podSelector.matchLabels.app\\.kubernetes\\.io/name"))

				prom := plainInputs(named(t, res, netpolType, ns+"-allow-prometheus-scrape"))
				assert.Equal(t, "monitoring", digPath(t, prom, "spec.ingress.0.from.0.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name"))
				assert.Equal(t, "prometheus", digPath(t, prom, "spec.ingress.0.from.0.podSelector.matchLabels.app\\.kubernetes\\.io/name"))
			}
			egress := plainInputs(named(t, res, netpolType, cfg.Platform.Apps[0].Name+"-allow-egress"))
			assert.Equal(t, cfg.Platform.Apps[0].Egress[0].CIDR.String(), digPath(t, egress, "spec.egress.0.to.0.ipBlock.cidr"))
		})
	}
}

func TestQuotasAndLimitsPerAppNamespace(t *testing.T) {
	for _, c := range clusterCases {
		t.Run(c.stack, func(t *testing.T) {
			cfg := loadConfig(t, c.stack)
			res := mustRunPlatform(t, c)
			for _, a := range cfg.Platform.Apps {
				q := plainInputs(named(t, res, "kubernetes:core/v1:ResourceQuota", a.Name+"-quota"))
				assert.Equal(t, a.Name, digPath(t, q, "metadata.namespace"))
				assert.Equal(t, map[string]any{
					"requests.cpu": a.Quota.RequestsCPU, "requests.memory": a.Quota.RequestsMemory,
					"limits.cpu": a.Quota.LimitsCPU, "limits.memory": a.Quota.LimitsMemory,
					"requests.storage":       a.Quota.RequestsStorage,
					"pods":                   strconv.Itoa(a.Quota.Pods),
					"persistentvolumeclaims": strconv.Itoa(a.Quota.PersistentVolumeClaims),
				}, digPath(t, q, "spec.hard"))
				l := plainInputs(named(t, res, "kubernetes:core/v1:LimitRange", a.Name+"-limits"))
				assert.Equal(t, a.Limits.DefaultRequestCPU, digPath(t, l, "spec.limits.0.defaultRequest.cpu"))
				assert.Equal(t, a.Limits.DefaultMemory, digPath(t, l, "spec.limits.0.default.memory"))
				assert.Equal(t, a.Limits.MaxMemory, digPath(t, l, "spec.limits.0.max.memory"))
			}
		})
	}
}

func TestNamespacesCarryPodSecurityLevels(t *testing.T) {
	for _, c := range clusterCases {
		t.Run(c.stack, func(t *testing.T) {
			res := mustRunPlatform(t, c)
			want := map[string]string{
				"monitoring": "privileged", "argocd": "baseline", "ingress": "restricted",
				"velero": map[string]string{config.ClusterDOKS: "baseline", config.ClusterTalos: "privileged"}[c.kind],
			}
			for _, a := range loadConfig(t, c.stack).Platform.Apps {
				want[a.Name] = a.PodSecurity
			}
			for ns, level := range want {
				r := named(t, res, namespaceType, "ns-"+ns)
				assert.Equal(t, level, digPath(t, plainInputs(r), "metadata.labels.pod-security\\.kubernetes\\.io/enforce"), ns)
				if level != "restricted" {
					assert.NotEmpty(t, digPath(t, plainInputs(r), "metadata.annotations.hybrid-platform/pod-security-reason"), "%s must say why it is %s", ns, level)
				}
			}
		})
	}
}

func TestRBACSubjectsComeFromConfig(t *testing.T) {
	for _, c := range clusterCases {
		t.Run(c.stack, func(t *testing.T) {
			r := loadConfig(t, c.stack).Platform.RBAC
			res := mustRunPlatform(t, c)
			subjects := func(s config.Subjects) []any {
				var out []any
				for _, g := range s.Groups {
					out = append(out, map[string]any{"kind": "Group", "name": g, "apiGroup": "rbac.authorization.k8s.io"})
				}
				for _, u := range s.Users {
					out = append(out, map[string]any{"kind": "User", "name": u, "apiGroup": "rbac.authorization.k8s.io"})
				}
				return out
			}
			admins := plainInputs(named(t, res, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "platform-admins"))
			assert.Equal(t, "cluster-admin", digPath(t, admins, "roleRef.name"))
			assert.ElementsMatch(t, subjects(r.PlatformAdmins), admins["subjects"])
			devs := plainInputs(named(t, res, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "platform-developers"))
			assert.Equal(t, "platform-developer-readonly", digPath(t, devs, "roleRef.name"))
			assert.ElementsMatch(t, subjects(r.Developers), devs["subjects"])

			role := plainInputs(named(t, res, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "platform-developer-readonly"))
			for _, rule := range role["rules"].([]any) {
				assert.ElementsMatch(t, []any{"get", "list", "watch"}, digPath(t, rule, "verbs"), "read-only")
				if slices.Contains(digPath(t, rule, "apiGroups").([]any), any("")) {
					assert.NotContains(t, digPath(t, rule, "resources"), "secrets", "developers never read Secrets")
				}
			}
		})
	}
}

func TestPlatformOrdering(t *testing.T) {
	for _, c := range clusterCases {
		t.Run(c.stack, func(t *testing.T) {
			res := mustRunPlatform(t, c)
			provider := named(t, res, providerType, "k8s").URN
			for _, r := range res.Cloud.Resources() {
				if strings.HasPrefix(r.Type, "kubernetes:") {
					assert.Equal(t, provider, r.Provider, "%s %s must use the cluster's provider", r.Type, r.Name)
				}
			}
			for _, r := range res.Cloud.ByType(chartType) {
				ns := plainInputs(r)["namespace"].(string)
				if ns == "kube-system" {
					continue // metrics-server: the namespace always exists
				}
				nsURN := chartNamespaceURN(res, ns)
				require.NotEmpty(t, nsURN, "chart %s is in undeclared namespace %s", r.Name, ns)
				assert.Contains(t, r.DependsOn, nsURN, "chart %s must wait for namespace %s", r.Name, ns)
			}
			// The monitoring CRDs come first, from their own release; what
			// creates monitoring.coreos.com objects waits for that release and
			// not for the whole kube-prometheus-stack rollout.
			crds := named(t, res, chartType, "prometheus-operator-crds").URN
			kps := named(t, res, chartType, "kps")
			assert.Contains(t, kps.DependsOn, crds, "kube-prometheus-stack renders Prometheus, Alertmanager and rules: it needs the CRDs")
			for _, typ := range []string{"kubernetes:monitoring.coreos.com/v1:PrometheusRule", "kubernetes:monitoring.coreos.com/v1:Probe"} {
				for _, r := range res.Cloud.ByType(typ) {
					assert.Contains(t, r.DependsOn, crds, "%s %s needs the CRDs", typ, r.Name)
					assert.NotContains(t, r.DependsOn, kps.URN, "%s %s needs only the CRDs", typ, r.Name)
				}
			}
			argo := named(t, res, chartType, "argocd").URN
			assert.Contains(t, named(t, res, "kubernetes:argoproj.io/v1alpha1:Application", "root-application").DependsOn, argo)
			for _, release := range []string{"argocd", "velero", "traefik"} {
				deps := named(t, res, chartType, release).DependsOn
				assert.Contains(t, deps, crds, "%s creates ServiceMonitors: it waits for the CRDs", release)
				assert.NotContains(t, deps, kps.URN, "%s waits for the CRDs only, not for kube-prometheus-stack's rollout", release)
			}
			assert.Contains(t, named(t, res, chartType, "argocd").DependsOn, named(t, res, secretType, "argocd-redis").URN,
				"Argo CD's pods read argocd-redis: it exists before the chart")
			assert.Contains(t, named(t, res, chartType, "traefik").DependsOn, named(t, res, secretType, "origin-tls").URN)
		})
	}
}

func TestIngressPublishesTheFailoverOrigin(t *testing.T) {
	for _, c := range clusterCases {
		t.Run(c.stack, func(t *testing.T) {
			cfg := loadConfig(t, c.stack)
			res := mustRunPlatform(t, c)
			addr := res.Outputs["ingressAddress"]
			require.True(t, addr.Known)
			lb := digPath(t, res.Outputs["platform"].Value, "ingressLoadBalancerIp")
			svc := plainInputs(named(t, res, "kubernetes:core/v1:Service", "traefik-lb"))
			assert.Equal(t, "LoadBalancer", digPath(t, svc, "spec.type"))
			assert.Equal(t, float64(443), digPath(t, svc, "spec.ports.0.port"))
			assert.Len(t, digPath(t, svc, "spec.ports"), 1, "HTTPS only")
			pool := res.Cloud.Get("kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool", "ingress-pool")
			policy := res.Cloud.Get("kubernetes:cilium.io/v2alpha1:CiliumL2AnnouncementPolicy", "ingress-l2")
			switch c.kind {
			case config.ClusterDOKS:
				assert.Equal(t, lb, addr.Value, "on DOKS the DO load balancer's address is the origin")
				assert.Regexp(t, `^198\.51\.100\.\d+$`, addr.Value)
				assert.Equal(t, "tcp", digPath(t, svc, "metadata.annotations.service\\.beta\\.kubernetes\\.io/do-loadbalancer-protocol"))
				assert.Equal(t, kubeStrings(config.Strings(cfg.Platform.Ingress.CloudflareCidrs)), digPath(t, svc, "spec.loadBalancerSourceRanges"), "only Cloudflare reaches the origin")
				assert.Nil(t, pool)
				assert.Nil(t, policy)
			case config.ClusterTalos:
				assert.Equal(t, cfg.Network.OnpremPublicIP.String(), addr.Value, "Cloudflare reaches on-prem through the router's public address")
				assert.Equal(t, cfg.Platform.Ingress.LoadBalancerIP.String(), lb)
				assert.Equal(t, cfg.Platform.Ingress.LoadBalancerIP.String(), digPath(t, svc, "metadata.annotations.lbipam\\.cilium\\.io/ips"))
				require.NotNil(t, pool)
				require.NotNil(t, policy)
				assert.Equal(t, cfg.Platform.Ingress.LoadBalancerIP.String()+"/32", digPath(t, plainInputs(pool), "spec.blocks.0.cidr"))
				assert.Equal(t, []any{"^eno1$"}, digPath(t, plainInputs(policy), "spec.interfaces"))
				assert.Equal(t, true, digPath(t, plainInputs(policy), "spec.loadBalancerIPs"))
			}
		})
	}
}

func TestAlertRulesAndProbes(t *testing.T) {
	for _, c := range clusterCases {
		t.Run(c.stack, func(t *testing.T) {
			cfg := loadConfig(t, c.stack)
			res := mustRunPlatform(t, c)
			rule := plainInputs(named(t, res, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "platform-alerts"))
			alerts := map[string]map[string]any{}
			for _, g := range digPath(t, rule, "spec.groups").([]any) {
				for _, r := range digPath(t, g, "rules").([]any) {
					alerts[digPath(t, r, "alert").(string)] = r.(map[string]any)
				}
			}
			for _, name := range []string{"NodeNotReady", "NodeExporterDown", "PersistentVolumeFillingUp", "PersistentVolumeFullIn24h",
				"VeleroBackupFailed", "VeleroBackupStale", "OriginCertificateExpiring", "IngressCertificateExpiring",
				"WireGuardTunnelDown", "FailoverOriginUnhealthy", "PlatformProbesMissing"} {
				a, ok := alerts[name]
				if assert.True(t, ok, "alert %s is missing", name) {
					assert.Contains(t, []any{"warning", "critical"}, digPath(t, a, "labels.severity"), name)
					assert.NotEmpty(t, digPath(t, a, "annotations.summary"), name)
				}
			}
			assert.Contains(t, alerts["VeleroBackupStale"]["expr"], "> 86400", "stale after the 24 h RPO")
			assert.Contains(t, alerts["WireGuardTunnelDown"]["expr"], `job="wireguard-tunnel"`)

			var tunnelTargets []any
			for _, r := range res.Cloud.ByType("kubernetes:monitoring.coreos.com/v1:Probe") {
				p := plainInputs(r)
				if digPath(t, p, "spec.jobName") == "wireguard-tunnel" {
					tunnelTargets = append(tunnelTargets, digPath(t, p, "spec.targets.staticConfig.static").([]any)...)
					assert.Contains(t, []any{"icmp", "tcp_connect"}, digPath(t, p, "spec.module"))
				}
			}
			assert.ElementsMatch(t, kubeStrings(cfg.Platform.Probes.Tunnel), tunnelTargets)
			origin := plainInputs(named(t, res, "kubernetes:monitoring.coreos.com/v1:Probe", "failover-origin"))
			assert.Equal(t, kubeStrings(cfg.Platform.Probes.Origins), digPath(t, origin, "spec.targets.staticConfig.static"))
			assert.Equal(t, "blackbox-exporter.monitoring.svc:9115", digPath(t, origin, "spec.prober.url"))
		})
	}
}

// otherOriginKey is a well-formed private key that does not belong to the
// origin certificate stand-in.
var otherOriginKey = func() string {
	seed := sha256.Sum256([]byte("tests: another origin key"))
	der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}()

func kubeStrings(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Each missing or invalid argument fails the platform with an error that
// names that one field, before anything but the test's provider exists.
func TestPlatformArgsAreCheckedBeforeAnyResource(t *testing.T) {
	doks, talos := clusterCases[0], clusterCases[1]
	for _, tc := range []struct {
		field string
		c     clusterCase
		tweak func(*platform.Args)
	}{
		{"Kind", doks, func(a *platform.Args) { a.Kind = "eks" }},
		{"ClusterName", doks, func(a *platform.Args) { a.ClusterName = "" }},
		{"PeerClusterName", doks, func(a *platform.Args) { a.PeerClusterName = a.ClusterName }},
		{"Provider", doks, func(a *platform.Args) { a.Provider = nil }},
		{"StorageClass", doks, func(a *platform.Args) { a.StorageClass = "" }},
		{"SpacesRegion", doks, func(a *platform.Args) { a.SpacesRegion = nil }},
		{"BackupsBucket", doks, func(a *platform.Args) { a.BackupsBucket = nil }},
		{"LogsBucket", doks, func(a *platform.Args) { a.LogsBucket = nil }},
		{"Loki.AccessKey", doks, func(a *platform.Args) { a.Loki.AccessKey = nil }},
		{"Loki.SecretKey", doks, func(a *platform.Args) { a.Loki.SecretKey = nil }},
		{"Velero.AccessKey", doks, func(a *platform.Args) { a.Velero.AccessKey = nil }},
		{"Velero.SecretKey", doks, func(a *platform.Args) { a.Velero.SecretKey = nil }},
		{"GrafanaAdminPassword", doks, func(a *platform.Args) { a.GrafanaAdminPassword = nil }},
		{"OriginCertificate", doks, func(a *platform.Args) { a.OriginCertificate = nil }},
		{"OriginKey", doks, func(a *platform.Args) { a.OriginKey = nil }},
		{"ArgoCDRedisPassword", doks, func(a *platform.Args) { a.ArgoCDRedisPassword = nil }},
		{"Edge.OriginCheck", doks, func(a *platform.Args) { a.Edge.OriginCheck.Path = "healthz" }},
		{"Edge.UIs", doks, func(a *platform.Args) { a.Edge.UIs["prometheus"] = "prometheus.example.com" }},
		{"ControlPlaneIPs", talos, func(a *platform.Args) { a.ControlPlaneIPs = nil }},
		{"PublicAddress", talos, func(a *platform.Args) { a.PublicAddress = "" }},
		{"L2Interfaces", talos, func(a *platform.Args) { a.L2Interfaces = nil }},
	} {
		t.Run(tc.c.stack+"/"+tc.field, func(t *testing.T) {
			res, err := runPlatform(t, tc.c, plan.Options{}, tc.tweak)
			require.Error(t, err)
			assertNamesOnly(t, err, "platform", tc.field)
			for _, r := range res.Cloud.Resources() {
				assert.Equal(t, providerType, r.Type, "only the test's provider may exist, found %s %s", r.Type, r.Name)
			}
		})
	}
}

func TestBadPlatformConfigFailsBeforeAnyPlatformResource(t *testing.T) {
	for _, tc := range badConfigs {
		if tc.key != "platform" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			c := clusterCases[slices.IndexFunc(clusterCases, func(c clusterCase) bool { return c.stack == tc.stack })]
			obj := stackObject(t, tc.stack, "platform")
			tc.mutate(obj)
			res, err := runPlatform(t, c, plan.Options{Set: map[string]string{"platform": toJSON(t, obj)}}, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantKey)
			assert.Empty(t, res.Cloud.Resources(), "config is validated before the provider or any platform resource")
		})
	}
}

func TestPlatformIsDeterministic(t *testing.T) {
	for _, c := range clusterCases {
		docs := make([]string, 2)
		for i := range docs {
			res := mustRunPlatform(t, c)
			b, err := json.Marshal(res.Doc())
			require.NoError(t, err)
			docs[i] = string(b)
		}
		assert.Equal(t, docs[0], docs[1], "two runs of %s's platform layer differ", c.stack)
	}
}

// platform.chartRepository moves every chart of a stack, the Talos CNI and
// storage provisioners included, to the one repository, under the same
// names and pinned versions; empty leaves each on its upstream repository.
func TestChartRepositoryServesEveryChart(t *testing.T) {
	const mirror = "https://charts.example.internal/platform"
	for _, stack := range config.Stacks {
		t.Run(stack, func(t *testing.T) {
			upstream := mustRun(t, plan.Options{Stack: stack}).Cloud.ByType(chartType)
			require.NotEmpty(t, upstream)
			platform := stackObject(t, stack, "platform")
			platform["chartRepository"] = mirror
			mirrored := mustRun(t, plan.Options{Stack: stack, Set: map[string]string{"platform": toJSON(t, platform)}}).Cloud.ByType(chartType)
			require.Len(t, mirrored, len(upstream), "the same releases")
			for i, r := range mirrored {
				up, in := plainInputs(upstream[i]), plainInputs(r)
				assert.Equal(t, mirror, digPath(t, in, "repositoryOpts.repo"), "%s comes from the mirror", r.Name)
				assert.NotEqual(t, mirror, digPath(t, up, "repositoryOpts.repo"), "%s comes from upstream by default", r.Name)
				assert.Equal(t, up["chart"], in["chart"], r.Name)
				assert.Equal(t, up["version"], in["version"], r.Name)
			}
		})
	}
}
