package config

import (
	"fmt"
	"net/netip"
	"path"
	"sort"
	"strings"
)

// validate checks every rule for the sections the stack reads and returns all
// problems, in a stable order.
func validate(c *Config) problems {
	var p problems
	validateNetwork(&p, c)
	if !validEmail(c.AlertEmail) {
		p.add("alertEmail", c.AlertEmail, "an email address such as ops@example.com")
	}
	switch c.Kind {
	case KindDigitalOcean:
		validateGateway(&p, &c.Gateway)
		validateDoks(&p, &c.Doks, c.Production)
		validateRegistry(&p, &c.Registry)
		validateDatabase(&p, &c.Database, c.Production)
		validateSpaces(&p, &c.Spaces)
		validateEdge(&p, &c.Edge)
		validateCloudflare(&p, c)
		validateDigitalOcean(&p, c)
		if c.CostBudgetUSD < 1 {
			p.addf("costBudgetUsd", c.CostBudgetUSD, "a positive monthly budget in USD, covering the stack at full autoscale")
		}
	case KindOnprem:
		validateTalos(&p, &c.Talos, c.Network)
		validateEtcdBackup(&p, c.Talos.EtcdBackup)
		validateStorage(&p, &c.Storage)
		validatePullSecret(&p, &c.PullSecret, c.Platform.Apps)
		if !stackRefRe.MatchString(c.ProdStackRef) {
			p.add("prodStackRef", c.ProdStackRef, "a fully qualified stack name organization/project/stack, such as organization/hybrid-platform/prod")
		}
	}
	validatePlatform(&p, c)
	return p
}

// AddressPlan returns the named ranges of the address plan in a fixed order.
// Validation has proved that they are IPv4, canonical, private and do not
// overlap.
func (n Network) AddressPlan() []NamedPrefix {
	return []NamedPrefix{
		{"vpcCidr", n.VpcCidr},
		{"doksPodCidr", n.DoksPodCidr},
		{"doksServiceCidr", n.DoksServiceCidr},
		{"tunnelCidr", n.TunnelCidr},
		{"onpremCidr", n.OnpremCidr},
		{"talosPodCidr", n.TalosPodCidr},
		{"talosServiceCidr", n.TalosServiceCidr},
	}
}

// NamedPrefix is one range of the address plan with its config key.
type NamedPrefix struct {
	Key    string
	Prefix netip.Prefix
}

func validateNetwork(p *problems, c *Config) {
	n := c.Network
	if !oneOf(n.Region, doRegions) {
		p.add("network.region", n.Region, "a DigitalOcean region: "+list(doRegions))
	}
	var ok []NamedPrefix
	for _, r := range n.AddressPlan() {
		if msg := prefixProblem(r.Prefix); msg != "" {
			p.add("network."+r.Key, text(r.Prefix), msg)
			continue
		}
		if !r.Prefix.Addr().IsPrivate() {
			p.add("network."+r.Key, r.Prefix.String(), "a private (RFC 1918) range")
			continue
		}
		ok = append(ok, r)
	}
	for i := range ok {
		for j := i + 1; j < len(ok); j++ {
			if ok[i].Prefix.Overlaps(ok[j].Prefix) {
				p.add("network."+ok[j].Key, ok[j].Prefix.String(),
					fmt.Sprintf("a range that does not overlap network.%s (%s)", ok[i].Key, ok[i].Prefix))
			}
		}
	}
	if vpc := n.VpcCidr; prefixProblem(vpc) == "" && (vpc.Bits() < 16 || vpc.Bits() > 28) {
		p.add("network.vpcCidr", vpc.String(), "a prefix between /16 and /28 (DigitalOcean VPC limits)")
	}
	if t := n.TunnelCidr; prefixProblem(t) == "" && t.Bits() > 30 {
		p.add("network.tunnelCidr", t.String(), "a prefix of /30 or larger: it holds the gateway and on-prem tunnel addresses")
	}
	if ip := n.OnpremPublicIP; !ip.Is4() || ip.IsPrivate() || ip.IsLoopback() || ip.IsUnspecified() {
		p.add("network.onpremPublicIp", text(ip), "the public IPv4 address of the on-prem WireGuard endpoint")
	}
	if n.WireguardPort < 1 || n.WireguardPort > 65535 {
		p.addf("network.wireguardPort", n.WireguardPort, "a UDP port from 1 to 65535 (WireGuard's default is 51820)")
	}
	if c.Kind == KindDigitalOcean && !validWireguardPublicKey(n.OnpremWireguardPublicKey) {
		p.add("network.onpremWireguardPublicKey", n.OnpremWireguardPublicKey, "the on-prem peer's base64 WireGuard public key (wg pubkey)")
	}
}

