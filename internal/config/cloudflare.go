package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Cloudflare zone plans the edge supports (edge.zonePlan).
const (
	PlanPro        = "pro"
	PlanBusiness   = "business"
	PlanEnterprise = "enterprise"
)

var zonePlans = []string{PlanPro, PlanBusiness, PlanEnterprise}

// minMonitorInterval is the shortest health-monitor interval each plan
// allows, in seconds.
// unverified: Cloudflare's load-balancing monitor documentation and the issue
// review; the provider does not encode it (checked: terraform-provider-cloudflare
// v4.51.0 internal/sdkv2provider/schema_cloudflare_load_balancer_monitor.go,
// where "interval" is Optional with Default 60 and no ValidateFunc). A plan
// refusal would come from the Cloudflare API at `pulumi up`.
var minMonitorInterval = map[string]int{PlanPro: 60, PlanBusiness: 15, PlanEnterprise: 10}

// Origin certificate trust models (edge.originCertificate).
const (
	// OriginCA is a Cloudflare Origin CA certificate: trusted by Cloudflare's
	// proxy in strict SSL mode, but not by its health monitors.
	OriginCA = "origin-ca"
	// OriginPublic is a certificate from a publicly trusted CA.
	OriginPublic = "public"
)

var originCertificates = []string{OriginCA, OriginPublic}

// allRegions is the check-region value that means every region.
const allRegions = "ALL_REGIONS"

// regionCount is how many regions ALL_REGIONS stands for.
// unverified: Cloudflare's monitor documentation ("a total of 13 regions");
// it matches the 13 region codes of checkRegions above.
const regionCount = 13

// DataCentresPerRegion is how many data centres probe from each selected
// check region. unverified: Cloudflare's load-balancing monitor page
// ("three separate data centers in that region"); not in the provider.
const DataCentresPerRegion = 3

// HealthPropagationSeconds is the time assumed for a pool's new health state
// to reach every Cloudflare data centre after the regions' majority decides.
// unverified: neither the provider nor the SDK states a figure; measure it by
// failing an origin and comparing the pool's health event with the moment
// the edge stops sending it traffic, then correct this constant.
const HealthPropagationSeconds = 30

// MonitorAllowInsecure is the monitor's allow_insecure, derived from the
// origin certificate's trust model: Cloudflare's monitors do not trust the
// Origin CA. unverified: Cloudflare's load-balancing troubleshooting page,
// "TLS untrusted certificate" (it prescribes allow_insecure or a publicly
// trusted certificate); the provider only describes the field (checked:
// terraform-provider-cloudflare v4.51.0 schema_cloudflare_load_balancer_monitor.go,
// "Do not validate the certificate when monitor use HTTPS").
func (e Edge) MonitorAllowInsecure() bool { return e.OriginCertificate != OriginPublic }

// Regions is the number of check regions the pools use.
func (e Edge) Regions() int {
	if slices.Contains(e.CheckRegions, allRegions) {
		return regionCount
	}
	return len(e.CheckRegions)
}

// majorityFails is the smallest number of n voters that, failing, leave no
// healthy majority: a region is healthy when most of its data centres pass,
// an origin when most of its regions are healthy (Cloudflare's monitor page,
// unverified, as above). A tie is not a healthy majority.
func majorityFails(n int) int { return n - n/2 }

// Detection is the worst-case failover detection time, as a bound with its
// derivation.
type Detection struct {
	// AttemptSeconds is one failing check: every try to its timeout, plus
	// the retry backoff.
	AttemptSeconds int `json:"attemptSeconds"`
	// CheckSeconds is one data centre's verdict: the failure starts just
	// after a passing check, then consecutiveDown failing checks one
	// interval apart, the last using every retry.
	CheckSeconds int `json:"checkSeconds"`
	// PropagationSeconds is the assumed time for the verdict to reach the
	// edge (HealthPropagationSeconds).
	PropagationSeconds int `json:"propagationSeconds"`
	// BoundSeconds is CheckSeconds + PropagationSeconds: the upper bound.
	BoundSeconds int `json:"boundSeconds"`
	// Regions and RegionsToFail: how many check regions probe, and how many
	// must see the origin down before it is marked down (a tie fails it).
	Regions       int `json:"regions"`
	RegionsToFail int `json:"regionsToFail"`
	// DataCentresToFail of DataCentresPerRegion must fail within a region.
	DataCentresToFail int    `json:"dataCentresToFail"`
	Derivation        string `json:"derivation"`
}

