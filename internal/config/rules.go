package config

import (
	"net/mail"
	"net/netip"
	"regexp"
	"strings"

	"github.com/hybridcloud/platform/internal/wgkey"
)

// Allowed values. Region lists follow DigitalOcean's availability pages:
// DOKS and Droplets, Spaces and the container registry differ.
var (
	doRegions       = []string{"ams3", "atl1", "blr1", "fra1", "lon1", "nyc1", "nyc2", "nyc3", "sfo2", "sfo3", "sgp1", "syd1", "tor1"}
	spacesRegions   = []string{"ams3", "atl1", "blr1", "fra1", "lon1", "nyc3", "sfo2", "sfo3", "sgp1", "syd1", "tor1"}
	registryRegions = []string{"ams3", "blr1", "fra1", "nyc3", "sfo2", "sfo3", "sgp1", "syd1"}
	registryTiers   = []string{"starter", "basic", "professional"}
	doksDays        = []string{"any", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
	dbDays          = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
	pgVersions      = []string{"15", "16", "17"} // 13 and 14 are past end of life: digitalocean.go
	poolModes       = []string{"session", "transaction", "statement"}
)

var (
	// Droplet size slugs: s-2vcpu-4gb, s-4vcpu-8gb-amd, c-4, g-8vcpu-32gb, m-4vcpu-32gb, so-2vcpu-16gb, ...
	dropletSizeRe = regexp.MustCompile(`^(s-\d+vcpu-\d+gb(-amd|-intel|-\d+gb-intel)?|(c|c2)-\d+(-intel)?|(g|gd|m|m3|m6|so|so1_5)-\d+vcpu-\d+gb(-intel)?|c-\d+vcpu-\d+gb)$`)
	// Managed database size slugs: db-s-1vcpu-1gb, db-s-2vcpu-4gb, gd-2vcpu-8gb, db-amd-2vcpu-4gb, ...
	dbSizeRe = regexp.MustCompile(`^(db-s|db-amd|db-intel|gd|so1_5|m|m3|m6|so)-\d+vcpu-\d+gb$`)
	// A Kubernetes minor line: 1.35 (no patch; DOKS slugs are resolved).
	k8sMinorRe     = regexp.MustCompile(`^1\.\d+$`)
	talosVersionRe = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)
	k8sVersionRe   = regexp.MustCompile(`^1\.\d+\.\d+$`)
	hhmmRe         = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
	dnsLabelRe     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	bucketRe       = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	identRe        = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	imageRefRe     = regexp.MustCompile(`^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$`)
	stackRefRe     = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	diskRe         = regexp.MustCompile(`^/dev/[a-z0-9/._-]+$`)
	labelValueRe   = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$`)
)

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func list(allowed []string) string { return "one of " + strings.Join(allowed, ", ") }

// validHostname accepts an RFC 1123 hostname: dot separated DNS labels.
func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !dnsLabelRe.MatchString(l) {
			return false
		}
	}
	return true
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndex(s, "@"):], ".")
}

func validWireguardPublicKey(s string) bool { return wgkey.Valid(s) == nil }

// prefixProblem says what an address-plan range must be when p is not an
// IPv4 CIDR in canonical form (parsing, at load, accepts both IPv6 and host
// bits), or returns "".
func prefixProblem(p netip.Prefix) string {
	switch {
	case !p.IsValid():
		return "an IPv4 CIDR such as 10.100.0.0/16"
	case !p.Addr().Is4():
		return "an IPv4 CIDR (IPv6 is not supported by this address plan)"
	case p.Masked() != p:
		return "a CIDR with no host bits set, such as " + p.Masked().String()
	}
	return ""
}

// text renders an address or a range as the config gave it: "" when unset
// (netip's String says "invalid IP" or "invalid Prefix" for the zero value).
func text[T interface {
	IsValid() bool
	String() string
}](v T) string {
	if !v.IsValid() {
		return ""
	}
	return v.String()
}

// joinPrefixes lists ranges for a message.
func joinPrefixes(ps []netip.Prefix) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = text(p)
	}
	return strings.Join(out, ", ")
}
