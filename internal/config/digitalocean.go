package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Rules the DigitalOcean APIs (and the provider that drives them) apply,
// which the mocks never did. Each names where it was seen.

var (
	// doksRegions and postgresRegions: the regions of doRegions that offer
	// DOKS and managed PostgreSQL.
	//
	// PostgreSQL: checked in DigitalOcean's "PostgreSQL Availability" page
	// (docs.digitalocean.com/products/databases/postgresql/details/availability,
	// generated 26 Mar 2026): every machine type in NYC1, NYC2, NYC3, AMS3,
	// SFO2, SFO3, SGP1, LON1, FRA1, TOR1, BLR1 and SYD1; ATL1 only partly
	// (Shared CPU "◐", no General Purpose), so it is left out.
	//
	// DOKS: DigitalOcean's Kubernetes overview says Kubernetes is not offered
	// in NYC2 (with AMS2 and SFO1, which are not in doRegions). unverified:
	// that page is old (it also named NYC3, which has DOKS today);
	// `doctl kubernetes options regions` on an account settles the list.
	doksRegions     = []string{"ams3", "atl1", "blr1", "fra1", "lon1", "nyc1", "nyc3", "sfo2", "sfo3", "sgp1", "syd1", "tor1"}
	postgresRegions = []string{"ams3", "blr1", "fra1", "lon1", "nyc1", "nyc2", "nyc3", "sfo2", "sfo3", "sgp1", "syd1", "tor1"}

	// postgresEOL maps the PostgreSQL majors past end of life to the date.
	// Source: the PostgreSQL versioning policy (postgresql.org/support/versioning:
	// a major is supported for 5 years after its initial release, then gets
	// one last minor release); 13 was released in September 2020 and 14 in
	// September 2021, and their final minors are the November releases five
	// years on. unverified: the exact final-release days (13 November 2025
	// and 12 November 2026 by the quarterly minor-release schedule).
	postgresEOL = map[string]string{"13": "November 2025", "14": "November 2026"}

	// doTagRe is the provider's tag rule: checked in
	// terraform-provider-digitalocean v2.96.0 digitalocean/tag/tags.go
	// (tagNameRe, used by ValidateTag for every resource's tags).
	doTagRe = regexp.MustCompile(`^[a-zA-Z0-9:\-_]{1,255}$`)

	// taintEffects: checked in k8s.io/kubernetes v1.35.4
	// pkg/apis/core/validation/validation.go (validateTaintEffect) and in
	// terraform-provider-digitalocean v2.96.0 digitalocean/kubernetes/kubernetes.go
	// (nodePoolTaintSchema: StringInSlice NoSchedule, PreferNoSchedule, NoExecute).
	taintEffects = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}

	// kubeletLabels and kubeletLabelNamespaces are the kubernetes.io and
	// k8s.io keys a kubelet may put on its own node. checked: k8s.io/kubelet
	// v0.35.4 pkg/apis/well_known_labels.go (IsKubeletLabel); kubelet refuses
	// to start with any other such key in --node-labels (k8s.io/kubernetes
	// v1.35.4 cmd/kubelet/app/options/options.go, "unknown 'kubernetes.io' or
	// 'k8s.io' labels"). unverified: that DOKS applies pool labels through
	// --node-labels; either way a pool label in those namespaces would claim a
	// meaning that Kubernetes reserves.
	kubeletLabels = []string{
		"kubernetes.io/hostname", "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
		"failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
		"beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type",
		"kubernetes.io/os", "kubernetes.io/arch", "beta.kubernetes.io/os", "beta.kubernetes.io/arch",
	}
	kubeletLabelNamespaces = []string{"kubelet.kubernetes.io", "node.kubernetes.io"}

	dbMemoryRe = regexp.MustCompile(`-(\d+)gb$`)
)

