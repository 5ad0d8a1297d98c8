package charts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/chartcheck"
	"github.com/hybridcloud/platform/internal/clusterapi"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/versions"
)

// mutation breaks a copy of a stack's recorded resources.
type mutation func(t *testing.T, rs []*mockcloud.Resource) []*mockcloud.Resource

// setValue sets a values path of the Chart with the given release name.
func setValue(release string, path []string, v any) mutation {
	return func(t *testing.T, rs []*mockcloud.Resource) []*mockcloud.Resource {
		r := find(t, rs, func(r *mockcloud.Resource) bool {
			return r.Type == chartcheck.ChartType && r.Name == release
		})
		r.Inputs = setPath(t, r.Inputs, append([]string{"values"}, path...), resource.NewPropertyValue(v))
		return rs
	}
}

// setInput sets an input path of the program's object of a type and name.
func setInput(typ, name string, path []string, v any) mutation {
	return func(t *testing.T, rs []*mockcloud.Resource) []*mockcloud.Resource {
		r := find(t, rs, func(r *mockcloud.Resource) bool { return r.Type == typ && r.Name == name })
		r.Inputs = setPath(t, r.Inputs, path, resource.NewPropertyValue(v))
		return rs
	}
}

// retype changes the type token and apiVersion of a program object.
func retype(typ, name, newType, apiVersion string) mutation {
	return func(t *testing.T, rs []*mockcloud.Resource) []*mockcloud.Resource {
		r := find(t, rs, func(r *mockcloud.Resource) bool { return r.Type == typ && r.Name == name })
		r.Type = newType
		r.Inputs = setPath(t, r.Inputs, []string{"apiVersion"}, resource.NewPropertyValue(apiVersion))
		return rs
	}
}

// drop removes the program's resource of a type and name.
func drop(typ, name string) mutation {
	return func(t *testing.T, rs []*mockcloud.Resource) []*mockcloud.Resource {
		find(t, rs, func(r *mockcloud.Resource) bool { return r.Type == typ && r.Name == name })
		return slices.DeleteFunc(rs, func(r *mockcloud.Resource) bool { return r.Type == typ && r.Name == name })
	}
}

// forgetDependency removes every recorded dependency on the Chart with the
// given release name, as if nothing waited for it.
func forgetDependency(release string) mutation {
	return func(t *testing.T, rs []*mockcloud.Resource) []*mockcloud.Resource {
		target := find(t, rs, func(r *mockcloud.Resource) bool {
			return r.Type == chartcheck.ChartType && r.Name == release
		}).URN
		for _, r := range rs {
			r.DependsOn = slices.DeleteFunc(r.DependsOn, func(u string) bool { return u == target })
		}
		return rs
	}
}

func both(ms ...mutation) mutation {
	return func(t *testing.T, rs []*mockcloud.Resource) []*mockcloud.Resource {
		for _, m := range ms {
			rs = m(t, rs)
		}
		return rs
	}
}

func find(t *testing.T, rs []*mockcloud.Resource, pred func(*mockcloud.Resource) bool) *mockcloud.Resource {
	t.Helper()
	for _, r := range rs {
		if pred(r) {
			return r
		}
	}
	require.FailNow(t, "no such resource in the stack")
	return nil
}

// setPath returns a copy of m with path set to v, creating objects on the
// way and unwrapping secrets and outputs.
func setPath(t *testing.T, m resource.PropertyMap, path []string, v resource.PropertyValue) resource.PropertyMap {
	t.Helper()
	out := m.Copy()
	key := resource.PropertyKey(path[0])
	if len(path) == 1 {
		out[key] = v
		return out
	}
	child := out[key]
	for child.IsSecret() || child.IsOutput() {
		if child.IsSecret() {
			child = child.SecretValue().Element
		} else {
			child = child.OutputValue().Element
		}
	}
	inner := resource.PropertyMap{}
	if child.IsObject() {
		inner = child.ObjectValue()
	}
	out[key] = resource.NewObjectProperty(setPath(t, inner, path[1:], v))
	return out
}

