package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/cost"
	"github.com/hybridcloud/platform/internal/plan"
)

func TestPricesAreDatedData(t *testing.T) {
	p, err := cost.LoadPrices()
	require.NoError(t, err)
	assert.Regexp(t, `^\d{4}-\d{2}-\d{2}$`, p.AsOf)
	assert.NotEmpty(t, p.Source)
	assert.Equal(t, "USD", p.Currency)
}

func TestProdCostEstimate(t *testing.T) {
	res := prod(t)
	p, err := cost.LoadPrices()
	require.NoError(t, err)
	c := res.Cost
	require.NotNil(t, c)
	items := map[string]cost.Line{}
	var sum, sumMax float64
	for _, l := range c.Lines {
		items[l.Item] = l
		assert.InDelta(t, l.Quantity*l.UnitPrice, l.Monthly, 0.001, l.Item)
		sum += l.Monthly
		sumMax += l.MonthlyMax
	}
	system, workers := res.Config.Doks.SystemPool, res.Config.Doks.NodePool
	pool := items["DOKS default pool ("+system.Size+")"]
	assert.Equal(t, float64(system.MinNodes), pool.Quantity, "priced at the minimum node count")
	assert.Equal(t, p.Droplet[system.Size], pool.UnitPrice)
	assert.Equal(t, float64(system.MaxNodes)*p.Droplet[system.Size], pool.MonthlyMax, "and at full autoscale")
	work := items["DOKS pool "+workers.CloudName()+" ("+workers.Size+")"]
	assert.Equal(t, float64(workers.MinNodes), work.Quantity, "the workload pool is priced too")
	assert.Equal(t, float64(workers.MaxNodes)*p.Droplet[workers.Size], work.MonthlyMax)
	assert.Equal(t, p.DoksHAControlPlane, items["DOKS HA control plane"].Monthly)
	assert.Equal(t, 2*p.Database["db-s-2vcpu-4gb"], items["PostgreSQL db-s-2vcpu-4gb, 2 nodes"].Monthly)
	assert.Equal(t, p.RegistryTier["basic"], items["Container registry (basic)"].Monthly)
	assert.Equal(t, p.Droplet["s-1vcpu-1gb"], items["Droplet hybrid-prod-wg-gateway (s-1vcpu-1gb)"].Monthly)
	assert.Equal(t, p.SpacesSubscription, items["Spaces subscription (250 GiB, 1 TiB transfer)"].Monthly, "one subscription for all buckets")
	assert.Equal(t, p.LoadBalancer, items["DigitalOcean load balancer (ingress Service)"].Monthly, "the DOKS ingress Service is a billed load balancer")
	assert.Equal(t, p.CloudflareLoadBalancer, items["Cloudflare load balancer"].Monthly)
	assert.InDelta(t, sum, c.Total, 0.001)
	assert.InDelta(t, sumMax, c.TotalMax, 0.001)
	assert.InDelta(t, p.ManagedControlPlaneCompare.PerHour*p.HoursPerMonth-p.DoksHAControlPlane, c.ManagedControlPlaneDelta, 0.001)
	assert.False(t, res.OverBudget())
}

func TestCostFollowsConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(m map[string]any)
		key    string
		item   string
		want   float64
		// nonProduction sets production: false, which a non-HA control
		// plane needs.
		nonProduction bool
	}{
		{name: "bigger workload pool", key: "doks", mutate: field("nodePool.size", "s-8vcpu-16gb"), item: "DOKS pool workers-s-8vcpu-16gb (s-8vcpu-16gb)", want: 3 * 96},
		{name: "three database nodes", key: "database", mutate: field("nodeCount", 3), item: "PostgreSQL db-s-2vcpu-4gb, 3 nodes", want: 180},
		{name: "no HA control plane", key: "doks", mutate: field("ha", false), item: "DOKS HA control plane", want: 0, nonProduction: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := stackObject(t, "prod", tc.key)
			tc.mutate(obj)
			set := map[string]string{tc.key: toJSON(t, obj)}
			if tc.nonProduction {
				set["production"] = "false"
			}
			res := mustRun(t, plan.Options{Stack: "prod", Set: set})
			var got float64
			for _, l := range res.Cost.Lines {
				if l.Item == tc.item {
					got = l.Monthly
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestBudgetExceededFailsThePlan(t *testing.T) {
	res := mustRun(t, plan.Options{Stack: "prod", Set: map[string]string{"costBudgetUsd": "300"}})
	assert.True(t, res.OverBudget(), "650 at full autoscale is over 300")

	file := filepath.Join(t.TempDir(), "Pulumi.prod.yaml")
	raw, err := os.ReadFile(filepath.Join(projectDir(t), "Pulumi.prod.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(raw), "costBudgetUsd: 900", "costBudgetUsd: 300", 1)), 0o600))
	var out, errOut bytes.Buffer
	code := plan.Main([]string{"--stack", "prod", "--config-file", file}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "exceeds costBudgetUsd 300")
	assert.Contains(t, out.String(), "OVER BUDGET")
}

func TestUnpricedSizeIsAnError(t *testing.T) {
	doks := stackObject(t, "prod", "doks")
	doks["nodePool"].(map[string]any)["size"] = "s-32vcpu-192gb"
	_, err := runStack(t, plan.Options{Stack: "prod", Set: map[string]string{"doks": toJSON(t, doks)}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no droplet price for "s-32vcpu-192gb" in prices.json`)
}

// On Talos the ingress address is announced by Cilium: nothing is billed.
func TestOnpremCostsNothingInTheCloud(t *testing.T) {
	res := mustRun(t, prodRefs("onprem"))
	require.NotNil(t, res.Cost)
	assert.Empty(t, res.Cost.Lines)
	assert.Zero(t, res.Cost.Total)
}
