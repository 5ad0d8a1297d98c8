package tests

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/plan"
)

// badConfig is one broken setting and the problem it must produce.
type badConfig struct {
	name   string
	stack  string
	key    string // config object to change
	mutate func(m map[string]any)
	set    map[string]string // whole-value overrides instead of mutate
	secret map[string]string // secret overrides
	// wantKey is the key path the problem must name (without the project
	// prefix) and wantValue the offending value, both exactly; wantAllowed,
	// when set, is a fragment of what the problem says is allowed, for
	// checks of one key that differ only in their reason.
	wantKey, wantValue, wantAllowed string
}

func field(path string, v any) func(map[string]any) {
	return func(m map[string]any) {
		parts := strings.Split(path, ".")
		cur := m
		for _, p := range parts[:len(parts)-1] {
			cur = cur[p].(map[string]any)
		}
		cur[parts[len(parts)-1]] = v
	}
}

// at sets a value by a dotted path in which numbers index lists:
// at("apps.0.quota.requestsCpu", "lots").
func at(path string, v any) func(map[string]any) {
	return func(m map[string]any) {
		parts := strings.Split(path, ".")
		var cur any = m
		for _, p := range parts[:len(parts)-1] {
			if i, err := strconv.Atoi(p); err == nil {
				cur = cur.([]any)[i]
			} else {
				cur = cur.(map[string]any)[p]
			}
		}
		last := parts[len(parts)-1]
		if i, err := strconv.Atoi(last); err == nil {
			cur.([]any)[i] = v
			return
		}
		cur.(map[string]any)[last] = v
	}
}

func node(i int, k string, v any) func(map[string]any) {
	return func(m map[string]any) {
		m["nodes"].([]any)[i].(map[string]any)[k] = v
	}
}

