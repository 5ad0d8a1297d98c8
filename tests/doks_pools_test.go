package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/plan"
)

// A new Droplet size for the workload pool is a new KubernetesNodePool
// under the same Pulumi resource (a replacement, not a delete and an
// unrelated create) whose DigitalOcean name differs from the old pool's, so
// both can exist while the replacement is created before the old pool is
// deleted; the cluster is declared exactly as before, so it is not touched.
// tests/engine proves the order of the steps under the real engine.
func TestWorkloadPoolResizeLeavesTheCluster(t *testing.T) {
	withSize := func(size string) *plan.Result {
		doks := stackObject(t, config.StackProd, "doks")
		doks["nodePool"].(map[string]any)["size"] = size
		return mustRun(t, plan.Options{Stack: config.StackProd, Set: map[string]string{"doks": toJSON(t, doks)}})
	}
	before, after := withSize("s-4vcpu-8gb"), withSize("s-8vcpu-16gb")

	oldPool, newPool := one(t, before, tPool), one(t, after, tPool)
	assert.Equal(t, oldPool.URN, newPool.URN, "the same Pulumi resource: the engine replaces it")
	assert.Equal(t, "s-8vcpu-16gb", in(t, newPool, "size"))
	assert.NotEqual(t, in(t, oldPool, "name"), in(t, newPool, "name"),
		"the replacement pool is created while the old one exists: their DigitalOcean names must differ")
	for k := range oldPool.Inputs {
		if k != "size" && k != "name" {
			assert.Equal(t, oldPool.Inputs[k], newPool.Inputs[k], "only size and name change: %s", k)
		}
	}

	oldCluster, newCluster := one(t, before, tCluster), one(t, after, tCluster)
	assert.Equal(t, oldCluster.URN, newCluster.URN)
	assert.Equal(t, oldCluster.Inputs, newCluster.Inputs, "the cluster's inputs, its default pool included, are unchanged")
	assert.Equal(t, oldCluster.ID, in(t, newPool, "clusterId"), "the new pool joins the same cluster")

	// Back to the first size, back to the first name: the name is derived,
	// never random, so a preview of an unchanged stack shows no change.
	assert.Equal(t, in(t, oldPool, "name"), in(t, one(t, withSize("s-4vcpu-8gb"), tPool), "name"))
}

// Every workload pool has a DigitalOcean name of its own, a DNS label, for
// every size validation admits; two sizes never share one.
func TestPoolCloudNames(t *testing.T) {
	for _, tc := range []struct {
		pool config.NodePool
		want string
	}{
		{config.NodePool{Name: "workers", Size: "s-4vcpu-8gb"}, "workers-s-4vcpu-8gb"},
		{config.NodePool{Name: "workers", Size: "so1_5-2vcpu-16gb"}, "workers-so1-5-2vcpu-16gb"},
		{config.NodePool{Name: "batch", Size: "c-4"}, "batch-c-4"},
	} {
		assert.Equal(t, tc.want, tc.pool.CloudName())
	}
	names := map[string]string{}
	for _, size := range []string{"s-4vcpu-8gb", "s-8vcpu-16gb", "c-4", "c2-4", "so-2vcpu-16gb", "so1_5-2vcpu-16gb", "s-4vcpu-8gb-intel"} {
		n := config.NodePool{Name: "workers", Size: size}.CloudName()
		require.NotContains(t, names, n, "%s and %s share a pool name", size, names[n])
		names[n] = size
	}
}
