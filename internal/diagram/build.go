package diagram

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/hybridcloud/platform/components/storage"
	"github.com/hybridcloud/platform/components/talos"
	"github.com/hybridcloud/platform/internal/mockcloud"
)

// Type tokens the diagram recognises.
const (
	typeDoks         = "digitalocean:index/kubernetesCluster:KubernetesCluster"
	typeBucket       = "digitalocean:index/spacesBucket:SpacesBucket"
	typeDatabase     = "digitalocean:index/databaseCluster:DatabaseCluster"
	typeDBFirewall   = "digitalocean:index/databaseFirewall:DatabaseFirewall"
	typeRegistry     = "digitalocean:index/containerRegistry:ContainerRegistry"
	typeDroplet      = "digitalocean:index/droplet:Droplet"
	typeLB           = "cloudflare:index/loadBalancer:LoadBalancer"
	typePool         = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
	typeChart        = "kubernetes:helm.sh/v4:Chart"
	typeStackRef     = "pulumi:pulumi:StackReference"
	typeStorageClass = "kubernetes:storage.k8s.io/v1:StorageClass"
)

// Side groups (top-level subgraphs).
const (
	sideCloudflare   = "cloudflare"
	sideDigitalOcean = "digitalocean"
	sideOnprem       = "onprem"
	sideStacks       = "other_stacks"
)

var sideLabels = map[string]string{
	sideCloudflare: "Cloudflare", sideDigitalOcean: "DigitalOcean",
	sideOnprem: "On premises", sideStacks: "Other stacks (StackReference)",
}

// chartServices maps a Helm chart name to the platform services it runs.
var chartServices = map[string][]string{
	"kube-prometheus-stack": {"prometheus", "grafana"},
	"loki":                  {"loki"},
	"argo-cd":               {"argocd"},
	"velero":                {"velero"},
	"traefik":               {"ingress"},
}

var serviceTitles = map[string]string{
	"prometheus": "Prometheus", "grafana": "Grafana", "loki": "Loki",
	"argocd": "Argo CD", "velero": "Velero", "ingress": "Ingress (Traefik)",
}

// minMatch is the shortest output value of another stack that counts as read
// when it appears inside a longer input string.
const minMatch = 8

// Options tune the derivation.
type Options struct {
	// Reads lists, per stack a StackReference names (its "name" input), the
	// output keys the program reads from it; values of those outputs found
	// in a resource's inputs draw an edge from its node to that stack.
	Reads map[string][]string
}

type builder struct {
	opts    Options
	all     []*mockcloud.Resource
	byURN   map[string]*mockcloud.Resource
	nodeOf  map[string]string // URN of a key resource -> its primary node id
	nodesOf map[string][]string
	nodes   map[string]*Node
	groups  map[string]*Group
	edges   map[[2]string]map[string]bool
	cluster map[string]string // URN -> cluster node id it runs on ("" none)
}

// Build derives the graph of one stack from its recorded resources.
func Build(resources []*mockcloud.Resource, opts Options) *Graph {
	b := &builder{opts: opts, all: resources, byURN: map[string]*mockcloud.Resource{}, nodeOf: map[string]string{}, nodesOf: map[string][]string{},
		nodes: map[string]*Node{}, groups: map[string]*Group{}, edges: map[[2]string]map[string]bool{}, cluster: map[string]string{}}
	for _, r := range resources {
		b.byURN[r.URN] = r
	}
	b.addClusters()
	b.addKeyNodes()
	b.addComponentNodes()
	b.addServiceEdges()
	b.addDependencyEdges()
	b.addFirewallEdges()
	b.addLoadBalancerEdges()
	b.addDatasourceEdges()
	b.addStackReads()
	return b.graph()
}

func (b *builder) addNode(r *mockcloud.Resource, n Node) {
	if _, ok := b.nodeOf[r.URN]; !ok {
		b.nodeOf[r.URN] = n.ID
	}
	b.nodesOf[r.URN] = append(b.nodesOf[r.URN], n.ID)
	b.nodes[n.ID] = &n
}