// copyResources deep-copies the recorded resources, so that a mutation
// leaves the shared plan alone.
func copyResources(rs []*mockcloud.Resource) []*mockcloud.Resource {
	out := make([]*mockcloud.Resource, len(rs))
	for i, r := range rs {
		c := *r
		c.Inputs = r.Inputs.Copy()
		c.DependsOn = slices.Clone(r.DependsOn)
		out[i] = &c
	}
	return out
}

// TestChecksBite breaks the stacks the way the defects this test was written
// for did (and a few more), and requires each break to be found, with its
// rule and where.
func TestChecksBite(t *testing.T) {
	const probe = "kubernetes:monitoring.coreos.com/v1:Probe"
	const snapshotClass = "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass"
	cases := []struct {
		name   string
		stack  string
		mutate mutation
		rule   string
		where  string // a substring of the finding's path or detail
	}{
		{name: "traefik's pre-v39 TLS key fails the chart's schema", stack: "prod",
			mutate: setValue("traefik", []string{"ports", "websecure", "tls"}, map[string]any{"enabled": true}),
			rule:   chartcheck.RuleRender, where: "tls"},
		{name: "blackbox allowIcmp, gone since chart 7.0.0", stack: "prod",
			mutate: setValue("blackbox-exporter", []string{"allowIcmp"}, true),
			rule:   chartcheck.RuleUnknownKey, where: "allowIcmp"},
		{name: "cilium externalIPs, absent from 1.18", stack: "onprem",
			mutate: setValue("cilium", []string{"externalIPs", "enabled"}, true),
			rule:   chartcheck.RuleUnknownKey, where: "externalIPs.enabled"},
		{name: "a misspelt kube-prometheus-stack key", stack: "prod",
			mutate: setValue("kps", []string{"prometheus", "prometheusSpec", "retentionSise"}, "45GB"),
			rule:   chartcheck.RuleUnknownKey, where: "prometheus.prometheusSpec.retentionSise"},
		{name: "a misspelt key below a subchart (grafana)", stack: "onprem",
			mutate: setValue("kps", []string{"grafana", "persistentVolume", "enabled"}, true),
			rule:   chartcheck.RuleUnknownKey, where: "grafana.persistentVolume.enabled"},
		{name: "argocd-redis left to the redis-secret-init hook", stack: "prod",
			mutate: both(drop("kubernetes:core/v1:Secret", "argocd-redis"), setValue("argocd", []string{"redisSecretInit", "enabled"}, true)),
			rule:   chartcheck.RuleHookOnly, where: "argocd-redis"},
		{name: "the Grafana admin Secret nobody creates", stack: "onprem",
			mutate: drop("kubernetes:core/v1:Secret", "grafana-admin"),
			rule:   chartcheck.RuleMissingRef, where: "grafana-admin"},
		{name: "a Probe field its CRD does not have", stack: "prod",
			mutate: setInput(probe, "failover-origin", []string{"spec", "scrapeIntervall"}, "30s"),
			rule:   chartcheck.RuleCRDSchema, where: "scrapeIntervall"},
		{name: "a Probe field of the wrong type", stack: "onprem",
			mutate: setInput(probe, "failover-origin", []string{"spec", "module"}, 5),
			rule:   chartcheck.RuleCRDSchema, where: "spec.module"},
		{name: "a ServiceMonitor that does not wait for the CRDs", stack: "prod",
			mutate: forgetDependency("prometheus-operator-crds"),
			rule:   chartcheck.RuleCRDOrder, where: "ServiceMonitor"},
		{name: "a retired snapshot API version", stack: "prod",
			mutate: retype(snapshotClass, "velero-do-block-storage", "kubernetes:snapshot.storage.k8s.io/v1beta1:VolumeSnapshotClass", "snapshot.storage.k8s.io/v1beta1"),
			rule:   chartcheck.RuleUnserved, where: "snapshot.storage.k8s.io/v1beta1"},
	}
	repo := pinned(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := planned(t, tc.stack)
			rs := copyResources(res.Cloud.Resources())
			if tc.mutate != nil {
				rs = tc.mutate(t, rs)
			}
			kv, err := chartcheck.KubeVersion(res)
			require.NoError(t, err)
			s, err := chartcheck.Build(context.Background(), chartcheck.Input{
				Stack: tc.stack, KubeVersion: kv, Resources: rs, Repository: repo,
				ClusterAPIs: clusterapi.For(res.Config.ClusterKind()),
			})
			require.NoError(t, err)
			var got []string
			for _, f := range chartcheck.Check(context.Background(), s, policy) {
				got = append(got, f.String())
				if f.Rule == tc.rule && (strings.Contains(f.Path, tc.where) || strings.Contains(f.Detail, tc.where) || strings.Contains(f.Release, tc.where)) {
					return
				}
			}
			t.Errorf("no %s finding about %q; findings:\n%s", tc.rule, tc.where, strings.Join(got, "\n"))
		})
	}
}

