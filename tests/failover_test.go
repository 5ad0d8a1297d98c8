package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/plan"
)

const onpremStack = "organization/hybrid-platform/onprem"

// The failover origin comes from the onprem stack's ingressAddress output,
// or from edge.onpremOriginFallback until that output exists.
func TestFailoverOriginSources(t *testing.T) {
	edge := stackObject(t, "prod", "edge")
	noRef := stackObject(t, "prod", "edge")
	noRef["onpremStackRef"] = ""
	for _, tc := range []struct {
		name       string
		opts       plan.Options
		wantOrigin string
		wantSource string
		wantRef    bool
		wantErr    string
	}{
		{name: "onprem stack exports its ingress address",
			opts:       plan.Options{StackOutputs: map[string]map[string]any{onpremStack: {"ingressAddress": "198.51.100.77"}}},
			wantOrigin: "198.51.100.77", wantSource: "stack " + onpremStack + " output ingressAddress", wantRef: true},
		{name: "onprem stack exists with no outputs yet (first bring-up)",
			opts:       plan.Options{StackOutputs: map[string]map[string]any{onpremStack: {}}},
			wantOrigin: edge["onpremOriginFallback"].(string), wantSource: "no ingressAddress output yet", wantRef: true},
		{name: "first pass of prod in the offline plan",
			opts:       plan.Options{FirstPass: true},
			wantOrigin: edge["onpremOriginFallback"].(string), wantSource: "config edge.onpremOriginFallback", wantRef: true},
		{name: "reference turned off in config",
			opts:       plan.Options{Set: map[string]string{"edge": toJSON(t, noRef)}},
			wantOrigin: edge["onpremOriginFallback"].(string), wantSource: "edge.onpremStackRef is empty", wantRef: false},
		{name: "onprem stack never initialised",
			opts:    plan.Options{MissingStacks: []string{onpremStack}},
			wantErr: "not found"},
		{name: "onprem exports a private address",
			opts:    plan.Options{StackOutputs: map[string]map[string]any{onpremStack: {"ingressAddress": "192.168.10.50"}}},
			wantErr: "want the on-prem ingress's public IPv4 address or hostname"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Stack = config.StackProd
			res, err := runStack(t, tc.opts)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Empty(t, res.Cloud.ByType(tLB), "no load balancer with a wrong origin")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantOrigin, res.Outputs["failoverOnpremOrigin"].Value)
			assert.Contains(t, res.Outputs["failoverOnpremOriginSource"].Value, tc.wantSource)
			assert.Equal(t, tc.wantOrigin, in(t, named(t, res, tLBPool, "failover-pool-onprem"), "origins[0].address"))
			refs := 0
			for _, r := range res.Cloud.ByType(typeStackRef) {
				if in(t, r, "name") == onpremStack {
					refs++
				}
			}
			assert.Equal(t, map[bool]int{true: 1, false: 0}[tc.wantRef], refs)
		})
	}
}