// validateCidrList refuses unset entries (""); each entry parsed at load.
func validateCidrList(p *problems, key string, cidrs []netip.Prefix) {
	for i, c := range cidrs {
		if !c.IsValid() {
			p.add(fmt.Sprintf("%s[%d]", key, i), "", "a CIDR such as 203.0.113.0/24")
		}
	}
}

func validateGateway(p *problems, g *Gateway) {
	if !dropletSizeRe.MatchString(g.Size) {
		p.add("gateway.size", g.Size, "a Droplet size slug such as s-1vcpu-1gb")
	}
	if !dnsLabelRe.MatchString(g.Image) {
		p.add("gateway.image", g.Image, "a Droplet image slug such as ubuntu-24-04-x64")
	}
	validateCidrList(p, "gateway.sshAllowedCidrs", g.SSHAllowedCidrs)
}

// validateDoks holds a production cluster to an HA control plane and its
// system and workload pools to the production floors; elsewhere one node
// will do.
func validateDoks(p *problems, d *Doks, production bool) {
	if !k8sMinorRe.MatchString(d.KubernetesMinor) {
		p.add("doks.kubernetesMinor", d.KubernetesMinor, "a Kubernetes minor line such as 1.35 (the program resolves its newest DOKS slug; doctl kubernetes options versions lists them)")
	}
	validateDayTime(p, "doks.maintenance", d.Maintenance, doksDays)
	validateCidrList(p, "doks.controlPlaneAllowedCidrs", d.ControlPlaneAllowedCidrs)
	if len(d.ControlPlaneAllowedCidrs) == 0 {
		p.add("doks.controlPlaneAllowedCidrs", "[]", "at least one CIDR allowed to reach the Kubernetes API")
	}
	if production && !d.HA {
		p.add("doks.ha", "false", "true in a production environment (an HA control plane; set production: false for a cheaper one)")
	}
	validatePool(p, "doks.systemPool", d.SystemPool, MinSystemPoolNodes(production))
	if d.SystemPool.Size != ProdSystemPoolSize {
		p.addf("doks.systemPool.size", d.SystemPool.Size, "%s, the size the cluster's default pool has (config.ProdSystemPoolSize): "+
			"a new size replaces the whole DOKS cluster; put workloads on doks.nodePool, whose size may change, "+
			"or follow docs/runbooks/resize-doks-pool.md, \"The system pool\"", ProdSystemPoolSize)
	}
	// Names at DigitalOcean: the system pool's own, each workload pool's
	// CloudName; node names are built on them, so each is a DNS label.
	seen := map[string]bool{d.SystemPool.Name: true}
	workload := func(key string, pool NodePool, floor int) {
		validatePool(p, key, pool, floor)
		cloud := pool.CloudName()
		switch {
		case seen[pool.Name] || seen[cloud]:
			p.add(key+".name", pool.Name, "a node pool name not used by another pool")
		case dnsLabelRe.MatchString(pool.Name) && !dnsLabelRe.MatchString(cloud):
			p.addf(key+".name", pool.Name, "a shorter name: the pool is named NAME-SIZE at DigitalOcean (%q), a DNS label of at most 63 characters", cloud)
		}
		seen[pool.Name], seen[cloud] = true, true
	}
	workload("doks.nodePool", d.NodePool, MinWorkloadPoolNodes(production))
	for i, pool := range d.ExtraPools {
		workload(fmt.Sprintf("doks.extraPools[%d]", i), pool, MinPoolNodes)
	}
}

func validatePool(p *problems, key string, np NodePool, floor int) {
	if !dnsLabelRe.MatchString(np.Name) {
		p.add(key+".name", np.Name, "a lowercase DNS label such as default-pool")
	}
	if !dropletSizeRe.MatchString(np.Size) {
		p.add(key+".size", np.Size, "a Droplet size slug such as s-4vcpu-8gb")
	}
	if np.MinNodes < floor {
		p.addf(key+".minNodes", np.MinNodes, "at least %d", floor)
	}
	if np.MaxNodes < np.MinNodes {
		p.addf(key+".maxNodes", np.MaxNodes, "at least minNodes (%d)", np.MinNodes)
	}
	if np.MaxNodes > MaxPoolNodes {
		p.addf(key+".maxNodes", np.MaxNodes, "at most %d nodes per pool (config.MaxPoolNodes: cost and blast radius, under DigitalOcean's default Droplet limit)", MaxPoolNodes)
	}
}