var badConfigs = []badConfig{
	// network (address plan)
	{name: "unknown region", stack: "prod", key: "network", mutate: field("region", "mars1"), wantKey: "network.region", wantValue: "mars1"},
	{name: "cidr does not parse", stack: "prod", key: "network", mutate: field("vpcCidr", "10.100.0.0/33"), wantKey: "network.vpcCidr", wantValue: "10.100.0.0/33"},
	{name: "cidr has host bits", stack: "prod", key: "network", mutate: field("doksPodCidr", "10.244.0.1/16"), wantKey: "network.doksPodCidr", wantValue: "10.244.0.1/16"},
	{name: "public range", stack: "onprem", key: "network", mutate: field("onpremCidr", "8.8.0.0/16"), wantKey: "network.onpremCidr", wantValue: "8.8.0.0/16"},
	{name: "talos default service subnet overlaps the VPC", stack: "onprem", key: "network", mutate: field("talosServiceCidr", "10.96.0.0/12"), wantKey: "network.talosServiceCidr", wantValue: "10.96.0.0/12"},
	{name: "doks service subnet overlaps doks pods", stack: "prod", key: "network", mutate: field("doksServiceCidr", "10.244.128.0/17"), wantKey: "network.doksServiceCidr", wantValue: "10.244.128.0/17"},
	{name: "tunnel overlaps on-prem", stack: "prod", key: "network", mutate: field("tunnelCidr", "192.168.250.0/30"), wantKey: "network.onpremCidr", wantValue: "192.168.0.0/16", wantAllowed: "network.tunnelCidr (192.168.250.0/30)"},
	{name: "vpc too small", stack: "prod", key: "network", mutate: field("vpcCidr", "10.100.0.0/29"), wantKey: "network.vpcCidr", wantValue: "10.100.0.0/29"},
	{name: "tunnel too small", stack: "prod", key: "network", mutate: field("tunnelCidr", "10.250.0.0/31"), wantKey: "network.tunnelCidr", wantValue: "10.250.0.0/31"},
	{name: "on-prem public ip is private", stack: "prod", key: "network", mutate: field("onpremPublicIp", "192.168.1.1"), wantKey: "network.onpremPublicIp", wantValue: "192.168.1.1"},
	{name: "on-prem public ip malformed", stack: "onprem", key: "network", mutate: field("onpremPublicIp", "203.0.113"), wantKey: "network.onpremPublicIp", wantValue: "203.0.113"},
	{name: "wireguard port out of range", stack: "prod", key: "network", mutate: field("wireguardPort", 70000), wantKey: "network.wireguardPort", wantValue: "70000"},
	{name: "on-prem public key malformed", stack: "prod", key: "network", mutate: field("onpremWireguardPublicKey", "not-a-key"), wantKey: "network.onpremWireguardPublicKey", wantValue: "not-a-key"},
	{name: "misspelt field", stack: "prod", key: "network", mutate: field("vpcRange", "10.0.0.0/16"), wantKey: "network.vpcRange", wantValue: "10.0.0.0/16", wantAllowed: "a field of network: region, vpcCidr"},
	{name: "port given as text", stack: "prod", key: "network", mutate: field("wireguardPort", "51820"), wantKey: "network.wireguardPort", wantValue: "51820", wantAllowed: "a whole number"},
	{name: "address plan range given as a number", stack: "onprem", key: "network", mutate: field("tunnelCidr", 10), wantKey: "network.tunnelCidr", wantValue: "10", wantAllowed: "a string: a CIDR"},
	{name: "alert email malformed", stack: "prod", set: map[string]string{"alertEmail": "oncall@"}, wantKey: "alertEmail", wantValue: "oncall@"},
	{name: "alert email without domain dot", stack: "onprem", set: map[string]string{"alertEmail": "Ops <ops@example.com>"}, wantKey: "alertEmail", wantValue: "Ops <ops@example.com>"},
	// gateway
	{name: "gateway size unknown", stack: "prod", key: "gateway", mutate: field("size", "huge"), wantKey: "gateway.size", wantValue: "huge"},
	{name: "gateway image malformed", stack: "prod", key: "gateway", mutate: field("image", "Ubuntu 24.04"), wantKey: "gateway.image", wantValue: "Ubuntu 24.04"},
	{name: "gateway ssh cidr malformed", stack: "prod", key: "gateway", mutate: field("sshAllowedCidrs", []any{"0.0.0.0"}), wantKey: "gateway.sshAllowedCidrs[0]", wantValue: "0.0.0.0"},
	// doks
	{name: "doks minor given as a slug", stack: "prod", key: "doks", mutate: field("kubernetesMinor", "1.35.4-do.0"), wantKey: "doks.kubernetesMinor", wantValue: "1.35.4-do.0"},
	{name: "doks minor missing", stack: "prod", key: "doks", mutate: field("kubernetesMinor", ""), wantKey: "doks.kubernetesMinor", wantValue: ""},
	{name: "doks maintenance day", stack: "prod", key: "doks", mutate: field("maintenance.day", "someday"), wantKey: "doks.maintenance.day", wantValue: "someday"},
	{name: "doks maintenance time", stack: "prod", key: "doks", mutate: field("maintenance.startTime", "25:00"), wantKey: "doks.maintenance.startTime", wantValue: "25:00"},
	{name: "doks control plane cidr malformed", stack: "prod", key: "doks", mutate: field("controlPlaneAllowedCidrs", []any{"office"}), wantKey: "doks.controlPlaneAllowedCidrs[0]", wantValue: "office"},
	{name: "doks control plane open to nobody", stack: "prod", key: "doks", mutate: field("controlPlaneAllowedCidrs", []any{}), wantKey: "doks.controlPlaneAllowedCidrs", wantValue: "[]"},
	{name: "pool name malformed", stack: "prod", key: "doks", mutate: field("nodePool.name", "Default Pool"), wantKey: "doks.nodePool.name", wantValue: "Default Pool"},
	{name: "pool size unknown", stack: "prod", key: "doks", mutate: field("nodePool.size", "s-4vcpu"), wantKey: "doks.nodePool.size", wantValue: "s-4vcpu"},
	{name: "prod pool below 3 nodes", stack: "prod", key: "doks", mutate: field("nodePool.minNodes", 2), wantKey: "doks.nodePool.minNodes", wantValue: "2"},
	{name: "min nodes above max nodes", stack: "prod", key: "doks", mutate: field("nodePool.maxNodes", 2), wantKey: "doks.nodePool.maxNodes", wantValue: "2"},
	{name: "max nodes above 100", stack: "prod", key: "doks", mutate: field("nodePool.maxNodes", 101), wantKey: "doks.nodePool.maxNodes", wantValue: "101"},
	{name: "extra pool reuses a name", stack: "prod", key: "doks", mutate: field("extraPools", []any{map[string]any{"name": "default", "size": "s-2vcpu-4gb", "minNodes": 1, "maxNodes": 2}}), wantKey: "doks.extraPools[0].name", wantValue: "default"},
	{name: "extra pool min above max", stack: "prod", key: "doks", mutate: field("extraPools", []any{map[string]any{"name": "batch", "size": "s-2vcpu-4gb", "minNodes": 3, "maxNodes": 1}}), wantKey: "doks.extraPools[0].maxNodes", wantValue: "1"},
	// The system pool's size replaces the cluster: refused, with the procedure.
	{name: "system pool resized", stack: "prod", key: "doks", mutate: field("systemPool.size", "s-8vcpu-16gb"), wantKey: "doks.systemPool.size", wantValue: "s-8vcpu-16gb", wantAllowed: "docs/runbooks/resize-doks-pool.md"},
	{name: "prod system pool below 2 nodes", stack: "prod", key: "doks", mutate: field("systemPool.minNodes", 1), wantKey: "doks.systemPool.minNodes", wantValue: "1"},
	{name: "workload pool named like the system pool", stack: "prod", key: "doks", mutate: field("nodePool.name", "default"), wantKey: "doks.nodePool.name", wantValue: "default"},
	{name: "workload pool name too long with its size", stack: "prod", key: "doks", mutate: field("nodePool.name", strings.Repeat("w", 60)), wantKey: "doks.nodePool.name", wantValue: strings.Repeat("w", 60), wantAllowed: "DNS label"},
	// registry
	{name: "registry name malformed", stack: "prod", key: "registry", mutate: field("name", "My_Registry"), wantKey: "registry.name", wantValue: "My_Registry"},
	{name: "registry tier unknown", stack: "prod", key: "registry", mutate: field("tier", "gold"), wantKey: "registry.tier", wantValue: "gold"},
	{name: "registry region unsupported", stack: "prod", key: "registry", mutate: field("region", "tor1"), wantKey: "registry.region", wantValue: "tor1"},
	// database
	{name: "db version unknown", stack: "prod", key: "database", mutate: field("version", "9.6"), wantKey: "database.version", wantValue: "9.6"},
	{name: "db size unknown", stack: "prod", key: "database", mutate: field("size", "s-2vcpu-4gb"), wantKey: "database.size", wantValue: "s-2vcpu-4gb"},
	{name: "prod db with one node", stack: "prod", key: "database", mutate: field("nodeCount", 1), wantKey: "database.nodeCount", wantValue: "1"},
	{name: "db maintenance day any", stack: "prod", key: "database", mutate: field("maintenance.day", "any"), wantKey: "database.maintenance.day", wantValue: "any"},
	{name: "db backup hour", stack: "prod", key: "database", mutate: field("backupHour", 24), wantKey: "database.backupHour", wantValue: "24"},
	{name: "db name malformed", stack: "prod", key: "database", mutate: field("dbName", "App-DB"), wantKey: "database.dbName", wantValue: "App-DB"},
	{name: "db user is the admin", stack: "prod", key: "database", mutate: field("user", "doadmin"), wantKey: "database.user", wantValue: "doadmin"},
	{name: "db pool mode", stack: "prod", key: "database", mutate: field("poolMode", "pooled"), wantKey: "database.poolMode", wantValue: "pooled"},
	{name: "db pool size", stack: "prod", key: "database", mutate: field("poolSize", 0), wantKey: "database.poolSize", wantValue: "0"},
	// spaces
	{name: "spaces region", stack: "prod", key: "spaces", mutate: field("region", "nyc1"), wantKey: "spaces.region", wantValue: "nyc1"},
	{name: "bucket name malformed", stack: "prod", key: "spaces", mutate: field("appBucket", "App_Files"), wantKey: "spaces.appBucket", wantValue: "App_Files"},
	{name: "bucket names collide", stack: "prod", key: "spaces", mutate: field("logsBucket", "hybrid-platform-prod-backups"), wantKey: "spaces.logsBucket", wantValue: "hybrid-platform-prod-backups"},
	{name: "noncurrent version expiry", stack: "prod", key: "spaces", mutate: field("noncurrentVersionDays", 0), wantKey: "spaces.noncurrentVersionDays", wantValue: "0"},
	{name: "abort incomplete uploads", stack: "prod", key: "spaces", mutate: field("abortIncompleteUploadDays", -1), wantKey: "spaces.abortIncompleteUploadDays", wantValue: "-1"},
	// talos
	{name: "talos cluster name", stack: "onprem", key: "talos", mutate: field("clusterName", "On Prem"), wantKey: "talos.clusterName", wantValue: "On Prem"},
	{name: "talos version malformed", stack: "onprem", key: "talos", mutate: field("talosVersion", "1.10"), wantKey: "talos.talosVersion", wantValue: "1.10"},
	{name: "kubernetes version malformed", stack: "onprem", key: "talos", mutate: field("kubernetesVersion", "v1.33"), wantKey: "talos.kubernetesVersion", wantValue: "v1.33"},
	{name: "install image unpinned", stack: "onprem", key: "talos", mutate: field("installImage", "ghcr.io/siderolabs/installer"), wantKey: "talos.installImage", wantValue: "ghcr.io/siderolabs/installer"},
	{name: "vip outside on-prem network", stack: "onprem", key: "talos", mutate: field("vip", "10.0.0.10"), wantKey: "talos.vip", wantValue: "10.0.0.10"},
	{name: "gateway outside on-prem network", stack: "onprem", key: "talos", mutate: field("gateway", "172.16.0.1"), wantKey: "talos.gateway", wantValue: "172.16.0.1"},
	{name: "nameserver malformed", stack: "onprem", key: "talos", mutate: field("nameservers", []any{"dns.local"}), wantKey: "talos.nameservers[0]", wantValue: "dns.local"},
	{name: "node name malformed", stack: "onprem", key: "talos", mutate: node(0, "name", "CP_1"), wantKey: "talos.nodes[0].name", wantValue: "CP_1"},
	{name: "duplicate node name", stack: "onprem", key: "talos", mutate: node(1, "name", "cp-1"), wantKey: "talos.nodes[1].name", wantValue: "cp-1"},
	{name: "node ip malformed", stack: "onprem", key: "talos", mutate: node(3, "ip", "192.168.10"), wantKey: "talos.nodes[3].ip", wantValue: "192.168.10"},
	{name: "node outside on-prem network", stack: "onprem", key: "talos", mutate: node(3, "ip", "10.1.0.21"), wantKey: "talos.nodes[3].ip", wantValue: "10.1.0.21"},
	{name: "duplicate node ip", stack: "onprem", key: "talos", mutate: node(4, "ip", "192.168.10.21"), wantKey: "talos.nodes[4].ip", wantValue: "192.168.10.21"},
	{name: "node takes the vip", stack: "onprem", key: "talos", mutate: node(4, "ip", "192.168.10.10"), wantKey: "talos.nodes[4].ip", wantValue: "192.168.10.10"},
	{name: "node role unknown", stack: "onprem", key: "talos", mutate: node(4, "role", "master"), wantKey: "talos.nodes[4].role", wantValue: "master"},
	{name: "install disk malformed", stack: "onprem", key: "talos", mutate: node(0, "installDisk", "sda"), wantKey: "talos.nodes[0].installDisk", wantValue: "sda"},
	{name: "interface missing", stack: "onprem", key: "talos", mutate: node(0, "interface", ""), wantKey: "talos.nodes[0].interface", wantValue: ""},
	{name: "no control-plane node", stack: "onprem", key: "talos", mutate: func(m map[string]any) {
		for _, n := range m["nodes"].([]any) {
			n.(map[string]any)["role"] = "worker"
		}
	}, wantKey: "talos.nodes", wantValue: "0 control-plane nodes"},
	// MinControlPlaneNodes: one control plane is odd, and still refused.
	{name: "one control-plane node", stack: "onprem", key: "talos", mutate: func(m map[string]any) {
		node(1, "role", "worker")(m)
		node(2, "role", "worker")(m)
	}, wantKey: "talos.nodes", wantValue: "1 control-plane nodes", wantAllowed: "at least 3 nodes with role controlplane"},
	{name: "decommissioned node still active", stack: "onprem", key: "talos", mutate: field("decommissioned", []any{"worker-2"}),
		wantKey: "talos.decommissioned[0]", wantValue: "worker-2", wantAllowed: "no longer in talos.nodes"},
	{name: "decommissioned name malformed", stack: "onprem", key: "talos", mutate: field("decommissioned", []any{"Worker_3"}),
		wantKey: "talos.decommissioned[0]", wantValue: "Worker_3"},
	{name: "decommissioned name twice", stack: "onprem", key: "talos", mutate: field("decommissioned", []any{"worker-3", "worker-3"}),
		wantKey: "talos.decommissioned[1]", wantValue: "worker-3", wantAllowed: "listed once"},
	{name: "even number of control-plane nodes", stack: "onprem", key: "talos", mutate: node(3, "role", "controlplane"), wantKey: "talos.nodes", wantValue: "4 control-plane nodes"},
	// edge (Cloudflare failover)
	{name: "edge zone malformed", stack: "prod", key: "edge", mutate: field("zone", "example"), wantKey: "edge.zone", wantValue: "example"},
	{name: "edge hostname outside zone", stack: "prod", key: "edge", mutate: field("hostname", "app.example.org"), wantKey: "edge.hostname", wantValue: "app.example.org"},
	{name: "record shadows the load balancer", stack: "prod", key: "edge", mutate: field("records", []any{map[string]any{"name": "app.example.com", "type": "CNAME", "content": "origin.example.com"}}), wantKey: "edge.records[0].name", wantValue: "app.example.com"},
	{name: "record outside zone", stack: "prod", key: "edge", mutate: field("records", []any{map[string]any{"name": "www.example.org", "type": "CNAME", "content": "app.example.com"}}), wantKey: "edge.records[0].name", wantValue: "www.example.org"},
	{name: "record type unsupported", stack: "prod", key: "edge", mutate: field("records", []any{map[string]any{"name": "www.example.com", "type": "MX", "content": "mail.example.com"}}), wantKey: "edge.records[0].type", wantValue: "MX"},
	{name: "A record to a private address", stack: "prod", key: "edge", mutate: field("records", []any{map[string]any{"name": "www.example.com", "type": "A", "content": "10.0.0.5"}}), wantKey: "edge.records[0].content", wantValue: "10.0.0.5"},
	{name: "monitor path relative", stack: "prod", key: "edge", mutate: field("monitor.path", "healthz"), wantKey: "edge.monitor.path", wantValue: "healthz"},
	{name: "monitor expected codes", stack: "prod", key: "edge", mutate: field("monitor.expectedCodes", "ok"), wantKey: "edge.monitor.expectedCodes", wantValue: "ok"},
	{name: "monitor interval below range", stack: "prod", key: "edge", mutate: field("monitor.interval", 5), wantKey: "edge.monitor.interval", wantValue: "5", wantAllowed: "10 to 3600 seconds"},
	{name: "monitor timeout above range", stack: "prod", key: "edge", mutate: field("monitor.timeout", 11), wantKey: "edge.monitor.timeout", wantValue: "11"},
	// checked: terraform-provider-cloudflare v4.51.0 schema comment, interval > (retries+1) x timeout
	{name: "monitor tries outlast the interval", stack: "prod", key: "edge", mutate: func(m map[string]any) {
		field("monitor.interval", 60)(m)
		field("monitor.timeout", 10)(m)
		field("monitor.retries", 5)(m)
	}, wantKey: "edge.monitor.interval", wantValue: "60", wantAllowed: "more than (retries+1) x timeout = 60 s"},
	// issue 15 item 2: the provider rejects retries 0 (IntBetween(1, 5))
	{name: "monitor retries zero", stack: "prod", key: "edge", mutate: field("monitor.retries", 0), wantKey: "edge.monitor.retries", wantValue: "0", wantAllowed: "1 to 5"},
	{name: "zone plan unknown", stack: "prod", key: "edge", mutate: field("zonePlan", "free"), wantKey: "edge.zonePlan", wantValue: "free"},
	{name: "interval below the pro minimum", stack: "prod", key: "edge", mutate: field("monitor.interval", 30), wantKey: "edge.monitor.interval", wantValue: "30", wantAllowed: "at least 60 s on the pro plan"},
	{name: "interval below the business minimum", stack: "prod", key: "edge", mutate: func(m map[string]any) {
		field("zonePlan", "business")(m)
		field("monitor.interval", 14)(m)
	}, wantKey: "edge.monitor.interval", wantValue: "14", wantAllowed: "at least 15 s on the business plan"},
	{name: "ALL_REGIONS without enterprise", stack: "prod", key: "edge", mutate: field("checkRegions", []any{"ALL_REGIONS"}), wantKey: "edge.checkRegions", wantValue: "ALL_REGIONS", wantAllowed: "needs the enterprise plan"},
	{name: "even number of check regions", stack: "prod", key: "edge", mutate: field("checkRegions", []any{"ENAM", "WNAM"}), wantKey: "edge.checkRegions", wantValue: "ENAM,WNAM", wantAllowed: "with 2 regions 1 seeing it down"},
	{name: "check region twice", stack: "prod", key: "edge", mutate: field("checkRegions", []any{"ENAM", "WNAM", "ENAM"}), wantKey: "edge.checkRegions[2]", wantValue: "ENAM", wantAllowed: "each region once"},
	{name: "origin certificate trust unknown", stack: "prod", key: "edge", mutate: field("originCertificate", "self-signed"), wantKey: "edge.originCertificate", wantValue: "self-signed"},
	// issue 15 item 4: a record to the load balancer that no ingress routes
	{name: "record points at the load balancer", stack: "prod", key: "edge", mutate: field("records", []any{map[string]any{"name": "www.example.com", "type": "CNAME", "content": "app.example.com"}}), wantKey: "edge.records[0].content", wantValue: "app.example.com", wantAllowed: "publish a UI through edge.uis"},
	{name: "UI without an access identity provider", stack: "prod", key: "edge", mutate: field("access.identityProviderId", ""), wantKey: "edge.access.identityProviderId", wantValue: "", wantAllowed: "Zero Trust SAML"},
	{name: "UI without a groups attribute", stack: "prod", key: "edge", mutate: field("access.groupsAttribute", ""), wantKey: "edge.access.groupsAttribute", wantValue: "", wantAllowed: "SAML attribute"},
	{name: "UI session duration malformed", stack: "prod", key: "edge", mutate: field("access.sessionDuration", "1 day"), wantKey: "edge.access.sessionDuration", wantValue: "1 day"},
	{name: "UI not publishable", stack: "prod", key: "edge", mutate: field("uis", map[string]any{"prometheus": "prom.example.com"}), wantKey: "edge.uis", wantValue: "prometheus"},
	{name: "UI outside the zone", stack: "prod", key: "edge", mutate: field("uis", map[string]any{"grafana": "grafana.example.org"}), wantKey: "edge.uis.grafana", wantValue: "grafana.example.org"},
	{name: "UI on the load balancer's hostname", stack: "prod", key: "edge", mutate: field("uis", map[string]any{"grafana": "app.example.com"}), wantKey: "edge.uis.grafana", wantValue: "app.example.com", wantAllowed: "already used by edge.hostname"},
	{name: "monitor retries above range", stack: "prod", key: "edge", mutate: field("monitor.retries", 6), wantKey: "edge.monitor.retries", wantValue: "6"},
	{name: "monitor consecutive down above range", stack: "prod", key: "edge", mutate: field("monitor.consecutiveDown", 11), wantKey: "edge.monitor.consecutiveDown", wantValue: "11"},
	{name: "monitor consecutive up negative", stack: "prod", key: "edge", mutate: field("monitor.consecutiveUp", -1), wantKey: "edge.monitor.consecutiveUp", wantValue: "-1"},
	// issue 15 item 3: the objective is checked against the worst-case bound
	// (70 s by the interval formula, 101 s with backoff and propagation).
	{name: "detection bound slower than objective", stack: "prod", key: "edge", mutate: field("detectionObjectiveSeconds", 90), wantKey: "edge.monitor", wantValue: "interval=60 consecutiveDown=1 retries=1 timeout=5", wantAllowed: "the worst case is 101s"},
	{name: "detection objective not positive", stack: "prod", key: "edge", mutate: field("detectionObjectiveSeconds", 0), wantKey: "edge.detectionObjectiveSeconds", wantValue: "0"},
	{name: "check regions empty needs enterprise", stack: "prod", key: "edge", mutate: field("checkRegions", []any{}), wantKey: "edge.checkRegions", wantValue: "[]", wantAllowed: "Enterprise"},
	{name: "check region unknown", stack: "prod", key: "edge", mutate: field("checkRegions", []any{"EU"}), wantKey: "edge.checkRegions[0]", wantValue: "EU"},
	{name: "minimum origins", stack: "prod", key: "edge", mutate: field("minimumOrigins", 2), wantKey: "edge.minimumOrigins", wantValue: "2"},
	{name: "session affinity unknown", stack: "prod", key: "edge", mutate: field("sessionAffinity", "sticky"), wantKey: "edge.sessionAffinity", wantValue: "sticky"},
	{name: "onprem stack reference malformed", stack: "prod", key: "edge", mutate: field("onpremStackRef", "onprem"), wantKey: "edge.onpremStackRef", wantValue: "onprem"},
	{name: "onprem fallback origin private", stack: "prod", key: "edge", mutate: field("onpremOriginFallback", "192.168.10.50"), wantKey: "edge.onpremOriginFallback", wantValue: "192.168.10.50"},
	{name: "lan cidr malformed", stack: "onprem", key: "talos", mutate: field("lanCidr", "192.168.10.0/33"), wantKey: "talos.lanCidr", wantValue: "192.168.10.0/33"},
	{name: "lan cidr outside on-prem network", stack: "onprem", key: "talos", mutate: field("lanCidr", "172.16.10.0/24"), wantKey: "talos.lanCidr", wantValue: "172.16.10.0/24"},
	{name: "vip outside the nodes' lan", stack: "onprem", key: "talos", mutate: field("vip", "192.168.20.10"), wantKey: "talos.vip", wantValue: "192.168.20.10"},
	{name: "node outside the nodes' lan", stack: "onprem", key: "talos", mutate: node(3, "ip", "192.168.20.21"), wantKey: "talos.nodes[3].ip", wantValue: "192.168.20.21"},
	{name: "install image of another talos release", stack: "onprem", key: "talos", mutate: field("installImage", "ghcr.io/siderolabs/installer:v1.9.5"), wantKey: "talos.installImage", wantValue: "ghcr.io/siderolabs/installer:v1.9.5"},
	{name: "node label key malformed", stack: "onprem", key: "talos", mutate: node(0, "labels", map[string]any{"rack a": "1"}), wantKey: "talos.nodes[0].labels", wantValue: "rack a"},
	{name: "node label value malformed", stack: "onprem", key: "talos", mutate: node(0, "labels", map[string]any{"rack": "row 1/a"}), wantKey: "talos.nodes[0].labels.rack", wantValue: "row 1/a"},
	{name: "wireguard node is not a node", stack: "onprem", key: "talos", mutate: field("wireguardNode", "cp-9"), wantKey: "talos.wireguardNode", wantValue: "cp-9"},
	{name: "ingress address is private", stack: "onprem", key: "talos", mutate: field("ingressAddress", "192.168.10.10"), wantKey: "talos.ingressAddress", wantValue: "192.168.10.10"},
	{name: "cost budget not positive", stack: "prod", set: map[string]string{"costBudgetUsd": "0"}, wantKey: "costBudgetUsd", wantValue: "0"},
	// storage
	{name: "local path outside /var", stack: "onprem", key: "storage", mutate: field("localPath", "/mnt/ssd"), wantKey: "storage.localPath", wantValue: "/mnt/ssd"},
	{name: "nfs server malformed", stack: "onprem", key: "storage", mutate: field("nfsServer", "nfs server"), wantKey: "storage.nfsServer", wantValue: "nfs server"},
	{name: "nfs path relative", stack: "onprem", key: "storage", mutate: field("nfsPath", "export/k8s"), wantKey: "storage.nfsPath", wantValue: "export/k8s"},
	{name: "ceph not built yet", stack: "onprem", key: "storage", mutate: field("ceph", true), wantKey: "storage.ceph", wantValue: "true"},
	// registry pull secret
	{name: "pull secret name malformed", stack: "onprem", key: "pullSecret", mutate: field("name", "DO_registry"), wantKey: "pullSecret.name", wantValue: "DO_registry"},
	{name: "pull secret in no namespace", stack: "onprem", key: "pullSecret", mutate: field("namespaces", []any{}), wantKey: "pullSecret.namespaces", wantValue: "[]"},
	{name: "pull secret namespace malformed", stack: "onprem", key: "pullSecret", mutate: field("namespaces", []any{"Apps"}), wantKey: "pullSecret.namespaces[0]", wantValue: "Apps"},
	{name: "pull secret namespace exists already", stack: "onprem", key: "pullSecret", mutate: field("namespaces", []any{"kube-system"}), wantKey: "pullSecret.namespaces[0]", wantValue: "kube-system"},
	{name: "pull secret namespace listed twice", stack: "onprem", key: "pullSecret", mutate: field("namespaces", []any{"apps", "apps"}), wantKey: "pullSecret.namespaces[1]", wantValue: "apps"},
	{name: "prod stack reference malformed", stack: "onprem", set: map[string]string{"prodStackRef": "prod"}, wantKey: "prodStackRef", wantValue: "prod"},
	// platform: bad values fail before any resource, each naming its key
	{name: "negative prometheus retention", stack: "prod", key: "platform", mutate: at("monitoring.prometheusRetention", "-15d"), wantKey: "platform.monitoring.prometheusRetention", wantValue: "-15d"},
	{name: "prometheus retention size above its volume", stack: "prod", key: "platform", mutate: at("monitoring.prometheusRetentionSize", "60GB"), wantKey: "platform.monitoring.prometheusRetentionSize", wantValue: "60GB"},
	{name: "negative loki retention", stack: "onprem", key: "platform", mutate: at("monitoring.lokiRetention", "-31d"), wantKey: "platform.monitoring.lokiRetention", wantValue: "-31d"},
	{name: "loki retention not whole days", stack: "prod", key: "platform", mutate: at("monitoring.lokiRetention", "36h"), wantKey: "platform.monitoring.lokiRetention", wantValue: "36h"},
	{name: "storage size not a quantity", stack: "prod", key: "platform", mutate: at("monitoring.grafanaStorage", "5 GB"), wantKey: "platform.monitoring.grafanaStorage", wantValue: "5 GB"},
	{name: "smtp relay without port", stack: "onprem", key: "platform", mutate: at("monitoring.smtp.smarthost", "smtp.example.com"), wantKey: "platform.monitoring.smtp.smarthost", wantValue: "smtp.example.com"},
	{name: "misspelt platform field", stack: "prod", key: "platform", mutate: at("monitoring.retention", "15d"), wantKey: "platform.monitoring.retention", wantValue: "15d", wantAllowed: "a field of platform.monitoring"},
	{name: "malformed cron hour", stack: "prod", key: "platform", mutate: at("backup.schedules.0.cron", "0 25 * * *"), wantKey: "platform.backup.schedules[0].cron", wantValue: "0 25 * * *"},
	{name: "cron with four fields", stack: "onprem", key: "platform", mutate: at("backup.schedules.0.cron", "*/5 * * *"), wantKey: "platform.backup.schedules[0].cron", wantValue: "*/5 * * *"},
	{name: "cron that never runs", stack: "prod", key: "platform", mutate: at("backup.schedules.0.cron", "0 3 31 2 *"), wantKey: "platform.backup.schedules[0].cron", wantValue: "0 3 31 2 *"},
	{name: "weekday-only cluster backup misses the 24h RPO", stack: "prod", key: "platform", mutate: at("backup.schedules.0.cron", "0 3 * * 1-5"), wantKey: "platform.backup.schedules", wantValue: "2 schedules"},
	{name: "cluster backup every 36h misses the RPO", stack: "onprem", key: "platform", mutate: at("backup.schedules.0.cron", "@every 36h"), wantKey: "platform.backup.schedules", wantValue: "2 schedules"},
	{name: "cluster backup that excludes a namespace is not cluster state", stack: "prod", key: "platform", mutate: at("backup.schedules.0.excludedNamespaces", []any{"shop"}), wantKey: "platform.backup.schedules", wantValue: "2 schedules"},
	{name: "backup ttl shorter than the schedule interval", stack: "prod", key: "platform", mutate: at("backup.schedules.0.ttl", "4h"), wantKey: "platform.backup.schedules[0].ttl", wantValue: "4h"},
	{name: "backup ttl in days is not a Go duration", stack: "prod", key: "platform", mutate: at("backup.schedules.0.ttl", "30d"), wantKey: "platform.backup.schedules[0].ttl", wantValue: "30d"},
	{name: "duplicate schedule name", stack: "onprem", key: "platform", mutate: at("backup.schedules.1.name", "cluster-state"), wantKey: "platform.backup.schedules[1].name", wantValue: "cluster-state"},
	{name: "quota that is not a quantity", stack: "prod", key: "platform", mutate: at("apps.0.quota.requestsCpu", "lots"), wantKey: "platform.apps[0].quota.requestsCpu", wantValue: "lots"},
	{name: "negative quota", stack: "onprem", key: "platform", mutate: at("apps.1.quota.limitsMemory", "-4Gi"), wantKey: "platform.apps[1].quota.limitsMemory", wantValue: "-4Gi"},
	{name: "quota requests above limits", stack: "prod", key: "platform", mutate: at("apps.0.quota.requestsCpu", "16"), wantKey: "platform.apps[0].quota.requestsCpu", wantValue: "16"},
	{name: "limit range default request above default", stack: "prod", key: "platform", mutate: at("apps.0.limits.defaultRequestMemory", "1Gi"), wantKey: "platform.apps[0].limits.defaultRequestMemory", wantValue: "1Gi"},
	{name: "container max above the namespace quota", stack: "onprem", key: "platform", mutate: at("apps.1.limits.maxMemory", "8Gi"), wantKey: "platform.apps[1].limits.maxMemory", wantValue: "8Gi"},
	{name: "app namespace takes a platform name", stack: "prod", key: "platform", mutate: at("apps.1.name", "monitoring"), wantKey: "platform.apps[1].name", wantValue: "monitoring"},
	{name: "privileged app namespace", stack: "prod", key: "platform", mutate: at("apps.0.podSecurity", "privileged"), wantKey: "platform.apps[0].podSecurity", wantValue: "privileged"},
	{name: "egress port zero", stack: "prod", key: "platform", mutate: at("apps.0.egress.0.ports", []any{0}), wantKey: "platform.apps[0].egress[0].ports[0]", wantValue: "0"},
	{name: "reserved system group", stack: "prod", key: "platform", mutate: at("rbac.developers.groups", []any{"system:masters"}), wantKey: "platform.rbac.developers.groups[0]", wantValue: "system:masters"},
	{name: "group name with a space", stack: "onprem", key: "platform", mutate: at("rbac.platformAdmins.groups", []any{"platform admins"}), wantKey: "platform.rbac.platformAdmins.groups[0]", wantValue: "platform admins"},
	{name: "nobody administers the cluster", stack: "prod", key: "platform", mutate: at("rbac.platformAdmins", map[string]any{"groups": []any{}, "users": []any{}}), wantKey: "platform.rbac.platformAdmins", wantValue: "{}"},
	{name: "gitops repo not https or ssh", stack: "prod", key: "platform", mutate: at("gitops.repoUrl", "ftp://example.com/repo.git"), wantKey: "platform.gitops.repoUrl", wantValue: "ftp://example.com/repo.git"},
	{name: "gitops path escapes the repo", stack: "onprem", key: "platform", mutate: at("gitops.path", "../other"), wantKey: "platform.gitops.path", wantValue: "../other"},
	{name: "no revision history for rollback", stack: "prod", key: "platform", mutate: at("gitops.revisionHistoryLimit", 0), wantKey: "platform.gitops.revisionHistoryLimit", wantValue: "0"},
	{name: "load balancer ip set on DOKS", stack: "prod", key: "platform", mutate: at("ingress.loadBalancerIp", "192.168.10.50"), wantKey: "platform.ingress.loadBalancerIp", wantValue: "192.168.10.50"},
	{name: "load balancer ip outside the on-prem network", stack: "onprem", key: "platform", mutate: at("ingress.loadBalancerIp", "10.0.0.50"), wantKey: "platform.ingress.loadBalancerIp", wantValue: "10.0.0.50"},
	{name: "load balancer ip taken by a node", stack: "onprem", key: "platform", mutate: at("ingress.loadBalancerIp", "192.168.10.21"), wantKey: "platform.ingress.loadBalancerIp", wantValue: "192.168.10.21"},
	{name: "cloudflare range malformed", stack: "prod", key: "platform", mutate: at("ingress.cloudflareCidrs", []any{"cloudflare"}), wantKey: "platform.ingress.cloudflareCidrs[0]", wantValue: "cloudflare"},
	{name: "single ingress replica", stack: "prod", key: "platform", mutate: at("ingress.replicas", 1), wantKey: "platform.ingress.replicas", wantValue: "1"},
	{name: "tunnel probe on the near side", stack: "prod", key: "platform", mutate: at("probes.tunnel", []any{"10.100.0.5"}), wantKey: "platform.probes.tunnel[0]", wantValue: "10.100.0.5"},
	{name: "origin probe over plain http", stack: "onprem", key: "platform", mutate: at("probes.origins", []any{"http://192.168.10.50/healthz"}), wantKey: "platform.probes.origins[0]", wantValue: "http://192.168.10.50/healthz"},
	{name: "chart repository not http(s)", stack: "onprem", key: "platform", mutate: at("chartRepository", "oci://registry.example.internal/charts"), wantKey: "platform.chartRepository", wantValue: "oci://registry.example.internal/charts"},
	{name: "chart repository without a host", stack: "prod", key: "platform", mutate: at("chartRepository", "https:///charts"), wantKey: "platform.chartRepository", wantValue: "https:///charts"},
	{name: "chart repository with credentials", stack: "prod", key: "platform", mutate: at("chartRepository", "https://ci:hunter2@charts.example.internal"), wantKey: "platform.chartRepository", wantValue: "https://ci:xxxxx@charts.example.internal"},
	{name: "chart repository naming its index", stack: "onprem", key: "platform", mutate: at("chartRepository", "https://charts.example.internal/index.yaml"), wantKey: "platform.chartRepository", wantValue: "https://charts.example.internal/index.yaml"},
	{name: "chart repository with a query", stack: "onprem", key: "platform", mutate: at("chartRepository", "https://charts.example.internal/?token=x"), wantKey: "platform.chartRepository", wantValue: "https://charts.example.internal/?token=x"},
	{name: "grafana password too short", stack: "onprem", secret: map[string]string{"grafanaAdminPassword": "admin"}, wantKey: "grafanaAdminPassword", wantValue: "<redacted>"},
	{name: "argo cd redis password too short", stack: "prod", secret: map[string]string{"argocdRedisPassword": "redis"}, wantKey: "argocdRedisPassword", wantValue: "<redacted>"},
	{name: "origin certificate not PEM", stack: "prod", secret: map[string]string{"originTlsCertificate": "not a certificate"}, wantKey: "originTlsCertificate", wantValue: "<redacted>"},
	{name: "origin key does not match the certificate", stack: "prod", secret: map[string]string{"originTlsPrivateKey": otherOriginKey}, wantKey: "originTlsPrivateKey", wantValue: "<redacted>"},
	// secrets: the value is never echoed
	{name: "wireguard key malformed", stack: "prod", secret: map[string]string{"wireguardGatewayPrivateKey": "not-base64!"}, wantKey: "wireguardGatewayPrivateKey", wantValue: "<redacted>"},
	{name: "on-prem wireguard key wrong length", stack: "onprem", secret: map[string]string{"wireguardOnpremPrivateKey": "c2hvcnQ="}, wantKey: "wireguardOnpremPrivateKey", wantValue: "<redacted>"},
	// etcd snapshots (talos.etcdBackup, etcdBackupAgeRecipient)
	{name: "etcd schedule does not parse", stack: "onprem", key: "talos", mutate: field("etcdBackup.schedule", "hourly"),
		wantKey: "talos.etcdBackup.schedule", wantValue: "hourly"},
	{name: "etcd schedule with a time zone", stack: "onprem", key: "talos", mutate: field("etcdBackup.schedule", "CRON_TZ=Europe/Berlin 0 * * * *"),
		wantKey: "talos.etcdBackup.schedule", wantValue: "CRON_TZ=Europe/Berlin 0 * * * *"},
	{name: "etcd snapshots less often than the RPO", stack: "onprem", key: "talos", mutate: field("etcdBackup.schedule", "0 3 * * 1"),
		wantKey: "talos.etcdBackup.schedule", wantValue: "0 3 * * 1", wantAllowed: "at least every 24h0m0s"},
	{name: "etcd age key is the private key", stack: "onprem",
		secret:  map[string]string{"etcdBackupAgeRecipient": "AGE-SECRET-KEY-184JMZMVQH3E6U0PSL869004Y3U2NYV7R30EU99CSEDNPH02YUVFSZW44VU"},
		wantKey: "etcdBackupAgeRecipient", wantValue: "<redacted>", wantAllowed: "not the private key"},
	{name: "etcd age key with a typo", stack: "onprem",
		secret:  map[string]string{"etcdBackupAgeRecipient": "age1cy0su9fwf3gf9mw868g5yut09p6nytfmmnktexz2ya5uqg9vl9sss4euqn"},
		wantKey: "etcdBackupAgeRecipient", wantValue: "<redacted>", wantAllowed: "bad checksum"},
	{name: "secret stored in plaintext", stack: "prod", set: map[string]string{"grafanaAdminPassword": "0123456789abcdef0123456789abcdef"}, wantKey: "grafanaAdminPassword", wantValue: "<redacted>"},
}

