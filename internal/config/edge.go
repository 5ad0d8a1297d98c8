package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Edge is the Cloudflare front door of the prod stack (key "edge").
type Edge struct {
	// Zone is the Cloudflare zone name; its id and account come from a lookup.
	Zone string `json:"zone"`
	// Hostname is the load-balanced public hostname. No DNS record may use it:
	// a record with the same name would be overridden by the load balancer.
	Hostname string `json:"hostname"`
	// Records are proxied DNS records for the other public hostnames.
	Records []EdgeRecord `json:"records"`
	// UIs publishes platform UIs (grafana, argocd) at their hostnames: a
	// proxied record, a Cloudflare Access application and an ingress route
	// on both clusters each.
	UIs map[string]string `json:"uis"`
	// Access gates every UI in UIs.
	Access EdgeAccess `json:"access"`
	// ZonePlan is edge.zone's Cloudflare plan: pro, business or enterprise.
	// It bounds the monitor interval and is priced in the cost estimate.
	ZonePlan string `json:"zonePlan"`
	// OriginCertificate is the trust model of the certificate both origins
	// serve: origin-ca (Cloudflare Origin CA) or public.
	OriginCertificate string  `json:"originCertificate"`
	Monitor           Monitor `json:"monitor"`
	// CheckRegions are the Cloudflare health-check regions; an empty list
	// means every data centre, which needs an Enterprise plan.
	CheckRegions    []string `json:"checkRegions"`
	MinimumOrigins  int      `json:"minimumOrigins"`
	SessionAffinity string   `json:"sessionAffinity"`
	// DetectionObjectiveSeconds bounds the worst-case failover detection time.
	DetectionObjectiveSeconds int `json:"detectionObjectiveSeconds"`
	// OnpremStackRef names the onprem stack whose ingressAddress output is the
	// failover origin; empty means always use OnpremOriginFallback.
	OnpremStackRef string `json:"onpremStackRef"`
	// OnpremOriginFallback is the on-prem origin used until the onprem stack
	// exports its ingress address (first bring-up).
	OnpremOriginFallback string `json:"onpremOriginFallback"`
}

// EdgeRecord is one proxied DNS record.
type EdgeRecord struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Content string `json:"content"`
}

// Monitor is the load balancer's HTTPS health check.
type Monitor struct {
	Path            string `json:"path"`
	ExpectedCodes   string `json:"expectedCodes"`
	Interval        int    `json:"interval"`
	Timeout         int    `json:"timeout"`
	Retries         int    `json:"retries"`
	ConsecutiveDown int    `json:"consecutiveDown"`
	ConsecutiveUp   int    `json:"consecutiveUp"`
}

// Cloudflare's accepted ranges for load balancer monitors and pools.
var (
	checkRegions    = []string{"WNAM", "ENAM", "WEU", "EEU", "NSAM", "SSAM", "OC", "ME", "NAF", "SAF", "SAS", "SEAS", "NEAS", "ALL_REGIONS"}
	sessionAffinity = []string{"none", "cookie", "ip_cookie", "header"}
	recordTypes     = []string{"A", "AAAA", "CNAME"}
	expectedCodesRe = regexp.MustCompile(`^[1-5]([0-9]{2}|xx)$`)
	monitorPathRe   = regexp.MustCompile(`^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$`)
	intervalRange   = [2]int{10, 3600}
	timeoutRange    = [2]int{1, 10}
	// checked: terraform-provider-cloudflare v4.51.0 schema_cloudflare_load_balancer_monitor.go,
	// "retries" ValidateFunc IntBetween(1, 5), "timeout" IntBetween(1, 10).
	retriesRange     = [2]int{1, 5}
	consecutiveRange = [2]int{0, 10}
)