func validateDayTime(p *problems, key string, dt DayTime, days []string) {
	if !oneOf(dt.Day, days) {
		p.add(key+".day", dt.Day, list(days))
	}
	if !hhmmRe.MatchString(dt.StartTime) {
		p.add(key+".startTime", dt.StartTime, "a UTC time HH:MM such as 04:00")
	}
}

func validateRegistry(p *problems, r *Registry) {
	if !dnsLabelRe.MatchString(r.Name) {
		p.add("registry.name", r.Name, "a lowercase DNS label, unique across DigitalOcean")
	}
	if !oneOf(r.Tier, registryTiers) {
		p.add("registry.tier", r.Tier, list(registryTiers))
	}
	if !oneOf(r.Region, registryRegions) {
		p.add("registry.region", r.Region, "a container registry region: "+list(registryRegions))
	}
}

// validateDatabase holds a production database to a standby.
func validateDatabase(p *problems, d *Database, production bool) {
	if !oneOf(d.Version, pgVersions) {
		p.add("database.version", d.Version, "a PostgreSQL major version: "+list(pgVersions))
	}
	if !dbSizeRe.MatchString(d.Size) {
		p.add("database.size", d.Size, "a managed database size slug such as db-s-2vcpu-4gb")
	}
	if lo := MinDatabaseNodes(production); d.NodeCount < lo || d.NodeCount > MaxDatabaseNodes {
		why := "a single node outside production"
		if production {
			why = "a production environment needs a standby for HA; set production: false for a single node"
		}
		p.addf("database.nodeCount", d.NodeCount, "%d to %d nodes (%s)", lo, MaxDatabaseNodes, why)
	}
	validateDayTime(p, "database.maintenance", d.Maintenance, dbDays)
	if !identRe.MatchString(d.DBName) {
		p.add("database.dbName", d.DBName, "a lowercase SQL identifier such as app")
	}
	if !identRe.MatchString(d.User) || d.User == "doadmin" {
		p.add("database.user", d.User, "a lowercase SQL identifier other than doadmin")
	}
	if !oneOf(d.PoolMode, poolModes) {
		p.add("database.poolMode", d.PoolMode, list(poolModes))
	}
	if d.PoolSize < 1 || d.PoolSize > 500 {
		p.addf("database.poolSize", d.PoolSize, "a connection pool size from 1 to 500")
	}
}

func validateSpaces(p *problems, s *Spaces) {
	if !oneOf(s.Region, spacesRegions) {
		p.add("spaces.region", s.Region, "a Spaces region: "+list(spacesRegions))
	}
	seen := map[string]string{}
	for _, b := range []struct{ key, name string }{
		{"spaces.appBucket", s.AppBucket}, {"spaces.backupsBucket", s.BackupsBucket}, {"spaces.logsBucket", s.LogsBucket},
	} {
		if !bucketRe.MatchString(b.name) || strings.Contains(b.name, "--") {
			p.add(b.key, b.name, "a bucket name of 3 to 63 lowercase letters, digits and single hyphens")
		}
		if other, dup := seen[b.name]; dup {
			p.add(b.key, b.name, "a bucket name different from "+other)
		}
		seen[b.name] = b.key
	}
	if s.NoncurrentVersionDays < 1 {
		p.addf("spaces.noncurrentVersionDays", s.NoncurrentVersionDays, "at least 1 day")
	}
	if s.AbortIncompleteUploadDays < 1 {
		p.addf("spaces.abortIncompleteUploadDays", s.AbortIncompleteUploadDays, "at least 1 day")
	}
}