// Detection models how Cloudflare decides an origin is down. Each data
// centre probes on its own schedule; its verdict comes at most CheckSeconds
// after the failure. The region's verdict needs DataCentresToFail of them and
// the origin's needs RegionsToFail regions: every one of those verdicts is
// bounded by CheckSeconds, so the quorum adds no time in the worst case, but
// the result must still propagate. A lower bound is one interval less
// (failure just before a check), which is why the bound, not the formula
// interval x consecutiveDown, is what the objective is checked against.
func (e Edge) Detection() Detection {
	m := e.Monitor
	d := Detection{
		AttemptSeconds:     m.attemptSeconds(),
		CheckSeconds:       m.checkSeconds(),
		PropagationSeconds: HealthPropagationSeconds,
		BoundSeconds:       m.DetectionBoundSeconds(),
		Regions:            e.Regions(),
		DataCentresToFail:  majorityFails(DataCentresPerRegion),
	}
	d.RegionsToFail = majorityFails(d.Regions)
	d.Derivation = fmt.Sprintf("interval %d s x consecutiveDown %d + (retries %d + 1) x timeout %d s + retry backoff %d s = %d s per data centre; "+
		"%d of %d data centres per region and %d of %d regions must agree, each within that time; + %d s propagation (assumed) = %d s",
		m.Interval, max(m.ConsecutiveDown, 1), m.Retries, m.Timeout, m.retryBackoff(), d.CheckSeconds,
		d.DataCentresToFail, DataCentresPerRegion, d.RegionsToFail, d.Regions, d.PropagationSeconds, d.BoundSeconds)
	return d
}

// DetectionBoundSeconds is the worst-case time from an origin failing to
// the edge acting on it: one data centre's verdict (checkSeconds) plus the
// assumed propagation. It is the one formula both validation
// (edge.detectionObjectiveSeconds) and the failover-detection-objective
// guardrail apply.
func (m Monitor) DetectionBoundSeconds() int { return m.checkSeconds() + HealthPropagationSeconds }

// retryBackoff is the pause between a check's tries: they back off
// exponentially (1, 2, 4 ... s). unverified, from Cloudflare's monitor page;
// the provider says "Retries are attempted immediately" (checked: v4.51.0
// schema). The bound takes the longer.
func (m Monitor) retryBackoff() int { return (1 << max(m.Retries, 0)) - 1 }

// attemptSeconds is one failing check: every try to its timeout, plus the
// retry backoff.
func (m Monitor) attemptSeconds() int { return (m.Retries+1)*m.Timeout + m.retryBackoff() }

// checkSeconds is one data centre's verdict: the failure starts just after a
// passing check, then consecutiveDown failing checks one interval apart, the
// last using every retry.
func (m Monitor) checkSeconds() int {
	return m.Interval*max(m.ConsecutiveDown, 1) + m.attemptSeconds()
}

// EdgeAccess is the Cloudflare Access gate in front of every published UI.
type EdgeAccess struct {
	// IdentityProviderID is the Zero Trust login method (a SAML identity
	// provider) that asserts the user's groups.
	IdentityProviderID string `json:"identityProviderId"`
	// GroupsAttribute is the SAML attribute that carries group names; its
	// values are matched against platform.rbac's admin and developer groups.
	GroupsAttribute string `json:"groupsAttribute"`
	// SessionDuration is how long an Access login lasts, such as 12h.
	SessionDuration string `json:"sessionDuration"`
}

// UIs the edge can publish (keys of edge.uis), each behind Access.
const (
	UIGrafana = "grafana"
	UIArgoCD  = "argocd"
)

var publishableUIs = []string{UIArgoCD, UIGrafana}

// UINames returns the published UIs in a stable order.
func (e Edge) UINames() []string { return slices.Sorted(maps.Keys(e.UIs)) }