func TestBadConfigFailsBeforeAnyResource(t *testing.T) {
	for _, tc := range badConfigs {
		t.Run(tc.name, func(t *testing.T) {
			opts := plan.Options{Stack: tc.stack, Set: map[string]string{}, SetSecret: tc.secret}
			for k, v := range tc.set {
				opts.Set[k] = v
			}
			if tc.mutate != nil {
				obj := stackObject(t, tc.stack, tc.key)
				tc.mutate(obj)
				opts.Set[tc.key] = toJSON(t, obj)
			}
			res, err := runStack(t, opts)
			require.Error(t, err)
			var verr *config.ValidationError
			require.True(t, errors.As(err, &verr), "want a ValidationError, got %v", err)
			want := config.Project + ":" + tc.wantKey
			found, same := 0, 0
			for _, p := range verr.Problems {
				if p.Key == want && p.Value == tc.wantValue {
					same++
					if strings.Contains(p.Allowed, tc.wantAllowed) {
						found++
						assert.NotEmpty(t, p.Allowed, "the error must say what is allowed")
					}
				}
			}
			// Several checks of one key and value: the row must say which
			// one it is about, or it passes while that check is gone.
			require.False(t, same > 1 && tc.wantAllowed == "", "%d problems for %s = %q: set wantAllowed to the one this row is about:\n%v", same, want, tc.wantValue, err)
			assert.Positive(t, found, "no problem %s = %q (allowed: ...%s...) in:\n%v", want, tc.wantValue, tc.wantAllowed, err)
			for _, v := range tc.secret {
				assert.NotContains(t, err.Error(), v, "a secret value leaked into the error")
			}
			for _, v := range tc.set {
				if tc.wantValue == "<redacted>" {
					assert.NotContains(t, err.Error(), v, "a secret value leaked into the error")
				}
			}
			require.NotNil(t, res)
			assert.Empty(t, res.Cloud.Resources(), "resources were declared before validation failed")
		})
	}
}