func validateTalos(p *problems, t *Talos, n Network) {
	onprem, onpremOK := n.OnpremCidr, prefixProblem(n.OnpremCidr) == ""
	inOnprem := func(a netip.Addr) bool { return onpremOK && onprem.Contains(a) }
	if !dnsLabelRe.MatchString(t.ClusterName) {
		p.add("talos.clusterName", t.ClusterName, "a lowercase DNS label such as onprem")
	}
	if !talosVersionRe.MatchString(t.TalosVersion) {
		p.add("talos.talosVersion", t.TalosVersion, "a Talos release such as v1.12.11")
	}
	if !k8sVersionRe.MatchString(t.KubernetesVersion) {
		p.add("talos.kubernetesVersion", t.KubernetesVersion, "a Kubernetes version such as 1.35.4")
	}
	validateTalosKubernetes(p, t)
	if !imageRefRe.MatchString(t.InstallImage) {
		p.add("talos.installImage", t.InstallImage, "a pinned installer image reference such as ghcr.io/siderolabs/installer:v1.12.11")
	} else if !strings.Contains(t.InstallImage, "@") && !strings.HasSuffix(t.InstallImage, ":"+t.TalosVersion) {
		p.add("talos.installImage", t.InstallImage, "an installer tagged with talos.talosVersion ("+t.TalosVersion+") or pinned by digest: a different tag installs another Talos release")
	}
	lan := t.LanCidr
	lanMsg := prefixProblem(lan)
	lanOK := lanMsg == ""
	switch {
	case !lanOK:
		p.add("talos.lanCidr", text(lan), lanMsg)
	case onpremOK && (!onprem.Contains(lan.Addr()) || lan.Bits() < onprem.Bits()):
		p.add("talos.lanCidr", lan.String(), "the nodes' layer-2 segment, inside network.onpremCidr ("+onprem.String()+")")
		lanOK = false
	}
	// Without a usable lanCidr, addresses are only checked against onpremCidr.
	inLan := func(a netip.Addr) bool { return !lanOK || lan.Contains(a) }
	vip := t.Vip
	switch {
	case !inOnprem(vip):
		p.add("talos.vip", text(vip), "an IPv4 address inside network.onpremCidr ("+text(onprem)+")")
	case !inLan(vip):
		p.add("talos.vip", vip.String(), "an address inside talos.lanCidr ("+lan.String()+"): the VIP moves between control-plane nodes on one layer-2 segment")
	}
	if gw := t.Gateway; !inOnprem(gw) || !inLan(gw) {
		p.add("talos.gateway", text(gw), "the on-prem default gateway, an IPv4 address inside talos.lanCidr ("+text(lan)+")")
	}
	for i, ns := range t.Nameservers {
		if !ns.IsValid() {
			p.add(fmt.Sprintf("talos.nameservers[%d]", i), "", "an IP address")
		}
	}
	controlPlanes := 0
	names, ips := map[string]bool{}, map[netip.Addr]bool{}
	for i, node := range t.Nodes {
		key := fmt.Sprintf("talos.nodes[%d]", i)
		if !validHostname(node.Name) || strings.Contains(node.Name, ".") {
			p.add(key+".name", node.Name, "a hostname (one lowercase DNS label)")
		} else if names[node.Name] {
			p.add(key+".name", node.Name, "a node name not used by another node")
		}
		names[node.Name] = true
		ip := node.IP
		switch {
		case !ip.Is4():
			p.add(key+".ip", text(ip), "an IPv4 address")
		case !inOnprem(ip):
			p.add(key+".ip", ip.String(), "an address inside network.onpremCidr ("+text(onprem)+")")
		case !inLan(ip):
			p.add(key+".ip", ip.String(), "an address inside talos.lanCidr ("+lan.String()+"), the segment the VIP and the gateway are on")
		case ips[ip]:
			p.add(key+".ip", ip.String(), "an address not used by another node")
		case ip == vip:
			p.add(key+".ip", ip.String(), "an address other than talos.vip, which floats between control-plane nodes")
		}
		ips[ip] = true
		switch node.Role {
		case RoleControlPlane:
			controlPlanes++
		case RoleWorker:
		default:
			p.add(key+".role", node.Role, list([]string{RoleControlPlane, RoleWorker}))
		}
		if !diskRe.MatchString(node.InstallDisk) {
			p.add(key+".installDisk", node.InstallDisk, "a disk device path such as /dev/sda or /dev/nvme0n1")
		}
		if node.Interface == "" || !dnsLabelRe.MatchString(node.Interface) {
			p.add(key+".interface", node.Interface, "a network interface name such as eth0 or enp1s0")
		}
		validateLabels(p, key+".labels", node.Labels)
	}
	switch {
	case controlPlanes < MinControlPlaneNodes:
		p.addf("talos.nodes", fmt.Sprintf("%d control-plane nodes", controlPlanes), "at least %d nodes with role controlplane: an etcd of %d members survives the loss of one, fewer survive none", MinControlPlaneNodes, MinControlPlaneNodes)
	case controlPlanes%2 == 0:
		p.addf("talos.nodes", fmt.Sprintf("%d control-plane nodes", controlPlanes), "an odd number of control-plane nodes (%d, %d, ...) so that etcd keeps quorum", MinControlPlaneNodes, MinControlPlaneNodes+2)
	}
	validateDecommissioned(p, t, names)
	if !names[t.WireguardNode] {
		p.add("talos.wireguardNode", t.WireguardNode, "the name of one of talos.nodes: the node that carries the wg0 tunnel")
	}
	if t.IngressAddress != "" {
		ip, err := netip.ParseAddr(t.IngressAddress)
		if (err == nil && !publicIPv4(ip)) || (err != nil && !validHostname(t.IngressAddress)) {
			p.add("talos.ingressAddress", t.IngressAddress, "a public IPv4 address or hostname that Cloudflare can reach (empty means network.onpremPublicIp)")
		}
	}
}

