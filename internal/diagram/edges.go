package diagram

import (
	"slices"
	"sort"
	"strings"

	"github.com/hybridcloud/platform/components/storage"
	"github.com/hybridcloud/platform/internal/mockcloud"
)

// readsPrefix marks the labels of edges to another stack; they are merged
// into one "reads a, b" label.
const readsPrefix = "reads "

// addServiceEdges links each platform service with the cluster its chart's
// provider targets, and the on-prem storage with its cluster.
func (b *builder) addServiceEdges() {
	for _, r := range b.all {
		c := b.clusterOf(r.URN)
		if r.Type == storage.Type {
			if child := b.firstChild(r); child != nil {
				b.addEdge(b.clusterOf(child.URN), b.nodeOf[r.URN], "persistent volumes")
			}
			continue
		}
		if r.Type != typeChart || c == "" {
			continue
		}
		for _, id := range b.nodesOf[r.URN] {
			switch kindOf(id) {
			case "prometheus":
				b.addEdge(c, id, "metrics")
			case "loki":
				b.addEdge(c, id, "logs")
			case "argocd":
				b.addEdge(id, c, "manages (GitOps)")
			case "velero":
				b.addEdge(id, c, "backs up")
			case "ingress":
				b.addEdge(id, c, "routes to")
			}
		}
	}
}

// addDependencyEdges follows recorded dependencies from a resource's owner
// node to data services and the gateway. Dependencies on charts and clusters
// are install order, drawn by the other rules. A bucket counts only when the
// dependent's inputs name it: a dependency alone may come from a map of
// every bucket.
func (b *builder) addDependencyEdges() {
	for _, r := range b.all {
		src := b.owner(r)
		if src == "" {
			continue
		}
		var leaves []string
		for _, d := range r.DependsOn {
			dst, ok := b.nodeOf[d]
			if !ok {
				continue
			}
			dr := b.byURN[d]
			var label string
			switch dr.Type {
			case typeBucket:
				if leaves == nil {
					stringLeaves(plainMap(r), &leaves)
				}
				if !containsString(leaves, str(dr, "name")) {
					continue
				}
				label = map[string]string{"velero": "backups", "loki": "log chunks"}[kindOf(src)]
				if label == "" {
					label = "objects"
				}
			case typeRegistry:
				label = "images"
			case typeDatabase:
				label = "SQL"
			case typeDroplet:
				label = "on-prem route"
			default:
				continue
			}
			b.addEdge(src, dst, label)
		}
	}
}

// addFirewallEdges: a database firewall admits every resource it depends on
// (its rules name them) to the database.
func (b *builder) addFirewallEdges() {
	for _, r := range b.all {
		if r.Type != typeDBFirewall {
			continue
		}
		db := ""
		for _, d := range r.DependsOn {
			if b.byURN[d] != nil && b.byURN[d].Type == typeDatabase {
				db = b.nodeOf[d]
			}
		}
		for _, d := range r.DependsOn {
			if id := b.nodeOf[d]; id != db {
				b.addEdge(id, db, "SQL (database firewall)")
			}
		}
	}
}

// addLoadBalancerEdges follows each pool of a load balancer, in steering
// order, to what its origin comes from: a cluster's ingress Service, or
// another stack's output.
func (b *builder) addLoadBalancerEdges() {
	pools := map[string]*mockcloud.Resource{}
	for _, r := range b.all {
		if r.Type == typePool {
			pools[r.ID] = r
		}
	}
	for _, r := range b.all {
		if r.Type != typeLB {
			continue
		}
		lb := b.nodeOf[r.URN]
		ids, _ := value(r, "defaultPoolIds").([]any)
		for i, id := range ids {
			pool := pools[id.(string)]
			if pool == nil {
				continue
			}
			role := "load balance"
			if i > 0 {
				role = "failover"
			}
			label := role + ": pool " + str(pool, "name")
			for _, d := range pool.DependsOn {
				if dr := b.byURN[d]; dr != nil && !strings.HasSuffix(dr.Type, ":LoadBalancerMonitor") {
					b.addEdge(lb, b.owner(dr), label)
				}
			}
			for stack, keys := range b.originReads(pool) {
				b.addEdge(lb, stack, label+" ("+readsPrefix+strings.Join(keys, ", ")+")")
			}
		}
	}
}