// validateDigitalOcean checks the prod stack against the DigitalOcean rules
// above. validate calls it for prod.
func validateDigitalOcean(p *problems, c *Config) {
	if r := c.Network.Region; oneOf(r, doRegions) {
		if !oneOf(r, doksRegions) {
			p.add("network.region", r, "a region that offers DOKS: "+list(doksRegions))
		}
		if !oneOf(r, postgresRegions) {
			p.add("network.region", r, "a region that offers managed PostgreSQL: "+list(postgresRegions))
		}
	}
	validateDatabaseRules(p, &c.Database)
	d := &c.Doks
	validateNodePoolRules(p, "doks.systemPool", d.SystemPool)
	validateNodePoolRules(p, "doks.nodePool", d.NodePool)
	for i, pool := range d.ExtraPools {
		validateNodePoolRules(p, fmt.Sprintf("doks.extraPools[%d]", i), pool)
	}
	validateCIRunner(p, d)
}

func validateDatabaseRules(p *problems, d *Database) {
	if eol, ok := postgresEOL[d.Version]; ok {
		p.add("database.version", d.Version, "a supported PostgreSQL major ("+list(pgVersions)+"): "+d.Version+" reached end of life in "+eol)
	}
	// The provider sends backup_hour and backup_minute only when they are
	// non-zero (checked: terraform-provider-digitalocean v2.96.0
	// digitalocean/database/resource_database_postgres_config.go, `if v, ok :=
	// d.GetOk("backup_hour"); ok`; GetOk reports a zero int as unset). A 0 is
	// never sent, DigitalOcean keeps its own value, and every refresh shows a
	// diff: refuse 0 so that config and cloud agree.
	if d.BackupHour < 1 || d.BackupHour > 23 {
		p.addf("database.backupHour", d.BackupHour, "an hour of the day from 1 to 23 (UTC): the provider never sends 0 (it treats it as unset), so 0 would differ from DigitalOcean on every refresh")
	}
	if d.BackupMinute < 1 || d.BackupMinute > 59 {
		p.addf("database.backupMinute", d.BackupMinute, "a minute from 1 to 59: the provider never sends 0 (it treats it as unset), so 0 would differ from DigitalOcean on every refresh")
	}
	// Backend connections: 25 per GiB of the node's memory, of which 3 are
	// reserved for maintenance (checked: DigitalOcean docs, "How to Manage
	// Connection Pools for PostgreSQL Database Clusters": "Clusters provide 25
	// connections per 1 GB of RAM", and the 1 GB example's "22 connections").
	// One pool here, so it may use all of them.
	if m := dbMemoryRe.FindStringSubmatch(d.Size); m != nil && d.PoolSize >= 1 {
		gb, _ := strconv.Atoi(m[1])
		if limit := 25*gb - 3; d.PoolSize > limit {
			p.addf("database.poolSize", d.PoolSize, "at most %d backend connections for %s (25 per GB of memory, 3 reserved)", limit, d.Size)
		}
	}
}

