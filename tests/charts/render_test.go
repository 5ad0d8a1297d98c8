// Package charts renders every Helm release of both stacks with the Helm Go
// SDK, from the pinned chart archives, with exactly the values the program
// records, and fails on anything a real cluster would refuse. It links Helm
// and the Kubernetes API machinery, so it is a package of its own: the mock
// suite (tests/) stays fast to link.
package charts

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/chartcheck"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/versions"
)

var policy = chartcheck.DefaultPolicy

var (
	repoOnce   sync.Once
	repository *chartcheck.Repository
	repoSource string
	repoErr    error
)

// pinned returns the repository with every pinned chart; it fails (never
// skips) when neither the mirror nor upstream has them.
func pinned(t *testing.T) *chartcheck.Repository {
	t.Helper()
	repoOnce.Do(func() {
		dir, err := plan.FindProjectDir(".")
		if err != nil {
			repoErr = err
			return
		}
		repository, repoSource, repoErr = chartcheck.PinnedRepository(context.Background(), dir)
	})
	require.NoError(t, repoErr)
	t.Logf("charts from %s", repoSource)
	return repository
}

var (
	planMu sync.Mutex
	plans  = map[string]*plan.Result{}
)

// planned runs a stack's real composition under the mock cloud, once.
func planned(t *testing.T, stack string) *plan.Result {
	t.Helper()
	planMu.Lock()
	defer planMu.Unlock()
	if res, ok := plans[stack]; ok {
		return res
	}
	res, err := plan.Run(plan.Options{Stack: stack})
	require.NoError(t, err)
	plans[stack] = res
	return res
}

// TestChartsRenderCleanly renders every release of both stacks and requires
// that no check finds anything. It logs the rendered objects per kind.
func TestChartsRenderCleanly(t *testing.T) {
	repo := pinned(t)
	for _, stack := range config.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := planned(t, stack)
			s, err := chartcheck.BuildPlanned(context.Background(), res, repo)
			require.NoError(t, err)
			require.NotEmpty(t, s.Releases, "the stack declares no Helm release")
			for _, f := range chartcheck.Check(context.Background(), s, policy) {
				t.Error(f.String())
			}
			counts := map[string]int{}
			for _, o := range s.Deployed() {
				counts[o.APIVersion+" "+o.Kind]++
			}
			var lines []string
			for k, n := range counts {
				lines = append(lines, fmt.Sprintf("%4d %s", n, k))
			}
			sort.Strings(lines)
			t.Logf("%s on Kubernetes %s: %d releases, %d objects:\n%s", stack, s.KubeVersion, len(s.Releases), len(s.Deployed()), strings.Join(lines, "\n"))
		})
	}
}

// TestReleasesUsePins checks that every recorded Chart is a pin of
// internal/versions, from its upstream repository (platform.chartRepository
// is empty in both stack files), and that every pin is rendered somewhere.
func TestReleasesUsePins(t *testing.T) {
	used := map[string]bool{}
	for _, stack := range config.Stacks {
		res := planned(t, stack)
		for _, r := range res.Cloud.ByType(chartcheck.ChartType) {
			chart, version := r.Inputs["chart"].StringValue(), r.Inputs["version"].StringValue()
			var pin *versions.Chart
			for i := range versions.Charts {
				if versions.Charts[i].Name == chart {
					pin = &versions.Charts[i]
				}
			}
			require.NotNil(t, pin, "%s: chart %s is not pinned in internal/versions", r.URN, chart)
			assert.Equal(t, pin.Version, version, "%s: chart %s", r.URN, chart)
			assert.Equal(t, pin.Repo, r.Inputs["repositoryOpts"].ObjectValue()["repo"].StringValue(), "%s: chart %s", r.URN, chart)
			used[chart] = true
		}
	}
	for _, pin := range versions.Charts {
		assert.True(t, used[pin.Name], "pin %s %s is used by no stack", pin.Name, pin.Version)
	}
}

// A repeated render is served from the repository's memo: each caller gets
// objects of its own (Build fills in namespaces, tests mutate them), and a
// change of values renders anew.
func TestRepeatedRenderIsACopy(t *testing.T) {
	repo := pinned(t)
	s, rel := prodRelease(t, repo, "metrics-server")
	cluster := chartcheck.Cluster{KubeVersion: s.KubeVersion}
	first, err := repo.Render(context.Background(), rel, cluster)
	require.NoError(t, err)
	require.NotEmpty(t, first.Objects)
	want := fmt.Sprint(first.Objects[0].Raw)
	first.Objects[0].Namespace = "changed"
	first.Objects[0].Raw["kind"] = "Changed"
	again, err := repo.Render(context.Background(), rel, cluster)
	require.NoError(t, err)
	assert.NotEqual(t, "changed", again.Objects[0].Namespace)
	assert.Equal(t, want, fmt.Sprint(again.Objects[0].Raw), "a caller's change reaches no other caller")

	other := *rel
	other.Values = map[string]any{"replicas": 3}
	for k, v := range rel.Values {
		if k != "replicas" {
			other.Values[k] = v
		}
	}
	changed, err := repo.Render(context.Background(), &other, cluster)
	require.NoError(t, err)
	replicas := func(r *chartcheck.Rendered) any {
		for _, o := range r.Objects {
			if o.Kind == "Deployment" {
				return o.Raw["spec"].(map[string]any)["replicas"]
			}
		}
		return nil
	}
	assert.EqualValues(t, 3, replicas(changed), "other values render anew")
	assert.NotEqualValues(t, 3, replicas(again))
}

// prodRelease builds prod and returns it with its release of a chart.
func prodRelease(t *testing.T, repo *chartcheck.Repository, chart string) (*chartcheck.Stack, *chartcheck.Release) {
	t.Helper()
	s, err := chartcheck.BuildPlanned(context.Background(), planned(t, "prod"), repo)
	require.NoError(t, err)
	for _, r := range s.Releases {
		if r.Chart == chart {
			return s, r
		}
	}
	require.Failf(t, "no release", "prod declares no %s release", chart)
	return nil, nil
}
