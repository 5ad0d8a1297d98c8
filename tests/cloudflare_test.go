package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/cost"
	"github.com/hybridcloud/platform/internal/plan"
)

const (
	tAccessApp    = "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication"
	tAccessPolicy = "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy"
	tIngress      = "kubernetes:networking.k8s.io/v1:Ingress"
	tProbe        = "kubernetes:monitoring.coreos.com/v1:Probe"
)

// Issue 15 item 1: the monitor's certificate check follows the origin
// certificate's trust model (Cloudflare's monitors do not trust the Origin
// CA), and the origin probe follows the monitor.
func TestMonitorTrustFollowsOriginCertificate(t *testing.T) {
	for _, tc := range []struct {
		trust string
		skip  bool
	}{{config.OriginCA, true}, {config.OriginPublic, false}} {
		t.Run(tc.trust, func(t *testing.T) {
			edge := stackObject(t, "prod", "edge")
			edge["originCertificate"] = tc.trust
			res := mustRun(t, plan.Options{Stack: "prod", Set: map[string]string{"edge": toJSON(t, edge)}})
			assert.Equal(t, tc.skip, in(t, one(t, res, tMonitor), "allowInsecure"))
			bb := plainInputs(named(t, res, tChart, "blackbox-exporter"))
			assert.Equal(t, tc.skip, digPath(t, bb, "values.config.modules.https_origin.http.tls_config.insecure_skip_verify"))
		})
	}
}

// Issue 15 item 13: the failover-origin probe sends what the monitor sends,
// on both clusters (onprem reads the check from prod's outputs).
func TestOriginProbeMatchesMonitor(t *testing.T) {
	res := prod(t)
	m := one(t, res, tMonitor)
	host := in(t, m, "headers[0].values").([]any)[0]
	for _, stack := range []string{"prod", "onprem"} {
		t.Run(stack, func(t *testing.T) {
			r := res
			if stack == "onprem" {
				r = mustRun(t, plan.Options{Stack: "onprem", StackOutputs: map[string]map[string]any{prodStack: prodOutputs()}})
			}
			mod := digPath(t, plainInputs(named(t, r, tChart, "blackbox-exporter")), "values.config.modules.https_origin").(map[string]any)
			assert.Equal(t, "Host", in(t, m, "headers[0].header"))
			assert.Equal(t, host, digPath(t, mod, "http.headers.Host"), "Host header")
			assert.Equal(t, host, digPath(t, mod, "http.tls_config.server_name"), "SNI")
			assert.Equal(t, in(t, m, "followRedirects"), digPath(t, mod, "http.follow_redirects"))
			assert.Equal(t, false, digPath(t, mod, "http.follow_redirects"))
			assert.Equal(t, "5s", digPath(t, mod, "timeout"), "the monitor's timeout (%v s)", in(t, m, "timeout"))
			assert.Equal(t, []any{200.0}, digPath(t, mod, "http.valid_status_codes"), "the monitor's expected codes %v", in(t, m, "expectedCodes"))
			assert.Equal(t, "GET", digPath(t, mod, "http.method"))
			probe := plainInputs(named(t, r, tProbe, "failover-origin"))
			assert.Equal(t, "60s", digPath(t, probe, "spec.interval"), "as often as the monitor (%v s)", in(t, m, "interval"))
		})
	}
}

func TestOriginCheckStatusCodes(t *testing.T) {
	assert.Equal(t, []int{204}, config.OriginCheck{ExpectedCodes: "204"}.StatusCodes())
	codes := config.OriginCheck{ExpectedCodes: "2xx"}.StatusCodes()
	assert.Len(t, codes, 100)
	assert.Equal(t, 200, codes[0])
	assert.Equal(t, 299, codes[99])
}

// Issue 15 item 4: every published UI has an Access application that admits
// only the platform's admin and developer groups, a proxied record that waits
// for it, and an ingress route on both clusters.
func TestPublishedUIsBehindAccess(t *testing.T) {
	res := prod(t)
	cfg := loadConfig(t, "prod")
	policies := res.Cloud.ByType(tAccessPolicy)
	require.Len(t, policies, 1)
	pol := policies[0]
	assert.Equal(t, "allow", in(t, pol, "decision"))
	var groups []any
	for _, s := range in(t, pol, "includes[0].samls").([]any) {
		saml := s.(map[string]any)
		assert.Equal(t, "groups", saml["attributeName"])
		assert.Equal(t, cfg.Edge.Access.IdentityProviderID, saml["identityProviderId"])
		groups = append(groups, saml["attributeValue"])
	}
	assert.ElementsMatch(t, []any{"platform-admins", "developers"}, groups, "the admins and developers of platform.rbac, nobody else")

	apps := map[string]string{}
	for _, a := range res.Cloud.ByType(tAccessApp) {
		apps[in(t, a, "domain").(string)] = a.URN
		assert.Equal(t, "self_hosted", in(t, a, "type"))
		assert.Equal(t, []any{pol.ID}, in(t, a, "policies"))
	}
	records := map[string]bool{}
	for _, r := range res.Cloud.ByType(tRecord) {
		host := in(t, r, "name").(string)
		records[host] = true
		if app, ok := apps[host]; assert.True(t, ok, "record %s has no Access application", host) {
			assert.Contains(t, r.DependsOn, app, "the record of %s waits for its Access gate", host)
		}
		assert.Equal(t, "app.example.com", in(t, r, "content"))
	}
	assert.Equal(t, map[string]bool{"grafana.example.com": true, "argocd.example.com": true}, records)

	onprem := mustRun(t, plan.Options{Stack: "onprem", StackOutputs: map[string]map[string]any{prodStack: prodOutputs()}})
	for name, r := range map[string]*plan.Result{"prod": res, "onprem": onprem} {
		routes := map[string]string{}
		for _, ing := range r.Cloud.ByType(tIngress) {
			p := plainInputs(ing)
			if digPath(t, p, "metadata.labels.hybrid-platform/published-ui") == nil {
				continue
			}
			routes[digPath(t, p, "spec.rules.0.host").(string)] = digPath(t, p, "metadata.namespace").(string) + "/" +
				digPath(t, p, "spec.rules.0.http.paths.0.backend.service.name").(string)
			assert.Equal(t, "traefik", digPath(t, p, "spec.ingressClassName"), name)
		}
		assert.Equal(t, map[string]string{"grafana.example.com": "monitoring/grafana", "argocd.example.com": "argocd/argocd-server"}, routes, name)
		argo := plainInputs(named(t, r, tChart, "argocd"))
		assert.Equal(t, true, digPath(t, argo, `values.configs.params.server\.insecure`), "%s: TLS ends at the ingress", name)
	}
}

// Issue 15 item 2: the zone plan is priced.
func TestZonePlanIsPriced(t *testing.T) {
	p, err := cost.LoadPrices()
	require.NoError(t, err)
	for _, plan := range []string{config.PlanPro, config.PlanBusiness} {
		t.Run(plan, func(t *testing.T) {
			edge := stackObject(t, "prod", "edge")
			edge["zonePlan"] = plan
			res := mustRun(t, planOpts("prod", map[string]string{"edge": toJSON(t, edge)}))
			var found bool
			for _, l := range res.Cost.Lines {
				if l.Item == "Cloudflare "+plan+" plan (zone of the load balancer; price unverified)" {
					found = true
					assert.Equal(t, p.CloudflareZonePlan[plan], l.Monthly)
				}
			}
			assert.True(t, found, "no zone plan line in %+v", res.Cost.Lines)
		})
	}
}

func planOpts(stack string, set map[string]string) plan.Options {
	return plan.Options{Stack: stack, Set: set}
}
