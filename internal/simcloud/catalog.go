package simcloud

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Kind describes how the simulated cloud treats one resource type.
type Kind struct {
	// Required inputs, as the real provider's schema requires them (taken from
	// the SDKs' "invalid value for required argument" checks).
	Required []string
	// Replace lists the properties (dotted paths) whose change makes the real
	// provider replace the object instead of updating it in place.
	Replace []string
	// AutoNamed is the input the real provider names by itself when the
	// program leaves it out. A program that sets it gets delete-before-replace
	// from the provider on a replacement, as the Terraform bridge decides
	// (pulumi-terraform-bridge v3.135.0 pkg/tfbridge/provider.go:1275-1276,
	// nameRequiresDeleteBeforeReplace in schema.go:193-245), unless its own
	// deleteBeforeReplace option says otherwise. Modelled for the DOKS node
	// pool; the bridge does the same for every DigitalOcean resource with a
	// `name` input (pulumi-digitalocean v4.76.0 provider/resources.go:700,
	// SetAutonaming), which this catalogue does not model yet.
	AutoNamed string
	// Sensitive lists the outputs the real provider's schema marks sensitive.
	// The stand-in does not mark them secret: the program must, and the
	// integration tests check that their values never reach state in plaintext.
	Sensitive []string
}

// kubernetesKind is shared by every Kubernetes object, custom resources
// included: a new name or namespace is a new object.
var kubernetesKind = Kind{
	Required: []string{"apiVersion", "kind"},
	Replace:  []string{"apiVersion", "kind", "metadata.name", "metadata.namespace"},
}

// catalogue is every resource type the simulated clouds know, bar Kubernetes
// objects (any kubernetes:GROUP/VERSION:KIND is accepted, see Lookup).
var catalogue = map[string]Kind{
	// DigitalOcean
	"digitalocean:index/vpc:Vpc":               {Required: []string{"region"}, Replace: []string{"region", "ipRange"}},
	"digitalocean:index/droplet:Droplet":       {Required: []string{"image", "size"}, Replace: []string{"image", "region", "userData", "vpcUuid", "sshKeys"}},
	"digitalocean:index/reservedIp:ReservedIp": {Required: []string{"region"}, Replace: []string{"region"}},
	"digitalocean:index/firewall:Firewall":     {},
	"digitalocean:index/reservedIpAssignment:ReservedIpAssignment": {
		Required: []string{"dropletId", "ipAddress"}, Replace: []string{"dropletId", "ipAddress"}},
	// ForceNew in terraform-provider-digitalocean v2.96.0 (the version
	// pulumi-digitalocean v4.76.0 bridges): the cluster's region, vpc_uuid,
	// cluster_subnet, service_subnet (resource_kubernetes_cluster.go:67-133)
	// and its default pool's size, nested (kubernetes.go:25-30 in the
	// node_pool block, resource_kubernetes_cluster.go:185-192); a version
	// downgrade too (CustomizeDiff, :417-435), not modelled. A pool's name,
	// counts, labels, tags and taints update in place.
	"digitalocean:index/kubernetesCluster:KubernetesCluster": {
		Required:  []string{"nodePool", "region", "version"},
		Replace:   []string{"region", "vpcUuid", "clusterSubnet", "serviceSubnet", "nodePool.size"},
		Sensitive: []string{"kubeConfigs"}},
	// size and cluster_id are ForceNew (kubernetes.go:25-30, :103-109).
	"digitalocean:index/kubernetesNodePool:KubernetesNodePool": {
		Required: []string{"clusterId", "size"}, Replace: []string{"clusterId", "size"}, AutoNamed: "name"},
	"digitalocean:index/containerRegistry:ContainerRegistry": {
		Required: []string{"subscriptionTierSlug"}, Replace: []string{"name", "region"}},
	"digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials": {
		Required: []string{"registryName"}, Sensitive: []string{"dockerCredentials"}},
	"digitalocean:index/databaseCluster:DatabaseCluster": {
		Required:  []string{"engine", "nodeCount", "region", "size"},
		Replace:   []string{"engine"},
		Sensitive: []string{"password", "uri", "privateUri"}},
	"digitalocean:index/databaseConnectionPool:DatabaseConnectionPool": {
		Required:  []string{"clusterId", "dbName", "mode", "size"},
		Replace:   []string{"clusterId", "name"},
		Sensitive: []string{"password", "uri", "privateUri"}},
	"digitalocean:index/databaseDb:DatabaseDb":                 {Required: []string{"clusterId"}, Replace: []string{"clusterId", "name"}},
	"digitalocean:index/databaseFirewall:DatabaseFirewall":     {Required: []string{"clusterId", "rules"}, Replace: []string{"clusterId"}},
	"digitalocean:index/databaseUser:DatabaseUser":             {Required: []string{"clusterId"}, Replace: []string{"clusterId", "name"}, Sensitive: []string{"password"}},
	"digitalocean:index/spacesBucket:SpacesBucket":             {Replace: []string{"name", "region"}},
	"digitalocean:index/spacesBucketPolicy:SpacesBucketPolicy": {Required: []string{"bucket", "policy", "region"}, Replace: []string{"bucket", "region"}},
	"digitalocean:index/spacesKey:SpacesKey":                   {Sensitive: []string{"secretKey"}},
	"digitalocean:index/databasePostgresqlConfig:DatabasePostgresqlConfig": {
		Required: []string{"clusterId"}, Replace: []string{"clusterId"}},

	// Cloudflare
	"cloudflare:index/loadBalancer:LoadBalancer": {
		Required: []string{"defaultPoolIds", "fallbackPoolId", "name", "zoneId"}, Replace: []string{"zoneId"}},
	"cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor": {Required: []string{"accountId"}, Replace: []string{"accountId"}},
	"cloudflare:index/loadBalancerPool:LoadBalancerPool": {
		Required: []string{"accountId", "name", "origins"}, Replace: []string{"accountId"}},
	"cloudflare:index/record:Record":                             {Required: []string{"name", "type", "zoneId"}, Replace: []string{"zoneId"}},
	"cloudflare:index/zoneSettingsOverride:ZoneSettingsOverride": {Required: []string{"zoneId"}, Replace: []string{"zoneId"}},
	// Required from pulumi-cloudflare v5.49.1's NewZeroTrustAccessPolicy
	// checks; the account or zone an Access object lives in cannot change in
	// place (unverified: the ForceNew of account_id/zone_id in
	// terraform-provider-cloudflare v4.51.0's access schemas would settle it).
	"cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy": {
		Required: []string{"decision", "includes", "name"}, Replace: []string{"accountId", "zoneId"}},
	"cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication": {Replace: []string{"accountId", "zoneId"}},

	// Talos
	"talos:machine/secrets:Secrets": {
		Replace: []string{"talosVersion"}, Sensitive: []string{"machineSecrets", "clientConfiguration"}},
	"talos:machine/configurationApply:ConfigurationApply": {
		Required:  []string{"clientConfiguration", "machineConfigurationInput", "node"},
		Replace:   []string{"node"},
		Sensitive: []string{"clientConfiguration", "machineConfigurationInput", "machineConfiguration"}},
	"talos:machine/bootstrap:Bootstrap": {
		Required: []string{"clientConfiguration", "node"}, Replace: []string{"node"}, Sensitive: []string{"clientConfiguration"}},
	"talos:cluster/kubeconfig:Kubeconfig": {
		Required:  []string{"clientConfiguration", "node"},
		Replace:   []string{"node"},
		Sensitive: []string{"clientConfiguration", "kubeconfigRaw", "kubernetesClientConfiguration"}},
}