func validateEdge(p *problems, e *Edge) {
	if e.UIs == nil {
		e.UIs = map[string]string{}
	}
	if !validHostname(e.Zone) || !strings.Contains(e.Zone, ".") {
		p.add("edge.zone", e.Zone, "a DNS zone managed by Cloudflare, such as example.com")
	}
	if !validHostname(e.Hostname) || !strings.HasSuffix(e.Hostname, "."+e.Zone) {
		p.add("edge.hostname", e.Hostname, "a hostname inside edge.zone ("+e.Zone+")")
	}
	for i, r := range e.Records {
		key := fmt.Sprintf("edge.records[%d]", i)
		switch {
		case r.Name == e.Hostname:
			p.add(key+".name", r.Name, "a hostname other than edge.hostname: a record there would shadow the load balancer")
		case !validHostname(r.Name) || !strings.HasSuffix(r.Name, "."+e.Zone):
			p.add(key+".name", r.Name, "a hostname inside edge.zone ("+e.Zone+")")
		}
		switch r.Type {
		case "A", "AAAA":
			a, err := netip.ParseAddr(r.Content)
			if err != nil || a.Is4() != (r.Type == "A") || a.IsPrivate() {
				p.add(key+".content", r.Content, "a public "+map[string]string{"A": "IPv4", "AAAA": "IPv6"}[r.Type]+" address")
			}
		case "CNAME":
			if !validHostname(r.Content) {
				p.add(key+".content", r.Content, "a hostname")
			}
		default:
			p.add(key+".type", r.Type, list(recordTypes))
		}
	}
	m := e.Monitor
	if !monitorPathRe.MatchString(m.Path) {
		p.add("edge.monitor.path", m.Path, "an absolute URL path such as /healthz")
	}
	if !expectedCodesRe.MatchString(m.ExpectedCodes) {
		p.add("edge.monitor.expectedCodes", m.ExpectedCodes, "an HTTP status code or range such as 200 or 2xx")
	}
	inRange(p, "edge.monitor.interval", m.Interval, intervalRange, "seconds")
	inRange(p, "edge.monitor.timeout", m.Timeout, timeoutRange, "seconds")
	inRange(p, "edge.monitor.retries", m.Retries, retriesRange, "retries")
	inRange(p, "edge.monitor.consecutiveDown", m.ConsecutiveDown, consecutiveRange, "checks")
	inRange(p, "edge.monitor.consecutiveUp", m.ConsecutiveUp, consecutiveRange, "checks")
	if e.DetectionObjectiveSeconds < 1 {
		p.addf("edge.detectionObjectiveSeconds", e.DetectionObjectiveSeconds, "a positive number of seconds (the default objective is 120)")
	} else if d := e.Detection(); d.BoundSeconds > e.DetectionObjectiveSeconds {
		// The objective is checked against the worst case, not the
		// optimistic interval formula (see Edge.Detection).
		p.add("edge.monitor", fmt.Sprintf("interval=%d consecutiveDown=%d retries=%d timeout=%d", m.Interval, m.ConsecutiveDown, m.Retries, m.Timeout),
			fmt.Sprintf("settings that detect a failed origin within edge.detectionObjectiveSeconds (%ds); the worst case is %ds: %s", e.DetectionObjectiveSeconds, d.BoundSeconds, d.Derivation))
	}
	if len(e.CheckRegions) == 0 {
		p.add("edge.checkRegions", "[]", "at least one region: an empty list means every data centre, which needs an Enterprise plan")
	}
	for i, r := range e.CheckRegions {
		if !oneOf(r, checkRegions) {
			p.add(fmt.Sprintf("edge.checkRegions[%d]", i), r, list(checkRegions))
		}
	}
	if e.MinimumOrigins != 1 {
		p.addf("edge.minimumOrigins", e.MinimumOrigins, "1: each pool has one origin, the cluster's ingress")
	}
	if !oneOf(e.SessionAffinity, sessionAffinity) {
		p.add("edge.sessionAffinity", e.SessionAffinity, list(sessionAffinity))
	}
	if e.OnpremStackRef != "" && !stackRefRe.MatchString(e.OnpremStackRef) {
		p.add("edge.onpremStackRef", e.OnpremStackRef, "empty, or a fully qualified stack name such as organization/hybrid-platform/onprem")
	}
	if !ValidOrigin(e.OnpremOriginFallback) {
		p.add("edge.onpremOriginFallback", e.OnpremOriginFallback, "the on-prem ingress's public IPv4 address or hostname")
	}
}

func inRange(p *problems, key string, v int, r [2]int, unit string) {
	if v < r[0] || v > r[1] {
		p.add(key, strconv.Itoa(v), fmt.Sprintf("%d to %d %s (Cloudflare's accepted range)", r[0], r[1], unit))
	}
}

// ValidOrigin accepts a public IPv4 address or a hostname.
func ValidOrigin(s string) bool {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Is4() && !a.IsPrivate() && !a.IsLoopback() && !a.IsUnspecified()
	}
	return validHostname(s) && strings.Contains(s, ".")
}
