package localcloud_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/localcloud"
)

func TestSkews(t *testing.T) {
	k8s := func(m string) bool { return strings.HasPrefix(m, "k8s.io/") }
	graphs := []localcloud.ModGraph{{Name: "program"}, {Name: "kubernetes"}, {Name: "kwok", Own: k8s}}
	uses := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		got  map[string]localcloud.ModVersions
		want []localcloud.Skew
	}{
		{
			name: "one version everywhere",
			got: map[string]localcloud.ModVersions{
				"program":    {Uses: uses("golang.org/x/net", "v0.62.0")},
				"kubernetes": {Uses: uses("golang.org/x/net", "v0.62.0")},
			},
		},
		{
			name: "a lagging graph is raised to the highest",
			got: map[string]localcloud.ModVersions{
				"program":    {Uses: uses("google.golang.org/grpc", "v1.83.2")},
				"kubernetes": {Uses: uses("google.golang.org/grpc", "v1.85.0")},
				"kwok":       {Uses: uses("google.golang.org/grpc", "v1.81.1")},
			},
			want: []localcloud.Skew{{Module: "google.golang.org/grpc", Target: "v1.85.0",
				Versions: map[string]string{"program": "v1.83.2", "kubernetes": "v1.85.0", "kwok": "v1.81.1"},
				Raise:    []string{"program", "kwok"}}},
		},
		{
			name: "pseudo-versions order by time",
			got: map[string]localcloud.ModVersions{
				"program":    {Uses: uses("k8s.io/utils", "v0.0.0-20251002143259-bc988d571ff4")},
				"kubernetes": {Uses: uses("k8s.io/utils", "v0.0.0-20250321185631-1f6e0b77f77e")},
			},
			want: []localcloud.Skew{{Module: "k8s.io/utils", Target: "v0.0.0-20251002143259-bc988d571ff4",
				Versions: map[string]string{"program": "v0.0.0-20251002143259-bc988d571ff4", "kubernetes": "v0.0.0-20250321185631-1f6e0b77f77e"},
				Raise:    []string{"kubernetes"}}},
		},
		{
			name: "a replacement fixes the version for the others",
			got: map[string]localcloud.ModVersions{
				"program":    {Uses: uses("k8s.io/api", "v0.35.1")},
				"kubernetes": {Uses: uses("k8s.io/api", "v0.35.4"), Replaced: map[string]bool{"k8s.io/api": true}},
			},
			want: []localcloud.Skew{{Module: "k8s.io/api", Target: "v0.35.4",
				Versions: map[string]string{"program": "v0.35.1", "kubernetes": "v0.35.4"}, Raise: []string{"program"}}},
		},
		{
			name: "past a replacement cannot be raised",
			got: map[string]localcloud.ModVersions{
				"program":    {Uses: uses("k8s.io/api", "v0.36.1")},
				"kubernetes": {Uses: uses("k8s.io/api", "v0.35.4"), Replaced: map[string]bool{"k8s.io/api": true}},
			},
			want: []localcloud.Skew{{Module: "k8s.io/api", Target: "v0.35.4",
				Versions: map[string]string{"program": "v0.36.1", "kubernetes": "v0.35.4"}, Stuck: []string{"program"}}},
		},
		{
			name: "a graph's own modules are left out, its others are not",
			got: map[string]localcloud.ModVersions{
				"program":    {Uses: uses("k8s.io/api", "v0.35.4", "golang.org/x/net", "v0.62.0")},
				"kubernetes": {Uses: uses("k8s.io/api", "v0.35.4")},
				"kwok":       {Uses: uses("k8s.io/api", "v0.36.1", "golang.org/x/net", "v0.51.0")},
			},
			want: []localcloud.Skew{{Module: "golang.org/x/net", Target: "v0.62.0",
				Versions: map[string]string{"program": "v0.62.0", "kwok": "v0.51.0"}, Raise: []string{"kwok"}}},
		},
		{
			name: "a module only one graph builds",
			got: map[string]localcloud.ModVersions{
				"program":    {Uses: uses("github.com/pulumi/pulumi-digitalocean/sdk/v4", "v4.76.0")},
				"kubernetes": {Uses: uses("k8s.io/kubernetes", "v1.35.4")},
				"kwok":       {Uses: uses("k8s.io/api", "v0.36.1")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, localcloud.Skews(graphs, tt.got))
		})
	}
}

// TestToolModulesAligned: the program and the tool wrappers build every
// shared module at one version, so a cold build compiles it once. After a
// go.mod change: go run ./cmd/alignmods.
func TestToolModulesAligned(t *testing.T) {
	graphs := localcloud.AlignedGraphs()
	got := map[string]localcloud.ModVersions{}
	for _, g := range graphs {
		mv, err := localcloud.ListModVersions("../..", g)
		require.NoError(t, err)
		require.NotEmpty(t, mv.Uses, "%s builds no module: the package list is wrong", g.Dir)
		got[g.Name] = mv
	}
	// Something is shared by all of them, or the comparison is empty.
	shared := 0
	for m, v := range got[graphs[0].Name].Uses {
		n := 0
		for _, g := range graphs {
			if got[g.Name].Uses[m] == v {
				n++
			}
		}
		if n == len(graphs) {
			shared++
		}
	}
	assert.Positive(t, shared, "no module at one version in all %d graphs", len(graphs))
	var lines []string
	for _, s := range localcloud.Skews(graphs, got) {
		lines = append(lines, s.String())
	}
	assert.Empty(t, lines, "modules at more than one version; run: go run ./cmd/alignmods\n%s", strings.Join(lines, "\n"))
}