// validateNodePoolRules checks what DOKS puts on the nodes: labels and
// taints as the Kubernetes API validates them, tags as DigitalOcean does.
func validateNodePoolRules(p *problems, key string, np NodePool) {
	// Label keys and values: validateLabels follows k8s.io/apimachinery
	// v0.35.4 pkg/util/validation (IsQualifiedName, IsValidLabelValue), the
	// checks kubelet applies to --node-labels.
	validateLabels(p, key+".labels", np.Labels)
	keys := make([]string, 0, len(np.Labels))
	for k := range np.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if reservedNodeLabel(k) {
			p.add(key+".labels", k, "a label key outside the kubernetes.io and k8s.io namespaces (kubelet may set only "+
				strings.Join(kubeletLabels, ", ")+" and keys under "+strings.Join(kubeletLabelNamespaces, ", ")+")")
		}
	}
	seen := map[string]bool{}
	for i, t := range np.Taints {
		tk := fmt.Sprintf("%s.taints[%d]", key, i)
		// checked: k8s.io/kubernetes v1.35.4 validateNodeTaints: the key is a
		// label name, the value a label value, unique by key and effect.
		validateLabels(p, tk, map[string]string{t.Key: t.Value})
		if !oneOf(t.Effect, taintEffects) {
			p.add(tk+".effect", t.Effect, list(taintEffects))
		}
		if seen[t.Key+"\x00"+t.Effect] {
			p.add(tk, t.Key+":"+t.Effect, "a taint not listed twice with the same key and effect")
		}
		seen[t.Key+"\x00"+t.Effect] = true
	}
	for i, tag := range np.Tags {
		tk := fmt.Sprintf("%s.tags[%d]", key, i)
		switch {
		case !doTagRe.MatchString(tag):
			p.add(tk, tag, "a DigitalOcean tag: 1 to 255 letters, digits, ':', '-' or '_'")
		// The provider drops these from what it reads back (checked:
		// terraform-provider-digitalocean v2.96.0 kubernetes.go FilterTags),
		// so a pool that sets one shows a diff on every refresh.
		case tag == "k8s" || strings.HasPrefix(tag, "k8s:") || strings.HasPrefix(tag, "terraform:"):
			p.add(tk, tag, "a tag other than k8s, k8s:* and terraform:*, which DOKS sets itself and the provider filters out when it reads the pool")
		}
	}
}

func reservedNodeLabel(k string) bool {
	i := strings.Index(k, "/")
	if i < 0 {
		return false
	}
	ns := k[:i]
	if ns != "kubernetes.io" && ns != "k8s.io" && !strings.HasSuffix(ns, ".kubernetes.io") && !strings.HasSuffix(ns, ".k8s.io") {
		return false
	}
	if oneOf(k, kubeletLabels) {
		return false
	}
	for _, allowed := range kubeletLabelNamespaces {
		if ns == allowed || strings.HasSuffix(ns, "."+allowed) {
			return false
		}
	}
	return true
}

// validateCIRunner ties the CI runner to the control-plane firewall: every
// address the runner's traffic leaves from must be inside
// doks.controlPlaneAllowedCidrs, or every Kubernetes and Helm resource fails
// from CI. GitHub-hosted runners have no fixed egress address, so the runner
// must be self-hosted (tests/delivery checks that the workflows use these
// labels for every job that reaches the cluster).
func validateCIRunner(p *problems, d *Doks) {
	r := d.CIRunner
	if len(r.Labels) == 0 || r.Labels[0] != "self-hosted" {
		p.add("doks.ciRunner.labels", strings.Join(r.Labels, ","), "runs-on labels starting with self-hosted, such as [self-hosted, linux, doks-api]: GitHub-hosted runners have no fixed egress address for the control-plane firewall")
	}
	if len(r.EgressCidrs) == 0 {
		p.add("doks.ciRunner.egressCidrs", "[]", "the CIDRs the CI runner's traffic leaves from, such as 198.51.100.10/32")
	}
	var allowed []netip.Prefix
	for _, c := range d.ControlPlaneAllowedCidrs {
		if c.IsValid() {
			allowed = append(allowed, c.Masked())
		}
	}
	for i, c := range r.EgressCidrs {
		key := fmt.Sprintf("doks.ciRunner.egressCidrs[%d]", i)
		if !c.IsValid() || !publicIPv4(c.Addr()) {
			p.add(key, text(c), "a public IPv4 CIDR such as 198.51.100.10/32")
			continue
		}
		if !coveredBy(c.Masked(), allowed) {
			p.add(key, c.String(), "a range inside doks.controlPlaneAllowedCidrs ("+joinPrefixes(d.ControlPlaneAllowedCidrs)+"): the control-plane firewall would refuse the CI runner")
		}
	}
}

// coveredBy reports whether pfx lies entirely inside one of the ranges.
func coveredBy(pfx netip.Prefix, ranges []netip.Prefix) bool {
	for _, r := range ranges {
		if r.Bits() <= pfx.Bits() && r.Contains(pfx.Addr()) {
			return true
		}
	}
	return false
}