func (b *builder) addEdge(from, to, label string) {
	if from == "" || to == "" || from == to {
		return
	}
	k := [2]string{from, to}
	if b.edges[k] == nil {
		b.edges[k] = map[string]bool{}
	}
	b.edges[k][label] = true
}

func (b *builder) addClusters() {
	for _, r := range b.all {
		switch r.Type {
		case typeDoks:
			b.addNode(r, Node{ID: "doks_" + ident(r.Name), Kind: KindCluster, Class: "doks",
				Label: "DOKS cluster<br/>" + str(r, "name") + ", Kubernetes " + str(r, "version")})
		case talos.Type:
			b.addNode(r, Node{ID: "talos_" + ident(r.Name), Kind: KindCluster, Class: "talos",
				Label: "Talos cluster<br/>" + r.Name + ", " + b.talosNodes(r)})
		}
	}
}

// talosNodes counts the machine configurations applied under a Talos cluster.
func (b *builder) talosNodes(c *mockcloud.Resource) string {
	n := 0
	for _, r := range b.all {
		if r.Parent == c.URN && strings.HasSuffix(r.Type, ":ConfigurationApply") {
			n++
		}
	}
	return fmt.Sprintf("%d nodes", n)
}

func (b *builder) addKeyNodes() {
	for _, r := range b.all {
		switch r.Type {
		case typeBucket:
			b.addNode(r, Node{ID: "spaces_" + ident(r.Name), Kind: KindData, Label: "Spaces bucket<br/>" + str(r, "name")})
		case typeDatabase:
			b.addNode(r, Node{ID: "postgres_" + ident(r.Name), Kind: KindData,
				Label: fmt.Sprintf("Managed PostgreSQL %s<br/>%s, %v nodes", str(r, "version"), str(r, "name"), value(r, "nodeCount"))})
		case typeRegistry:
			b.addNode(r, Node{ID: "registry_" + ident(r.Name), Kind: KindData, Label: "Container registry<br/>" + str(r, "name")})
		case typeDroplet:
			b.addNode(r, Node{ID: "gateway_" + ident(r.Name), Kind: KindGateway, Label: "WireGuard gateway<br/>" + str(r, "name")})
		case typeLB:
			b.addNode(r, Node{ID: "cloudflare_lb_" + ident(r.Name), Kind: KindEdge, Class: "cloudflare", Label: "Cloudflare load balancer<br/>" + str(r, "name")})
		case typeStackRef:
			if readsItself(r) {
				continue
			}
			b.addNode(r, Node{ID: "stack_" + ident(r.Name), Kind: KindStack, Label: "Stack " + str(r, "name")})
		case storage.Type:
			b.addNode(r, Node{ID: "storage_" + ident(r.Name), Kind: KindStorage, Label: "On-prem storage<br/>storage classes " + strings.Join(b.storageClasses(r), ", ")})
		case typeChart:
			b.addChartNodes(r)
		}
	}
}

// readsItself reports whether StackReference r names its own stack (which
// reads its last outputs, stacks.SelfReference): no other stack.
func readsItself(r *mockcloud.Resource) bool {
	stack, _, _ := strings.Cut(strings.TrimPrefix(r.URN, "urn:pulumi:"), "::")
	return strings.HasSuffix(str(r, "name"), "/"+stack)
}

func (b *builder) storageClasses(c *mockcloud.Resource) []string {
	var names []string
	for _, r := range b.all {
		if r.Parent == c.URN && r.Type == typeStorageClass {
			names = append(names, str(r, "metadata.name"))
		}
	}
	sort.Strings(names)
	return names
}

// addChartNodes adds the platform services a chart runs, named after the
// cluster its provider targets.
func (b *builder) addChartNodes(r *mockcloud.Resource) {
	chart := str(r, "chart")
	services := chartServices[chart]
	suffix := ident(r.Name)
	if c := b.clusterOf(r.URN); c != "" {
		suffix = c[strings.Index(c, "_")+1:]
	}
	for _, s := range services {
		// kube-prometheus-stack can switch either part off.
		if v, ok := lookup(plainMap(r), "values."+s+".enabled"); ok && v == false {
			continue
		}
		b.addNode(r, Node{ID: s + "_" + suffix, Kind: KindService, Label: serviceTitles[s] + "<br/>chart " + chart + " " + str(r, "version")})
	}
}