// TestRenderRefusesOldKubernetes renders argo-cd for a cluster older than
// its Chart.yaml kubeVersion allows: Helm itself must refuse.
func TestRenderRefusesOldKubernetes(t *testing.T) {
	repo := pinned(t)
	_, argo := prodRelease(t, repo, "argo-cd")
	ch, err := repo.Load(argo.Chart, argo.Version)
	require.NoError(t, err)
	_, err = chartcheck.Render(context.Background(), ch, argo, chartcheck.Cluster{KubeVersion: "v1.24.0"})
	require.Error(t, err)
	require.Contains(t, err.Error(), "kubeVersion")
}

// TestPullFromUpstream pulls pins from a Helm repository served over HTTP
// (the mirror's own archives, as an upstream would serve them) and checks
// that the result is a repository, and that a tampered archive or a pin the
// repository lacks fails instead of being skipped.
func TestPullFromUpstream(t *testing.T) {
	mirror := pinned(t).Dir
	upstream := t.TempDir()
	pins := []versions.Chart{versions.MetricsServer, versions.PrometheusOperatorCRDs}
	var files []string
	for _, p := range pins {
		files = append(files, p.Name+"-"+p.Version+".tgz")
	}
	for _, f := range append(files, "index.yaml") {
		raw, err := os.ReadFile(filepath.Join(mirror, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(upstream, f), raw, 0o644))
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(upstream)))
	defer srv.Close()
	for i := range pins {
		pins[i].Repo = srv.URL + "/"
	}

	cache := t.TempDir()
	repo, err := chartcheck.Pull(context.Background(), srv.Client(), pins, cache)
	require.NoError(t, err)
	for _, p := range pins {
		ch, err := repo.Load(p.Name, p.Version)
		require.NoError(t, err, "%s is loadable from the pulled repository", p.Name)
		require.Equal(t, p.Version, ch.Metadata.Version)
	}
	_, err = repo.Load(versions.Traefik.Name, versions.Traefik.Version)
	require.Error(t, err, "only the pins were pulled")

	// tamper appends a byte to a file and returns the function that undoes it.
	tamper := func(t *testing.T, path string) func() {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(raw, 0), 0o644))
		return func() { require.NoError(t, os.WriteFile(path, raw, 0o644)) }
	}
	t.Run("a tampered archive fails", func(t *testing.T) {
		defer tamper(t, filepath.Join(upstream, files[0]))()
		_, err = chartcheck.Pull(context.Background(), srv.Client(), pins, t.TempDir())
		require.ErrorContains(t, err, "sha256")
	})
	t.Run("a pin the repository lacks fails", func(t *testing.T) {
		missing := pins[0]
		missing.Version = "0.0.1"
		_, err := chartcheck.Pull(context.Background(), srv.Client(), []versions.Chart{missing}, t.TempDir())
		require.ErrorContains(t, err, "is not in")
	})
	t.Run("an archive that does not match the pulled index fails on load", func(t *testing.T) {
		tamper(t, filepath.Join(cache, files[1]))
		_, err := repo.Load(pins[1].Name, pins[1].Version)
		require.ErrorContains(t, err, "sha256")
	})
}
