package network

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/chartcheck"
	"github.com/hybridcloud/platform/internal/ciliumpolicy"
	"github.com/hybridcloud/platform/internal/localcluster"
)

// The app-bucket egress policy passes the CiliumNetworkPolicy CRD's schema
// (cilium v1.20.2, the version the local control planes serve), and the
// same check refuses a policy that breaks it.
func TestSpacesEgressPolicyMatchesCiliumCRD(t *testing.T) {
	dir, err := localcluster.ModuleDir(localcluster.CiliumModule)
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(dir, "pkg/k8s/apis/cilium.io/client/crds/v2/ciliumnetworkpolicies.yaml"))
	require.NoError(t, err)
	var crd map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &crd))

	build := func(hosts []string) map[string]any {
		spec := ciliumpolicy.FQDNEgressSpec(ciliumpolicy.DNS("kube-system", map[string]string{"k8s-app": "kube-dns"}), hosts, ciliumpolicy.HTTPSPort)
		return ciliumpolicy.Object(ciliumpolicy.SpacesEgressName, "shop", spec)
	}
	problems, err := chartcheck.ValidateAgainstCRD(context.Background(), crd, "v2", build(ciliumpolicy.SpacesHosts("nyc3", "hybrid-platform-prod-app")))
	require.NoError(t, err)
	assert.Empty(t, problems)

	problems, err = chartcheck.ValidateAgainstCRD(context.Background(), crd, "v2", build([]string{"not a name!"}))
	require.NoError(t, err)
	assert.NotEmpty(t, problems, "a host the CRD's matchName pattern refuses")
}