func TestFailoverSettings(t *testing.T) {
	res := prod(t)
	lb := one(t, res, tLB)
	cloud := named(t, res, tLBPool, "failover-pool-cloud")
	onprem := named(t, res, tLBPool, "failover-pool-onprem")
	monitor := one(t, res, tMonitor)

	// Pools in priority order, on-prem as fallback, steering off.
	assert.Equal(t, []any{cloud.ID, onprem.ID}, in(t, lb, "defaultPoolIds"))
	assert.Equal(t, onprem.ID, in(t, lb, "fallbackPoolId"))
	assert.Equal(t, "off", in(t, lb, "steeringPolicy"))
	assert.Equal(t, true, in(t, lb, "proxied"))
	assert.Equal(t, "app.example.com", in(t, lb, "name"))
	assert.Equal(t, "none", in(t, lb, "sessionAffinity"))

	// The cloud origin is the DOKS ingress's load balancer address.
	var ingressSvc string
	for _, r := range res.Cloud.ByType("kubernetes:core/v1:Service") {
		if strings.Contains(r.Name, "lb") {
			ingressSvc = r.URN
			assert.Contains(t, cloud.DependsOn, r.URN, "the cloud pool waits for the ingress Service")
		}
	}
	require.NotEmpty(t, ingressSvc)
	assert.Equal(t, res.Outputs["ingressAddress"].Value, in(t, cloud, "origins[0].address"))

	for _, pool := range []struct {
		name string
		r    any
	}{{"cloud", cloud}, {"onprem", onprem}} {
		r := named(t, res, tLBPool, "failover-pool-"+pool.name)
		assert.Equal(t, monitor.ID, in(t, r, "monitor"), pool.name)
		assert.Equal(t, 1.0, in(t, r, "minimumOrigins"), pool.name)
		assert.Equal(t, []any{"ENAM", "WNAM", "WEU"}, in(t, r, "checkRegions"), pool.name)
		assert.Equal(t, "platform-oncall@example.com", in(t, r, "notificationEmail"), pool.name)
		assert.Len(t, in(t, r, "origins"), 1, pool.name)
	}
	for path, want := range map[string]any{
		"type": "https", "method": "GET", "path": "/healthz", "expectedCodes": "200",
		"interval": 60.0, "timeout": 5.0, "retries": 1.0, "consecutiveDown": 1.0, "consecutiveUp": 2.0,
		"allowInsecure": true, "headers[0].header": "Host", "headers[0].values": []any{"app.example.com"},
	} {
		assert.Equal(t, want, in(t, monitor, path), "monitor %s", path)
	}
	// Zone ids and the account come from the zone lookup.
	zone := in(t, lb, "zoneId")
	assert.Equal(t, zone, in(t, one(t, res, tZoneTLS), "zoneId"))
	assert.NotEmpty(t, in(t, monitor, "accountId"))
}

func TestZoneTLSPosture(t *testing.T) {
	z := one(t, prod(t), tZoneTLS)
	for path, want := range map[string]string{
		"settings.ssl": "strict", "settings.alwaysUseHttps": "on", "settings.minTlsVersion": "1.2", "settings.tls13": "on",
	} {
		assert.Equal(t, want, in(t, z, path), path)
	}
}

func TestNoRecordShadowsTheLoadBalancer(t *testing.T) {
	res := prod(t)
	lbName := in(t, one(t, res, tLB), "name")
	records := res.Cloud.ByType(tRecord)
	require.Len(t, records, 2, "one proxied record per configured hostname")
	for _, r := range records {
		assert.NotEqual(t, lbName, in(t, r, "name"))
		assert.Equal(t, true, in(t, r, "proxied"))
		assert.Equal(t, 1.0, in(t, r, "ttl"), "automatic TTL for proxied records")
	}
}

// The exported detection time is the worst-case bound of config.Edge.Detection:
// per data centre, interval x consecutiveDown + every try to its timeout +
// retry backoff, then propagation; the regions' quorum adds no time.
func TestDetectionTime(t *testing.T) {
	p := config.HealthPropagationSeconds
	for _, tc := range []struct {
		m    config.Monitor
		want int
	}{
		{config.Monitor{Interval: 60, Timeout: 5, Retries: 1, ConsecutiveDown: 1}, 60 + 10 + 1 + p},
		{config.Monitor{Interval: 70, Timeout: 5, Retries: 2, ConsecutiveDown: 0}, 70 + 15 + 3 + p},
		{config.Monitor{Interval: 61, Timeout: 3, Retries: 3, ConsecutiveDown: 1}, 61 + 12 + 7 + p},
	} {
		edge := stackObject(t, "prod", "edge")
		mon := edge["monitor"].(map[string]any)
		mon["interval"], mon["timeout"], mon["retries"], mon["consecutiveDown"] = tc.m.Interval, tc.m.Timeout, tc.m.Retries, tc.m.ConsecutiveDown
		res := mustRun(t, plan.Options{Stack: "prod", Set: map[string]string{"edge": toJSON(t, edge)}})
		assert.Equal(t, tc.want, res.Outputs["failoverDetectionSeconds"].Value, "exported for %+v", tc.m)
		assert.Contains(t, res.Outputs["failoverDetectionBound"].Value, "propagation", "the bound comes with its derivation")
	}
}
