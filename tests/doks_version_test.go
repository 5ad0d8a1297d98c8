package tests

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/plan"
)

const tokenKubernetesVersions = "digitalocean:index/getKubernetesVersions:getKubernetesVersions"

// The cluster runs the newest DOKS slug of the configured minor line, looked
// up at each run; a line DigitalOcean does not offer stops the run before
// anything is declared, naming the key and the lines on offer. The stand-in
// cloud offers 1.35.4-do.0, 1.35.3-do.1 and 1.34.6-do.1 (internal/simcloud).
func TestDoksVersionResolvedFromTheMinorLine(t *testing.T) {
	for _, tc := range []struct {
		name, minor string
		wantSlug    string
		wantErr     []string
	}{
		{name: "newest patch of the line, not an older one", minor: "1.35", wantSlug: "1.35.4-do.0"},
		{name: "the line before it", minor: "1.34", wantSlug: "1.34.6-do.1"},
		{name: "a line not on offer", minor: "1.36", wantErr: []string{"doks.kubernetesMinor", `"1.36"`, "lines on offer: 1.35, 1.34"}},
		{name: "a retired line", minor: "1.33", wantErr: []string{"doks.kubernetesMinor", `"1.33"`, "lines on offer: 1.35, 1.34"}},
		{name: "a prefix of another line", minor: "1.3", wantErr: []string{"doks.kubernetesMinor", `"1.3"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doks := stackObject(t, "prod", "doks")
			doks["kubernetesMinor"] = tc.minor
			res, err := runStack(t, plan.Options{Stack: "prod", Set: map[string]string{"doks": toJSON(t, doks)}})
			if tc.wantErr != nil {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				require.NotNil(t, res)
				// Only the provider the lookup went through exists.
				var declared []string
				for _, r := range res.Cloud.Resources() {
					if !slices.ContainsFunc(res.Cloud.Invokes(), func(i mockcloud.Invoke) bool { return i.Provider == r.URN }) {
						declared = append(declared, r.URN)
					}
				}
				assert.Empty(t, declared, "nothing may be declared for a line that cannot be created")
				return
			}
			require.NoError(t, err)
			cluster := one(t, res, tCluster)
			assert.Equal(t, tc.wantSlug, in(t, cluster, "version"))
			assert.NotContains(t, cluster.IgnoreChanges, "version")
			var asked []string
			for _, inv := range res.Cloud.Invokes() {
				if inv.Token == tokenKubernetesVersions {
					asked = append(asked, inv.Args["versionPrefix"].StringValue())
				}
			}
			assert.Equal(t, []string{tc.minor + "."}, asked, "one lookup, by the line's prefix with its dot")
		})
	}
}
