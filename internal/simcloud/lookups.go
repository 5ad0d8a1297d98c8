package simcloud

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Finder looks an object up in a simulated cloud: the first object of a type
// whose output key has the given string value, with its id and state.
type Finder func(typ, key, value string) (id string, state resource.PropertyMap, ok bool)

// InvokeIn answers an invoke like Invoke, and also the data sources that
// read objects the cloud already holds, which find looks up.
func InvokeIn(token string, args resource.PropertyMap, find Finder) (resource.PropertyMap, error) {
	if fn, ok := lookups[token]; ok {
		if find == nil {
			return nil, fmt.Errorf("%s reads the cloud's objects: this caller has none to offer", token)
		}
		return fn(args, find)
	}
	return Invoke(token, args)
}

var lookups = map[string]func(resource.PropertyMap, Finder) (resource.PropertyMap, error){
	"digitalocean:index/getKubernetesCluster:getKubernetesCluster": kubernetesClusterLookup,
}

// doksDefaultExpiry is the lifetime of a DOKS token minted without an expiry
// (DigitalOcean API reference, Kubernetes credentials: "If not set or 0, then
// the token will have a 7 day expiry").
const doksDefaultExpiry = 7 * 24 * time.Hour

// mintedAt is the simulated clock of credential minting (the expiry it
// reports). The token itself is new at every call, as the credentials
// endpoint's is: a simulation that handed out the same token twice once hid
// a program that put the token into its provider and so changed it at every
// run (components/doks/provider.go).
var mintedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// kubernetesClusterLookup answers the DOKS cluster data source as the
// provider does (terraform-provider-digitalocean v2.96.0
// datasource_kubernetes_cluster.go): it finds the cluster by name or fails
// with the provider's message, reports the cluster's state, and mints fresh
// credentials through the credentials endpoint with the requested expiry.
func kubernetesClusterLookup(args resource.PropertyMap, find Finder) (resource.PropertyMap, error) {
	name := String(args, "name")
	if name == "" {
		return nil, fmt.Errorf("getKubernetesCluster: missing required argument name")
	}
	expiry := doksDefaultExpiry
	if v, ok := args["kubeconfigExpireSeconds"]; ok && v.IsNumber() {
		switch s := v.NumberValue(); {
		case s < 0:
			// validation.IntAtLeast(0) in the data source's schema
			return nil, fmt.Errorf("getKubernetesCluster: expected kubeconfig_expire_seconds to be at least (0), got %v", s)
		case s > 0:
			expiry = time.Duration(s) * time.Second
		}
	}
	id, state, ok := find("digitalocean:index/kubernetesCluster:KubernetesCluster", "name", name)
	if !ok {
		return nil, fmt.Errorf("getKubernetesCluster: Unable to find cluster with name: %s", name)
	}
	out := resource.PropertyMap{"id": resource.NewProperty(id), "name": resource.NewProperty(name)}
	for _, k := range []resource.PropertyKey{"region", "version", "endpoint", "ipv4Address", "clusterSubnet",
		"serviceSubnet", "vpcUuid", "status", "urn", "tags", "ha", "autoUpgrade", "surgeUpgrade"} {
		if v, ok := state[k]; ok {
			out[k] = v
		}
	}
	host, ca := "", ""
	if cfgs := plain(state["kubeConfigs"]); cfgs.IsArray() && len(cfgs.ArrayValue()) > 0 {
		first := plain(cfgs.ArrayValue()[0])
		if first.IsObject() {
			host, ca = String(first.ObjectValue(), "host"), String(first.ObjectValue(), "clusterCaCertificate")
		}
	}
	token := "doks-token-" + rand.Text()
	out["kubeconfigExpireSeconds"] = resource.NewProperty(expiry.Seconds())
	out["kubeConfigs"] = resource.NewPropertyValue([]any{map[string]any{
		"host":                 host,
		"clusterCaCertificate": ca,
		"token":                token,
		"expiresAt":            mintedAt.Add(expiry).Format(time.RFC3339),
		"rawConfig":            Kubeconfig(host, ca, name, "token: "+token),
		"clientCertificate":    "",
		"clientKey":            "",
	}})
	return out, nil
}