// addDatasourceEdges draws Grafana's data sources (kube-prometheus-stack
// values): its own Prometheus through the sidecar's default data source, and
// each additional data source whose URL names a chart's Service.
func (b *builder) addDatasourceEdges() {
	for _, r := range b.all {
		if r.Type != typeChart || str(r, "chart") != "kube-prometheus-stack" {
			continue
		}
		var grafana, prometheus string
		for _, id := range b.nodesOf[r.URN] {
			switch {
			case strings.HasPrefix(id, "grafana_"):
				grafana = id
			case strings.HasPrefix(id, "prometheus_"):
				prometheus = id
			}
		}
		if grafana == "" {
			continue
		}
		m := plainMap(r)
		if on, ok := lookup(m, "values.grafana.sidecar.datasources.defaultDatasourceEnabled"); !ok || on != false {
			b.addEdge(prometheus, grafana, "datasource")
		}
		extra, _ := lookup(m, "values.grafana.additionalDataSources")
		list, _ := extra.([]any)
		for _, e := range list {
			ds, _ := e.(map[string]any)
			u, _ := ds["url"].(string)
			typ, _ := ds["type"].(string)
			for _, id := range b.serviceAt(host(u), b.clusterOf(r.URN)) {
				b.addEdge(id, grafana, "datasource "+typ)
			}
		}
	}
}

// serviceAt finds the nodes of the chart on a cluster whose Service answers
// a cluster DNS name (name.namespace.svc...): the chart's fullnameOverride,
// or its release name, in its namespace.
func (b *builder) serviceAt(dnsName, cluster string) []string {
	parts := strings.Split(dnsName, ".")
	if len(parts) < 2 {
		return nil
	}
	for _, r := range b.all {
		if r.Type != typeChart || b.clusterOf(r.URN) != cluster || str(r, "namespace") != parts[1] {
			continue
		}
		name := str(r, "values.fullnameOverride")
		if name == "" {
			name = str(r, "name")
		}
		if name == parts[0] {
			return b.nodesOf[r.URN]
		}
	}
	return nil
}

// addStackReads links each owner node with the other stacks whose outputs
// its resources' inputs carry. StackReference values leave no recorded
// dependency (the program awaits them), so the values themselves are matched.
func (b *builder) addStackReads() {
	for _, r := range b.all {
		if r.Type == typeStackRef || r.Type == typePool {
			continue
		}
		src := b.owner(r)
		if src == "" {
			continue
		}
		for stack, keys := range b.reads(r) {
			for _, k := range keys {
				// one name per output: spacesCredentials, not its leaves
				b.addEdge(src, stack, readsPrefix+strings.SplitN(k, ".", 2)[0])
			}
		}
	}
}

// reads returns, per StackReference node, the output keys of that stack
// whose values appear in a resource's inputs. Only the outputs the program
// declares it reads (Options.Reads) count: both stacks carry the same
// address plan and platform settings in their own config, so equal values
// elsewhere prove nothing.
func (b *builder) reads(r *mockcloud.Resource) map[string][]string {
	var leaves []string
	stringLeaves(plainMap(r), &leaves)
	return b.refsMatching(func(ref *mockcloud.Resource, key, v string) bool {
		return slices.Contains(b.opts.Reads[str(ref, "name")], strings.SplitN(key, ".", 2)[0]) && matches(leaves, v)
	})
}

// originReads returns, per StackReference node, the outputs that a load
// balancer pool uses as an origin address, exactly.
func (b *builder) originReads(pool *mockcloud.Resource) map[string][]string {
	origins, _ := value(pool, "origins").([]any)
	var addrs []string
	for _, o := range origins {
		if m, ok := o.(map[string]any); ok {
			if a, ok := m["address"].(string); ok {
				addrs = append(addrs, a)
			}
		}
	}
	return b.refsMatching(func(_ *mockcloud.Resource, _, v string) bool { return slices.Contains(addrs, v) })
}

func (b *builder) refsMatching(match func(ref *mockcloud.Resource, key, v string) bool) map[string][]string {
	out := map[string][]string{}
	for _, ref := range b.all {
		if ref.Type != typeStackRef {
			continue
		}
		outs, ok := ref.Outputs["outputs"]
		if !ok {
			continue
		}
		flat := map[string]string{}
		flatten("", plainOf(outs), flat)
		var keys []string
		for k, v := range flat {
			if match(ref, k, v) {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			sort.Strings(keys)
			out[b.nodeOf[ref.URN]] = keys
		}
	}
	return out
}

// matches: a value equals an input string, or (when long enough not to
// match by chance) appears inside one.
func matches(leaves []string, v string) bool {
	if v == "" {
		return false
	}
	for _, l := range leaves {
		if l == v || len(v) >= minMatch && strings.Contains(l, v) {
			return true
		}
	}
	return false
}

func containsString(leaves []string, v string) bool { return matches(leaves, v) }

// flatten maps the string leaves of plain data to their dotted paths
// (array elements keep the array's path).
func flatten(prefix string, v any, out map[string]string) {
	switch t := v.(type) {
	case string:
		out[prefix] = t
	case map[string]any:
		for k, e := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, e, out)
		}
	case []any:
		for _, e := range t {
			flatten(prefix, e, out)
		}
	}
}

// kindOf is the prefix of a node id: its service or resource kind.
func kindOf(id string) string {
	k, _, _ := strings.Cut(id, "_")
	return k
}
