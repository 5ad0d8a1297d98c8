package chartcheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/hybridcloud/platform/internal/clusterapi"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/versions"
)

// Where the pinned charts come from, relative to the project directory:
// the offline mirror when it is there (CI and this workplace), else a cache
// that PinnedRepository fills from the upstream repositories.
const (
	MirrorDir = "../shared/charts"
	CacheDir  = "bin/charts"
)

// PinnedRepository returns a repository that holds every pin of
// internal/versions: the offline mirror if it exists, else the cache under
// the project, pulled from upstream first. It never settles for fewer
// charts: a pin missing from the mirror is an error.
func PinnedRepository(ctx context.Context, projectDir string) (*Repository, string, error) {
	mirror := filepath.Join(projectDir, MirrorDir)
	if _, err := os.Stat(filepath.Join(mirror, "index.yaml")); err == nil {
		r, err := OpenRepository(mirror)
		if err != nil {
			return nil, "", err
		}
		var missing []error
		for _, pin := range versions.Charts {
			if !r.Has(pin.Name, pin.Version) {
				missing = append(missing, fmt.Errorf("%s %s", pin.Name, pin.Version))
			}
		}
		if len(missing) > 0 {
			return nil, "", fmt.Errorf("the chart mirror %s lacks pinned charts: %w", mirror, errors.Join(missing...))
		}
		return r, "the offline mirror " + mirror, nil
	}
	cache := filepath.Join(projectDir, CacheDir)
	r, err := Pull(ctx, nil, versions.Charts, cache)
	if err != nil {
		return nil, "", fmt.Errorf("no chart mirror at %s, and pulling the pins from upstream failed: %w", mirror, err)
	}
	return r, "the upstream repositories, cached in " + cache, nil
}

var doksSlugRe = regexp.MustCompile(`^(\d+\.\d+\.\d+)-do\.\d+$`)

// KubeVersion is the Kubernetes version of a planned stack's cluster: the
// DOKS version slug the cluster resource was declared with, or the Talos
// cluster's configured Kubernetes version.
func KubeVersion(res *plan.Result) (string, error) {
	if res.Config == nil {
		return "", errors.New("the stack's config did not load")
	}
	switch res.Config.ClusterKind() {
	case config.ClusterTalos:
		return "v" + res.Config.Talos.KubernetesVersion, nil
	case config.ClusterDOKS:
		clusters := res.Cloud.ByType("digitalocean:index/kubernetesCluster:KubernetesCluster")
		if len(clusters) != 1 {
			return "", fmt.Errorf("want one DOKS cluster, the plan has %d", len(clusters))
		}
		slug := clusters[0].Inputs["version"]
		if !slug.IsString() {
			return "", errors.New("the DOKS cluster has no known version input")
		}
		m := doksSlugRe.FindStringSubmatch(slug.StringValue())
		if m == nil {
			return "", fmt.Errorf("DOKS version %q is not a slug like 1.35.1-do.0", slug.StringValue())
		}
		return "v" + m[1], nil
	}
	return "", fmt.Errorf("unknown cluster kind %q", res.Config.ClusterKind())
}

// BuildPlanned renders every Chart of a planned stack.
func BuildPlanned(ctx context.Context, res *plan.Result, repo *Repository) (*Stack, error) {
	kv, err := KubeVersion(res)
	if err != nil {
		return nil, err
	}
	return Build(ctx, Input{
		Stack: res.Stack, KubeVersion: kv, Resources: res.Cloud.Resources(), Repository: repo,
		ClusterAPIs: clusterapi.For(res.Config.ClusterKind()),
	})
}