// clusterOf is the cluster node a resource runs on: through its provider,
// whose kubeconfig comes from a cluster (a dependency or its parent).
func (b *builder) clusterOf(urn string) string {
	if c, ok := b.cluster[urn]; ok {
		return c
	}
	b.cluster[urn] = "" // cycles end here
	r := b.byURN[urn]
	c := ""
	switch {
	case r == nil:
	case r.Type == typeDoks || r.Type == talos.Type:
		c = b.nodeOf[r.URN]
	case r.Provider != "":
		c = b.clusterOf(r.Provider)
	case strings.HasPrefix(r.Type, "pulumi:providers:"):
		for _, d := range append([]string{r.Parent}, r.DependsOn...) {
			if c = b.clusterOf(d); c != "" {
				break
			}
		}
	case r.Type == talos.Type:
		c = b.nodeOf[r.URN]
	default:
		if p := b.byURN[r.Parent]; p != nil && p.Type == talos.Type {
			c = b.nodeOf[p.URN]
		}
	}
	b.cluster[urn] = c
	return c
}

// owner is the node a resource belongs to: its own, its nearest ancestor's,
// or the cluster it runs on.
func (b *builder) owner(r *mockcloud.Resource) string {
	for p := r; p != nil; p = b.byURN[p.Parent] {
		if id, ok := b.nodeOf[p.URN]; ok {
			return id
		}
	}
	return b.clusterOf(r.URN)
}

// addComponentNodes places every key node in its component's subgraph, and
// draws components without key nodes as nodes of their own.
func (b *builder) addComponentNodes() {
	counts, _ := CountByComponent(b.all)
	count := map[string]int{}
	for _, c := range counts {
		count[c.Type+"/"+c.Name] = c.Resources
	}
	used := map[string]bool{}
	for _, r := range b.all {
		for _, id := range b.nodesOf[r.URN] {
			b.place(b.nodes[id], r, count, used)
		}
	}
	for _, r := range b.all {
		if !IsComponent(r.Type) || used[r.URN] {
			continue
		}
		if _, ok := b.nodeOf[r.URN]; ok {
			continue
		}
		// A component made only of components (the platform layer) is
		// drawn through them: the platform group of its cluster.
		if count[r.Type+"/"+r.Name] == 0 && slices.ContainsFunc(b.all, func(c *mockcloud.Resource) bool { return c.Parent == r.URN && IsComponent(c.Type) }) {
			continue
		}
		n := &Node{ID: "component_" + ident(componentKind(r.Type)+"_"+r.Name), Kind: KindComponent,
			Label: fmt.Sprintf("%s %s<br/>%d resources", componentKind(r.Type), r.Name, count[r.Type+"/"+r.Name])}
		n.Group = b.containerOfComponent(r)
		b.nodes[n.ID] = n
	}
}

// place puts a node in its side (or its cluster's platform group) and, if it
// belongs to a component that is not itself the node, in that component's
// subgraph.
func (b *builder) place(n *Node, r *mockcloud.Resource, count map[string]int, used map[string]bool) {
	container := b.container(n, r)
	comp := componentOf(b.byURN, r)
	if comp == nil || IsComponent(r.Type) {
		n.Group = container
		if IsComponent(r.Type) {
			used[r.URN] = true
		}
		return
	}
	used[comp.URN] = true
	gid := "comp_" + ident(componentKind(comp.Type)+"_"+comp.Name)
	if _, ok := b.groups[gid]; !ok {
		b.groups[gid] = &Group{ID: gid, Parent: container,
			Label: fmt.Sprintf("%s %s: %d resources", comp.Type, comp.Name, count[comp.Type+"/"+comp.Name])}
	}
	n.Group = gid
}