func TestSeveralProblemsReportedTogether(t *testing.T) {
	network := stackObject(t, "prod", "network")
	network["region"] = "mars1"
	network["wireguardPort"] = 0
	doks := stackObject(t, "prod", "doks")
	doks["nodePool"].(map[string]any)["minNodes"] = 7
	_, err := runStack(t, plan.Options{Stack: "prod", Set: map[string]string{
		"network": toJSON(t, network), "doks": toJSON(t, doks),
	}})
	var verr *config.ValidationError
	require.True(t, errors.As(err, &verr))
	var keys []string
	for _, p := range verr.Problems {
		keys = append(keys, p.Key)
	}
	assert.Subset(t, keys, []string{
		"hybrid-platform:network.region",
		"hybrid-platform:network.wireguardPort",
		"hybrid-platform:doks.nodePool.maxNodes",
	})
}

func TestMissingRequiredKeyNamesIt(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Pulumi.prod.yaml")
	raw, err := os.ReadFile(filepath.Join(projectDir(t), "Pulumi.prod.yaml"))
	require.NoError(t, err)
	// drop the spaces block
	text := string(raw)
	start := strings.Index(text, "  hybrid-platform:spaces:")
	require.Positive(t, start)
	require.NoError(t, os.WriteFile(file, []byte(text[:start]), 0o600))
	_, err = runStack(t, plan.Options{Stack: "prod", ConfigFile: file})
	require.Error(t, err)
	// spaces defaults to {} in Pulumi.yaml (onprem does not read it), so
	// prod's validation names each field it still needs.
	assert.Contains(t, err.Error(), `hybrid-platform:spaces.region = ""`)
	assert.Contains(t, err.Error(), `hybrid-platform:spaces.appBucket = ""`)
}

// A key Pulumi.yaml declares without a default must be in every stack file:
// the Pulumi CLI refuses the stack otherwise, and the plan says so too.
func TestKeyWithoutDefaultIsRequiredLikeTheCLI(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Pulumi.onprem.yaml")
	raw, err := os.ReadFile(filepath.Join(projectDir(t), "Pulumi.onprem.yaml"))
	require.NoError(t, err)
	var kept []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "  hybrid-platform:alertEmail:") {
			kept = append(kept, line)
		}
	}
	require.Len(t, kept, strings.Count(string(raw), "\n"), "the onprem file sets alertEmail on one line")
	require.NoError(t, os.WriteFile(file, []byte(strings.Join(kept, "\n")), 0o600))
	_, err = runStack(t, plan.Options{Stack: "onprem", ConfigFile: file})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `stack "onprem" is missing configuration values alertEmail`)
}

func TestStackFilesAreValid(t *testing.T) {
	for _, stack := range config.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := mustRun(t, prodRefs(stack))
			assert.Equal(t, stack, res.Stack)
		})
	}
}