// secretKinds are the Kubernetes kinds whose contents are sensitive.
var secretKinds = map[string]Kind{
	"kubernetes:core/v1:Secret": {
		Required:  kubernetesKind.Required,
		Replace:   kubernetesKind.Replace,
		Sensitive: []string{"data", "stringData"}},
}

// Lookup returns how the simulated cloud treats a resource type. Any
// Kubernetes object is known; other packages only know the types above.
func Lookup(typ string) (Kind, bool) {
	if k, ok := secretKinds[typ]; ok {
		return k, true
	}
	if strings.HasPrefix(typ, "kubernetes:") && !strings.HasPrefix(typ, "kubernetes:helm.sh/") {
		return kubernetesKind, true
	}
	k, ok := catalogue[typ]
	return k, ok
}

// Types lists the catalogued types of one package (e.g. "digitalocean").
func Types(pkg string) []string {
	var out []string
	for t := range catalogue {
		if strings.HasPrefix(t, pkg+":") {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// Missing returns the required inputs that are absent or null, sorted. An
// unknown value (a preview of another resource's output) counts as present.
func (k Kind) Missing(inputs resource.PropertyMap) []string {
	var out []string
	for _, key := range k.Required {
		v, ok := inputs[resource.PropertyKey(key)]
		if !ok || v.IsNull() {
			out = append(out, key)
		}
	}
	slices.Sort(out)
	return out
}

// Changes compares old and new inputs. It returns the top-level keys that
// differ and, of the Replace paths, those that differ.
func (k Kind) Changes(olds, news resource.PropertyMap) (changed, replace []string) {
	keys := map[resource.PropertyKey]bool{}
	for key := range olds {
		keys[key] = true
	}
	for key := range news {
		keys[key] = true
	}
	for key := range keys {
		if !equal(olds[key], news[key]) {
			changed = append(changed, string(key))
		}
	}
	for _, path := range k.Replace {
		if !equal(at(olds, path), at(news, path)) {
			replace = append(replace, path)
		}
	}
	sort.Strings(changed)
	sort.Strings(replace)
	return changed, replace
}

// at returns the value at a dotted path, or a null value.
func at(m resource.PropertyMap, path string) resource.PropertyValue {
	parts := strings.Split(path, ".")
	v := resource.NewObjectProperty(m)
	for _, p := range parts {
		v = plain(v)
		if !v.IsObject() {
			return resource.NewNullProperty()
		}
		next, ok := v.ObjectValue()[resource.PropertyKey(p)]
		if !ok {
			return resource.NewNullProperty()
		}
		v = next
	}
	return v
}

// plain strips secret wrappers: a value made secret is not a changed value.
func plain(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

// equal compares two values, ignoring secretness; an unknown value is never
// equal to anything, as the engine treats it.
func equal(a, b resource.PropertyValue) bool {
	a, b = plain(a), plain(b)
	if a.IsComputed() || b.IsComputed() || a.IsOutput() || b.IsOutput() {
		return false
	}
	return fmt.Sprint(strip(a)) == fmt.Sprint(strip(b))
}

// strip returns a value's plain Go form with every secret unwrapped, so that
// fmt prints maps in sorted order and compares content only.
func strip(v resource.PropertyValue) any {
	v = plain(v)
	switch {
	case v.IsNull():
		return nil
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			out[string(k)] = strip(e)
		}
		return out
	case v.IsArray():
		var out []any
		for _, e := range v.ArrayValue() {
			out = append(out, strip(e))
		}
		return out
	default:
		return v.V
	}
}

// Plain returns a property map as plain Go values with every secret
// unwrapped: what the cloud's own API stores.
func Plain(m resource.PropertyMap) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if plain(v).IsComputed() {
			continue
		}
		out[string(k)] = strip(v)
	}
	return out
}