// container is the side group of a node, or the platform group of the
// cluster a service runs on.
func (b *builder) container(n *Node, r *mockcloud.Resource) string {
	switch n.Kind {
	case KindStack:
		return b.side(sideStacks)
	case KindEdge:
		return b.side(sideCloudflare)
	case KindCluster:
		if r.Type == talos.Type {
			return b.side(sideOnprem)
		}
		return b.side(sideDigitalOcean)
	case KindService, KindStorage:
		if c := b.clusterOf(r.URN); c != "" {
			return b.platform(c)
		}
		if child := b.firstChild(r); child != nil {
			if c := b.clusterOf(child.URN); c != "" {
				return b.platform(c)
			}
		}
	}
	return b.sideOfType(r.Type)
}

func (b *builder) firstChild(r *mockcloud.Resource) *mockcloud.Resource {
	for _, c := range b.all {
		if c.Parent == r.URN && c.Provider != "" {
			return c
		}
	}
	return nil
}

func (b *builder) containerOfComponent(r *mockcloud.Resource) string {
	if child := b.firstChild(r); child != nil {
		if c := b.clusterOf(child.URN); c != "" {
			return b.platform(c)
		}
	}
	for _, c := range b.all {
		if c.Parent == r.URN {
			return b.sideOfType(c.Type)
		}
	}
	return b.side(sideDigitalOcean)
}

func (b *builder) sideOfType(typ string) string {
	switch {
	case strings.HasPrefix(typ, "cloudflare:"):
		return b.side(sideCloudflare)
	case strings.HasPrefix(typ, "talos:"):
		return b.side(sideOnprem)
	}
	return b.side(sideDigitalOcean)
}

func (b *builder) side(id string) string {
	if _, ok := b.groups[id]; !ok {
		b.groups[id] = &Group{ID: id, Label: sideLabels[id]}
	}
	return id
}

// platform is the group of the platform services of one cluster.
func (b *builder) platform(cluster string) string {
	id := "platform_" + cluster
	if _, ok := b.groups[id]; !ok {
		n := b.nodes[cluster]
		parent := b.side(sideDigitalOcean)
		if strings.HasPrefix(cluster, "talos_") {
			parent = b.side(sideOnprem)
		}
		name, _, _ := strings.Cut(n.Label, "<br/>")
		b.groups[id] = &Group{ID: id, Parent: parent, Label: "Platform services on the " + name}
	}
	return id
}

func componentKind(typ string) string {
	return typ[strings.LastIndex(typ, ":")+1:]
}

// plainMap is a resource's inputs as plain Go data, secrets unwrapped (the
// diagram prints no input value, only names and its own labels).
func plainMap(r *mockcloud.Resource) map[string]any {
	return plainOf(resource.NewObjectProperty(r.Inputs)).(map[string]any)
}

func plainOf(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return plainOf(v.SecretValue().Element)
	case v.IsOutput():
		if o := v.OutputValue(); o.Known {
			return plainOf(o.Element)
		}
		return nil
	case v.IsComputed(), v.IsNull():
		return nil
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsObject():
		m := map[string]any{}
		for k, e := range v.ObjectValue() {
			m[string(k)] = plainOf(e)
		}
		return m
	case v.IsArray():
		var a []any
		for _, e := range v.ArrayValue() {
			a = append(a, plainOf(e))
		}
		return a
	}
	return v.V
}

// lookup follows a dotted path through plain data.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func value(r *mockcloud.Resource, path string) any {
	v, _ := lookup(plainMap(r), path)
	return v
}

func str(r *mockcloud.Resource, path string) string {
	s, _ := value(r, path).(string)
	return s
}

// strings returns every string leaf of plain data.
func stringLeaves(v any, out *[]string) {
	switch t := v.(type) {
	case string:
		*out = append(*out, t)
	case map[string]any:
		for _, e := range t {
			stringLeaves(e, out)
		}
	case []any:
		for _, e := range t {
			stringLeaves(e, out)
		}
	}
}

// ident makes a valid Mermaid node id: letters, digits and underscores.
func ident(s string) string {
	var sb strings.Builder
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			sb.WriteRune(c)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

// host is the host of a URL, or "".
func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
