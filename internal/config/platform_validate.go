package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"k8s.io/apimachinery/pkg/api/resource"
)

// ClusterStateRPO is the seed's recovery point objective for cluster state:
// some schedule that backs up every namespace must run at least this often.
const ClusterStateRPO = 24 * time.Hour

var (
	podSecurityLevels = []string{"restricted", "baseline"}
	gitRevisionRe     = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
	scpGitURLRe       = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._/-]+$`)
)

func validatePlatform(p *problems, c *Config) {
	pl := &c.Platform
	validateMonitoring(p, &pl.Monitoring)
	validateGitOps(p, &pl.GitOps)
	validateBackup(p, &pl.Backup)
	validateRBAC(p, &pl.RBAC)
	validateApps(p, pl.Apps)
	validateIngress(p, c)
	validateProbes(p, c)
	validateChartRepository(p, pl.ChartRepository)
	cert, key := c.Secrets.OriginTLSCertificate.value, c.Secrets.OriginTLSPrivateKey.value
	if cert != "" && key != "" && !tlsPairMatches(cert, key) {
		p.add("originTlsPrivateKey", redacted, "the private key of originTlsCertificate: the two secrets do not belong together")
	}
}

func validateMonitoring(p *problems, m *Monitoring) {
	const k = "platform.monitoring."
	if d, err := parsePromDuration(m.PrometheusRetention); err != nil || d < time.Hour {
		p.add(k+"prometheusRetention", m.PrometheusRetention, "a positive Prometheus duration of at least 1h, such as 15d")
	}
	storage := map[string]*resource.Quantity{}
	for _, q := range []struct{ key, v string }{
		{"prometheusStorage", m.PrometheusStorage}, {"alertmanagerStorage", m.AlertmanagerStorage},
		{"grafanaStorage", m.GrafanaStorage}, {"lokiStorage", m.LokiStorage},
	} {
		n, err := resource.ParseQuantity(q.v)
		if err != nil || n.Sign() <= 0 {
			p.add(k+q.key, q.v, "a positive Kubernetes quantity such as 50Gi")
			continue
		}
		storage[q.key] = &n
	}
	size, err := parsePromSize(m.PrometheusRetentionSize)
	switch {
	case err != nil || size.Sign() <= 0:
		p.add(k+"prometheusRetentionSize", m.PrometheusRetentionSize, "a Prometheus size such as 45GB")
	case storage["prometheusStorage"] != nil && size.Cmp(*storage["prometheusStorage"]) >= 0:
		p.add(k+"prometheusRetentionSize", m.PrometheusRetentionSize,
			"a size below prometheusStorage ("+m.PrometheusStorage+"), leaving room for the WAL, or the volume fills before retention applies")
	}
	if d, err := parsePromDuration(m.LokiRetention); err != nil || d < 24*time.Hour || d%(24*time.Hour) != 0 {
		p.add(k+"lokiRetention", m.LokiRetention, "a duration of whole days, at least 24h (the index period), such as 744h or 31d")
	}
	if host, port, err := net.SplitHostPort(m.SMTP.Smarthost); err != nil || !validHostname(host) || !validPort(port) {
		p.add(k+"smtp.smarthost", m.SMTP.Smarthost, "a mail relay host:port such as smtp.example.com:587")
	}
	if !validEmail(m.SMTP.From) {
		p.add(k+"smtp.from", m.SMTP.From, "a sender address such as alertmanager@example.com")
	}
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

func validateGitOps(p *problems, g *GitOps) {
	const k = "platform.gitops."
	if !validGitURL(g.RepoURL) {
		p.add(k+"repoUrl", g.RepoURL, "a Git repository URL: https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git")
	}
	if g.Path == "" || path.IsAbs(g.Path) || path.Clean(g.Path) != g.Path || strings.HasPrefix(g.Path, "..") {
		p.add(k+"path", g.Path, "a clean path relative to the repository root, such as clusters/prod")
	}
	if !gitRevisionRe.MatchString(g.Revision) || strings.HasPrefix(g.Revision, "-") || strings.Contains(g.Revision, "..") {
		p.add(k+"revision", g.Revision, "a branch, tag or commit such as main or v1.4.0")
	}
	if g.RevisionHistoryLimit < 1 || g.RevisionHistoryLimit > 100 {
		p.addf(k+"revisionHistoryLimit", g.RevisionHistoryLimit, "1 to 100 synced revisions kept for rollback")
	}
}

func validGitURL(s string) bool {
	if scpGitURLRe.MatchString(s) {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "ssh") && u.Host != "" && len(strings.Trim(u.Path, "/")) > 0 && u.RawQuery == ""
}

// validateChartRepository accepts empty or the URL of a classic Helm
// repository. Helm resolves the repository's index as <url>/index.yaml
// (helm.sh/helm/v3 pkg/repo ChartRepository.DownloadIndexFile joins the
// path), so a query or fragment would be lost; credentials in the URL would
// sit in plaintext in the stack file. OCI registries (oci://) are not
// supported by this key.
func validateChartRepository(p *problems, s string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "":
		p.add("platform.chartRepository", s, "empty (each chart's upstream repository) or the http(s) URL of a Helm chart repository, such as https://charts.example.internal/platform")
	case u.User != nil:
		p.add("platform.chartRepository", u.Redacted(), "a URL without credentials: it is stored in plaintext in the stack file")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(u.Path, "index.yaml"):
		p.add("platform.chartRepository", s, "the repository's base URL, without a query, fragment or index.yaml: Helm appends /index.yaml itself")
	}
}

func validateBackup(p *problems, b *Backup) {
	const k = "platform.backup.schedules"
	if len(b.Schedules) == 0 {
		p.add(k, "[]", "at least one Velero schedule")
		return
	}
	names := map[string]bool{}
	meetsRPO := false
	for i, s := range b.Schedules {
		key := fmt.Sprintf("%s[%d]", k, i)
		if !dnsLabelRe.MatchString(s.Name) {
			p.add(key+".name", s.Name, "a lowercase DNS label such as cluster-state")
		} else if names[s.Name] {
			p.add(key+".name", s.Name, "a schedule name not used by another schedule")
		}
		names[s.Name] = true
		gap, err := CronMaxGap(s.Cron)
		if err != nil {
			p.add(key+".cron", s.Cron, "a cron expression as Velero parses it (minute hour day-of-month month day-of-week, UTC unless prefixed CRON_TZ=<zone>) or a descriptor such as @daily: "+err.Error())
		} else if gap == 0 {
			p.add(key+".cron", s.Cron, "a cron expression that runs at least once (this one never matches a date)")
		}
		ttl, err := time.ParseDuration(s.TTL)
		switch {
		case err != nil || ttl < time.Hour:
			p.add(key+".ttl", s.TTL, "a Go duration of at least 1h, such as 720h (30 days)")
		case gap > 0 && ttl <= gap:
			p.add(key+".ttl", s.TTL, fmt.Sprintf("a TTL longer than the longest gap between runs (%s), or a backup expires before the next one exists", gap))
		}
		all := len(s.IncludedNamespaces) == 0
		for j, ns := range s.IncludedNamespaces {
			if ns == "*" {
				all = true
			} else if !dnsLabelRe.MatchString(ns) {
				p.add(fmt.Sprintf("%s.includedNamespaces[%d]", key, j), ns, `a namespace name or "*" for all`)
			}
		}
		for j, ns := range s.ExcludedNamespaces {
			if !dnsLabelRe.MatchString(ns) {
				p.add(fmt.Sprintf("%s.excludedNamespaces[%d]", key, j), ns, "a namespace name")
			}
		}
		if all && len(s.ExcludedNamespaces) == 0 && gap > 0 && gap <= ClusterStateRPO {
			meetsRPO = true
		}
	}
	if !meetsRPO {
		p.addf(k, fmt.Sprintf("%d schedules", len(b.Schedules)),
			"a schedule of every namespace (includedNamespaces [\"*\"], nothing excluded) that runs at least every %s: the cluster-state RPO", ClusterStateRPO)
	}
}

// validSubject accepts an RBAC user or group name as an authenticator would
// send it; the system: prefix is reserved for Kubernetes' own identities.
func validSubject(s string) bool {
	if s == "" || len(s) > 253 || strings.HasPrefix(s, "system:") {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func validateRBAC(p *problems, r *RBAC) {
	for _, set := range []struct {
		key string
		s   Subjects
	}{{"platform.rbac.developers", r.Developers}, {"platform.rbac.platformAdmins", r.PlatformAdmins}} {
		for _, list := range []struct {
			key   string
			names []string
		}{{set.key + ".groups", set.s.Groups}, {set.key + ".users", set.s.Users}} {
			seen := map[string]bool{}
			for i, n := range list.names {
				key := fmt.Sprintf("%s[%d]", list.key, i)
				switch {
				case !validSubject(n):
					p.add(key, n, "a group or user name as the authenticator sends it: no spaces, not a reserved system: name")
				case seen[n]:
					p.add(key, n, "a name not listed twice")
				}
				seen[n] = true
			}
		}
	}
	if len(r.PlatformAdmins.Groups)+len(r.PlatformAdmins.Users) == 0 {
		p.add("platform.rbac.platformAdmins", "{}", "at least one group or user that administers the cluster")
	}
}

func validateApps(p *problems, apps []AppNamespace) {
	seen := map[string]bool{}
	for i, a := range apps {
		key := fmt.Sprintf("platform.apps[%d]", i)
		switch {
		case !dnsLabelRe.MatchString(a.Name):
			p.add(key+".name", a.Name, "a lowercase DNS label such as shop")
		case slices.Contains(PlatformNamespaces, a.Name) || a.Name == "default" || strings.HasPrefix(a.Name, "kube-"):
			p.add(key+".name", a.Name, "a name that is not default, kube-* or a platform namespace ("+strings.Join(PlatformNamespaces, ", ")+")")
		case seen[a.Name]:
			p.add(key+".name", a.Name, "a namespace name not used by another app")
		}
		seen[a.Name] = true
		if !oneOf(a.PodSecurity, podSecurityLevels) {
			p.add(key+".podSecurity", a.PodSecurity, "a Pod Security level for workloads: "+list(podSecurityLevels))
		}
		validateQuota(p, key, &a.Quota, &a.Limits)
		for j, e := range a.Egress {
			ek := fmt.Sprintf("%s.egress[%d]", key, j)
			if !e.CIDR.IsValid() || e.CIDR.Masked() != e.CIDR {
				p.add(ek+".cidr", text(e.CIDR), "a CIDR with no host bits set, such as 10.100.0.0/16")
			}
			if len(e.Ports) == 0 {
				p.add(ek+".ports", "[]", "at least one TCP port")
			}
			for k, port := range e.Ports {
				if port < 1 || port > 65535 {
					p.addf(fmt.Sprintf("%s.ports[%d]", ek, k), port, "a TCP port from 1 to 65535")
				}
			}
		}
	}
}

// positiveQuantity parses a quantity that must be above zero, recording a
// problem otherwise; nil means it did not parse.
func positiveQuantity(p *problems, key, v string) *resource.Quantity {
	q, err := resource.ParseQuantity(v)
	if err != nil || q.Sign() <= 0 {
		p.add(key, v, "a positive Kubernetes quantity such as 500m, 2 or 4Gi")
		return nil
	}
	return &q
}

func validateQuota(p *problems, key string, q *Quota, l *LimitRange) {
	qk, lk := key+".quota.", key+".limits."
	reqCPU := positiveQuantity(p, qk+"requestsCpu", q.RequestsCPU)
	reqMem := positiveQuantity(p, qk+"requestsMemory", q.RequestsMemory)
	limCPU := positiveQuantity(p, qk+"limitsCpu", q.LimitsCPU)
	limMem := positiveQuantity(p, qk+"limitsMemory", q.LimitsMemory)
	positiveQuantity(p, qk+"requestsStorage", q.RequestsStorage)
	notAbove := func(key, v string, a, b *resource.Quantity, what string) {
		if a != nil && b != nil && a.Cmp(*b) > 0 {
			p.add(key, v, "at most "+what)
		}
	}
	notAbove(qk+"requestsCpu", q.RequestsCPU, reqCPU, limCPU, "limitsCpu ("+q.LimitsCPU+")")
	notAbove(qk+"requestsMemory", q.RequestsMemory, reqMem, limMem, "limitsMemory ("+q.LimitsMemory+")")
	if q.Pods < 1 {
		p.addf(qk+"pods", q.Pods, "at least 1 pod")
	}
	if q.PersistentVolumeClaims < 0 {
		p.addf(qk+"persistentVolumeClaims", q.PersistentVolumeClaims, "0 or more claims")
	}
	drCPU := positiveQuantity(p, lk+"defaultRequestCpu", l.DefaultRequestCPU)
	drMem := positiveQuantity(p, lk+"defaultRequestMemory", l.DefaultRequestMemory)
	dCPU := positiveQuantity(p, lk+"defaultCpu", l.DefaultCPU)
	dMem := positiveQuantity(p, lk+"defaultMemory", l.DefaultMemory)
	mCPU := positiveQuantity(p, lk+"maxCpu", l.MaxCPU)
	mMem := positiveQuantity(p, lk+"maxMemory", l.MaxMemory)
	notAbove(lk+"defaultRequestCpu", l.DefaultRequestCPU, drCPU, dCPU, "defaultCpu ("+l.DefaultCPU+")")
	notAbove(lk+"defaultRequestMemory", l.DefaultRequestMemory, drMem, dMem, "defaultMemory ("+l.DefaultMemory+")")
	notAbove(lk+"defaultCpu", l.DefaultCPU, dCPU, mCPU, "maxCpu ("+l.MaxCPU+")")
	notAbove(lk+"defaultMemory", l.DefaultMemory, dMem, mMem, "maxMemory ("+l.MaxMemory+")")
	notAbove(lk+"maxCpu", l.MaxCPU, mCPU, limCPU, "the namespace quota limitsCpu ("+q.LimitsCPU+")")
	notAbove(lk+"maxMemory", l.MaxMemory, mMem, limMem, "the namespace quota limitsMemory ("+q.LimitsMemory+")")
}

func validateIngress(p *problems, c *Config) {
	in := &c.Platform.Ingress
	const k = "platform.ingress."
	if in.Replicas < 2 || in.Replicas > 10 {
		p.addf(k+"replicas", in.Replicas, "2 to 10 controller replicas (one survives a node drain)")
	}
	switch c.ClusterKind() {
	case ClusterDOKS:
		if in.LoadBalancerIP.IsValid() {
			p.add(k+"loadBalancerIp", in.LoadBalancerIP.String(), `"" on DOKS: DigitalOcean assigns the load balancer address`)
		}
	case ClusterTalos:
		ip, onprem := in.LoadBalancerIP, c.Network.OnpremCidr
		taken := map[netip.Addr]bool{c.Talos.Vip: true, c.Talos.Gateway: true}
		for _, n := range c.Talos.Nodes {
			taken[n.IP] = true
		}
		switch {
		case !ip.Is4() || prefixProblem(onprem) != "" || !onprem.Contains(ip):
			p.add(k+"loadBalancerIp", text(ip), "a free IPv4 address inside network.onpremCidr ("+text(onprem)+") that Cilium announces for the ingress")
		case taken[ip]:
			p.add(k+"loadBalancerIp", ip.String(), "an address not used by a node, the control-plane VIP or the gateway")
		}
	}
	if len(in.CloudflareCidrs) == 0 {
		p.add(k+"cloudflareCidrs", "[]", "Cloudflare's published IP ranges (https://www.cloudflare.com/ips/)")
	}
	validateCidrList(p, k+"cloudflareCidrs", in.CloudflareCidrs)
}

// validateProbes checks that tunnel probe targets sit on the far side of the
// WireGuard tunnel: a target on the near side would stay green while the
// tunnel is down.
func validateProbes(p *problems, c *Config) {
	const k = "platform.probes."
	n := c.Network
	far := map[EnvKind][]netip.Prefix{
		KindDigitalOcean: {n.OnpremCidr, n.TunnelCidr, n.TalosPodCidr, n.TalosServiceCidr},
		KindOnprem:       {n.VpcCidr, n.TunnelCidr, n.DoksPodCidr, n.DoksServiceCidr},
	}[c.Kind]
	if len(c.Platform.Probes.Tunnel) == 0 {
		p.add(k+"tunnel", "[]", "at least one address across the WireGuard tunnel to probe")
	}
	for i, t := range c.Platform.Probes.Tunnel {
		key := fmt.Sprintf("%stunnel[%d]", k, i)
		host := t
		if h, port, err := net.SplitHostPort(t); err == nil {
			if !validPort(port) {
				p.add(key, t, "an IPv4 address (ICMP) or address:port (TCP connect)")
				continue
			}
			host = h
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is4() {
			p.add(key, t, "an IPv4 address (ICMP) or address:port (TCP connect)")
			continue
		}
		inFar := false
		for _, cidr := range far {
			if cidr.Contains(ip) {
				inFar = true
			}
		}
		if !inFar {
			p.add(key, t, "an address on the far side of the tunnel ("+joinPrefixes(far)+")")
		}
	}
	if len(c.Platform.Probes.Origins) == 0 {
		p.add(k+"origins", "[]", "at least one https URL of the failover origin")
	}
	for i, o := range c.Platform.Probes.Origins {
		u, err := url.Parse(o)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			p.add(fmt.Sprintf("%sorigins[%d]", k, i), o, "an https URL such as https://192.168.10.50/healthz")
		}
	}
}