// publicIPv4 reports whether a is a globally routable IPv4 address.
func publicIPv4(a netip.Addr) bool {
	return a.Is4() && !a.IsPrivate() && !a.IsLoopback() && !a.IsUnspecified() && !a.IsLinkLocalUnicast() && !a.IsMulticast()
}

// validateLabels checks Kubernetes label keys ([prefix/]name) and values.
func validateLabels(p *problems, key string, labels map[string]string) {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, prefix := k, ""
		if i := strings.LastIndex(k, "/"); i >= 0 {
			prefix, name = k[:i], k[i+1:]
		}
		if (strings.Contains(k, "/") && !validHostname(prefix)) || !labelValueRe.MatchString(name) || name == "" {
			p.add(key, k, "a label key [prefix/]name: a DNS subdomain prefix and a name of up to 63 letters, digits, '-', '_' or '.'")
		}
		if !labelValueRe.MatchString(labels[k]) {
			p.add(key+"."+k, labels[k], "a label value of up to 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric")
		}
	}
}

func validatePullSecret(p *problems, s *PullSecret, apps []AppNamespace) {
	var appNames []string
	for _, a := range apps {
		appNames = append(appNames, a.Name)
	}
	if !validHostname(s.Name) {
		p.add("pullSecret.name", s.Name, "a Secret name: a lowercase DNS subdomain such as do-registry")
	}
	if len(s.Namespaces) == 0 {
		p.add("pullSecret.namespaces", "[]", "at least one namespace to hold the registry pull secret")
	}
	seen := map[string]bool{}
	for i, ns := range s.Namespaces {
		key := fmt.Sprintf("pullSecret.namespaces[%d]", i)
		switch {
		case !dnsLabelRe.MatchString(ns):
			p.add(key, ns, "a namespace name: a lowercase DNS label")
		case ns == "default" || strings.HasPrefix(ns, "kube-"):
			p.add(key, ns, "a namespace this stack creates: default and kube-* already exist")
		case seen[ns]:
			p.add(key, ns, "a namespace not listed twice")
		case !oneOf(ns, appNames):
			p.add(key, ns, "an application namespace of platform.apps ("+strings.Join(appNames, ", ")+"): the platform baseline creates it with its quota and default deny")
		}
		seen[ns] = true
	}
}

func validateStorage(p *problems, s *Storage) {
	if !path.IsAbs(s.LocalPath) || path.Clean(s.LocalPath) != s.LocalPath || !strings.HasPrefix(s.LocalPath, "/var/") {
		p.add("storage.localPath", s.LocalPath, "an absolute, clean path under /var (Talos mounts user volumes there), such as /var/mnt/local-ssd")
	}
	if _, err := netip.ParseAddr(s.NFSServer); err != nil && !validHostname(s.NFSServer) {
		p.add("storage.nfsServer", s.NFSServer, "the NFS server's IP address or hostname")
	}
	if !path.IsAbs(s.NFSPath) {
		p.add("storage.nfsPath", s.NFSPath, "the absolute export path on the NFS server, such as /export/k8s")
	}
	if s.Ceph {
		p.add("storage.ceph", "true", "false: Ceph (Rook) is not built by this program yet; use the NFS class for shared storage")
	}
}