// AccessGroups are the groups Access admits to the UIs: the platform's
// admins and developers, as platform.rbac names them.
func (c *Config) AccessGroups() []string {
	var out []string
	for _, g := range append(slices.Clone(c.Platform.RBAC.PlatformAdmins.Groups), c.Platform.RBAC.Developers.Groups...) {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

var (
	uuidRe     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	durationRe = regexp.MustCompile(`^([0-9]+h)?([0-9]+m)?$`)
)

// validateCloudflare checks the Cloudflare-specific rules of the edge: the
// zone plan's limits, the provider's ranges, the region quorum, the origin
// certificate's trust model, and the Access gate of the published UIs.
func validateCloudflare(p *problems, c *Config) {
	e := &c.Edge
	m := e.Monitor
	if !oneOf(e.ZonePlan, zonePlans) {
		p.add("edge.zonePlan", e.ZonePlan, list(zonePlans)+" (the Cloudflare plan of edge.zone)")
	} else if lo := minMonitorInterval[e.ZonePlan]; m.Interval < lo {
		p.addf("edge.monitor.interval", m.Interval, "at least %d s on the %s plan (Pro 60 s, Business 15 s, Enterprise 10 s)", lo, e.ZonePlan)
	}
	// checked: terraform-provider-cloudflare v4.51.0 schema comment on
	// "interval": "interval has to be larger than (retries+1) * probe_timeout".
	if tries := (m.Retries + 1) * m.Timeout; m.Interval <= tries {
		p.addf("edge.monitor.interval", m.Interval, "more than (retries+1) x timeout = %d s, so that a check and its retries end before the next check", tries)
	}
	if !oneOf(e.OriginCertificate, originCertificates) {
		p.add("edge.originCertificate", e.OriginCertificate, list(originCertificates)+": origin-ca for a Cloudflare Origin CA certificate (the monitor then skips verification, as Cloudflare's monitors do not trust that CA), public for a publicly trusted one")
	} else if e.OriginCertificate == OriginPublic && c.Secrets.OriginTLSCertificate.value != "" {
		if cert, err := parseCertificatePEM(c.Secrets.OriginTLSCertificate.value); err == nil && isOriginCA(cert.Issuer.Organization, cert.Issuer.OrganizationalUnit, cert.Issuer.CommonName) {
			p.add("edge.originCertificate", e.OriginCertificate, "origin-ca: originTlsCertificate is issued by the Cloudflare Origin CA ("+cert.Issuer.CommonName+"), which the health monitor does not trust")
		}
	}
	// Quorum: an origin is healthy while most regions are; a tie is not a
	// majority, so with an even count N, N/2 regions seeing the origin down
	// fail it over, the same tolerance as N-1 regions.
	regions := e.Regions()
	switch {
	case slices.Contains(e.CheckRegions, allRegions) && len(e.CheckRegions) > 1:
		p.add("edge.checkRegions", strings.Join(e.CheckRegions, ","), "ALL_REGIONS alone, or a list of region codes")
	case slices.Contains(e.CheckRegions, allRegions) && e.ZonePlan != PlanEnterprise:
		// unverified: Cloudflare's monitor page (All Regions on Enterprise).
		p.add("edge.checkRegions", allRegions, "region codes: ALL_REGIONS needs the enterprise plan (edge.zonePlan is "+e.ZonePlan+")")
	case regions > 0 && regions%2 == 0:
		p.addf("edge.checkRegions", strings.Join(e.CheckRegions, ","),
			"an odd number of regions: an origin is healthy only while a majority of regions is, so with %d regions %d seeing it down already fail it over, no more tolerance than %d regions",
			regions, majorityFails(regions), regions-1)
	}
	for i, r := range e.CheckRegions {
		if slices.Contains(e.CheckRegions[:i], r) {
			p.add(fmt.Sprintf("edge.checkRegions[%d]", i), r, "each region once")
		}
	}
	validateUIs(p, c)
}

// isOriginCA recognises the Cloudflare Origin CA by its issuer name.
// unverified: the issuer of Origin CA certificates as Cloudflare issues them
// ("CloudFlare Origin SSL Certificate Authority" / "... ECC ..."); settle it
// by reading the issuer of a certificate from the dashboard.
func isOriginCA(org, unit []string, cn string) bool {
	for _, s := range append(append(slices.Clone(org), unit...), cn) {
		if strings.Contains(strings.ToLower(s), "cloudflare origin") {
			return true
		}
	}
	return false
}

func validateUIs(p *problems, c *Config) {
	e := &c.Edge
	taken := map[string]string{e.Hostname: "edge.hostname"}
	for i, r := range e.Records {
		taken[r.Name] = fmt.Sprintf("edge.records[%d]", i)
		// A proxied record that points at the load balancer reaches the
		// ingress, which routes only edge.hostname and edge.uis: anything
		// else would be a 404 for ever.
		if r.Type == "CNAME" && r.Content == e.Hostname {
			p.add(fmt.Sprintf("edge.records[%d].content", i), r.Content,
				"a target other than edge.hostname: the ingress routes no other name there; publish a UI through edge.uis (record, Access application and ingress route) or remove the record")
		}
	}
	for _, name := range e.UINames() {
		host := e.UIs[name]
		key := "edge.uis." + name
		switch {
		case !oneOf(name, publishableUIs):
			p.add("edge.uis", name, list(publishableUIs))
		case !validHostname(host) || !strings.HasSuffix(host, "."+e.Zone):
			p.add(key, host, "a hostname inside edge.zone ("+e.Zone+")")
		case taken[host] != "":
			p.add(key, host, "a hostname not already used by "+taken[host])
		}
		taken[host] = key
	}
	if len(e.UIs) == 0 {
		return
	}
	// Never publish an admin UI without an access gate.
	a := e.Access
	if !uuidRe.MatchString(a.IdentityProviderID) {
		p.add("edge.access.identityProviderId", a.IdentityProviderID, "the id (a UUID) of the Zero Trust SAML login method that asserts the admin and developer groups")
	}
	if a.GroupsAttribute == "" || strings.ContainsAny(a.GroupsAttribute, " \t") {
		p.add("edge.access.groupsAttribute", a.GroupsAttribute, "the SAML attribute that carries group names, such as groups")
	}
	if !durationRe.MatchString(a.SessionDuration) || a.SessionDuration == "" {
		p.add("edge.access.sessionDuration", a.SessionDuration, "a duration in hours and minutes such as 12h or 2h45m (the provider's format)")
	}
	if len(c.AccessGroups()) == 0 {
		p.add("platform.rbac", "no groups", "at least one platformAdmins or developers group: they are the only people Access admits to edge.uis")
	}
}

// OriginCheck is what the Cloudflare health monitor sends an origin, so that
// an in-cluster probe can send the same: a GET of Path with Host (and SNI)
// Host, no redirects followed, TimeoutSeconds per try, ExpectedCodes as the
// monitor's expected_codes (200 or 2xx), certificate verification skipped
// exactly when the monitor skips it.
type OriginCheck struct {
	Host               string `json:"host"`
	Path               string `json:"path"`
	ExpectedCodes      string `json:"expectedCodes"`
	TimeoutSeconds     int    `json:"timeoutSeconds"`
	IntervalSeconds    int    `json:"intervalSeconds"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify"`
	FollowRedirects    bool   `json:"followRedirects"`
}

// OriginCheck derives the probe contract from the monitor the failover
// component declares (components/failover: Headers Host = edge.hostname,
// FollowRedirects false, AllowInsecure = MonitorAllowInsecure()).
func (e Edge) OriginCheck() OriginCheck {
	return OriginCheck{
		Host: e.Hostname, Path: e.Monitor.Path, ExpectedCodes: e.Monitor.ExpectedCodes,
		TimeoutSeconds: e.Monitor.Timeout, IntervalSeconds: e.Monitor.Interval,
		InsecureSkipVerify: e.MonitorAllowInsecure(), FollowRedirects: false,
	}
}

// Check reports what is wrong with a check read from elsewhere (the prod
// stack's output), or "" when it is usable.
func (o OriginCheck) Check() string {
	switch {
	case !validHostname(o.Host):
		return "host: a hostname, got " + o.Host
	case !monitorPathRe.MatchString(o.Path):
		return "path: an absolute URL path, got " + o.Path
	case !expectedCodesRe.MatchString(o.ExpectedCodes):
		return "expectedCodes: 200 or 2xx, got " + o.ExpectedCodes
	case o.TimeoutSeconds < timeoutRange[0] || o.TimeoutSeconds > timeoutRange[1]:
		return fmt.Sprintf("timeoutSeconds: %d to %d, got %d", timeoutRange[0], timeoutRange[1], o.TimeoutSeconds)
	case o.IntervalSeconds <= o.TimeoutSeconds:
		return fmt.Sprintf("intervalSeconds: more than timeoutSeconds, got %d", o.IntervalSeconds)
	}
	return ""
}

// StatusCodes expands ExpectedCodes into the codes it admits: "200" is 200,
// "2xx" is 200 to 299.
func (o OriginCheck) StatusCodes() []int {
	c := o.ExpectedCodes
	if len(c) == 3 && strings.HasSuffix(c, "xx") {
		lo := int(c[0]-'0') * 100
		out := make([]int, 0, 100)
		for i := lo; i < lo+100; i++ {
			out = append(out, i)
		}
		return out
	}
	n := 0
	for _, r := range c {
		n = n*10 + int(r-'0')
	}
	return []int{n}
}
