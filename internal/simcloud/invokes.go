package simcloud

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Invoke answers a function call by token, as the real provider would. A
// token it does not know is an error, never an empty answer.
func Invoke(token string, args resource.PropertyMap) (resource.PropertyMap, error) {
	fn, ok := invokes[token]
	if !ok {
		return nil, fmt.Errorf("unhandled invoke %s: add an answer to internal/simcloud", token)
	}
	return fn(args)
}

// invokes answers every function call the program makes, by token.
var invokes = map[string]func(args resource.PropertyMap) (resource.PropertyMap, error){
	"talos:machine/getConfiguration:getConfiguration":                talosMachineConfiguration,
	"talos:client/getConfiguration:getConfiguration":                 talosClientConfiguration,
	"cloudflare:index/getZone:getZone":                               cloudflareZone,
	"talos:cluster/getHealth:getHealth":                              talosHealth,
	"digitalocean:index/getKubernetesVersions:getKubernetesVersions": doksVersions,
}

// cloudflareZone answers a zone lookup by name with stable ids.
func cloudflareZone(args resource.PropertyMap) (resource.PropertyMap, error) {
	name := String(args, "name")
	if name == "" {
		return nil, fmt.Errorf("cloudflare getZone: the program must look zones up by name")
	}
	return resource.PropertyMap{
		"id":          resource.NewProperty(hexID("zone:"+name, 32)),
		"zoneId":      resource.NewProperty(hexID("zone:"+name, 32)),
		"accountId":   resource.NewProperty(hexID("account:"+name, 32)),
		"name":        resource.NewProperty(name),
		"status":      resource.NewProperty("active"),
		"paused":      resource.NewProperty(false),
		"plan":        resource.NewProperty("Business Website"),
		"nameServers": resource.NewPropertyValue([]any{"ada.ns.cloudflare.com", "bob.ns.cloudflare.com"}),
	}, nil
}

func required(args resource.PropertyMap, keys ...string) error {
	var missing []string
	for _, k := range keys {
		if String(args, k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing required argument(s) %s", strings.Join(missing, ", "))
	}
	return nil
}

// talosMachineConfiguration renders the base machine config a real Talos
// provider would: the patches are applied later by ConfigurationApply.
func talosMachineConfiguration(args resource.PropertyMap) (resource.PropertyMap, error) {
	if err := required(args, "clusterName", "clusterEndpoint", "machineType"); err != nil {
		return nil, fmt.Errorf("talos getConfiguration: %w", err)
	}
	if _, ok := args["machineSecrets"]; !ok {
		return nil, fmt.Errorf("talos getConfiguration: missing required argument machineSecrets")
	}
	typ := String(args, "machineType")
	cfg := fmt.Sprintf(`version: v1alpha1
machine:
  type: %s
  install:
    image: ghcr.io/siderolabs/installer:%s
cluster:
  clusterName: %s
  controlPlane:
    endpoint: %s
  network:
    dnsDomain: cluster.local
  kubernetesVersion: %s
`, typ, String(args, "talosVersion"), String(args, "clusterName"), String(args, "clusterEndpoint"), String(args, "kubernetesVersion"))
	out := resource.PropertyMap{}
	for k, v := range args {
		out[k] = v
	}
	out["machineConfiguration"] = resource.NewProperty(cfg)
	return out, nil
}

func talosClientConfiguration(args resource.PropertyMap) (resource.PropertyMap, error) {
	if err := required(args, "clusterName"); err != nil {
		return nil, fmt.Errorf("talos client getConfiguration: %w", err)
	}
	var endpoints, nodes []string
	for _, key := range []string{"endpoints", "nodes"} {
		if v, ok := args[resource.PropertyKey(key)]; ok && v.IsArray() {
			for _, e := range v.ArrayValue() {
				if e.IsString() {
					if key == "endpoints" {
						endpoints = append(endpoints, e.StringValue())
					} else {
						nodes = append(nodes, e.StringValue())
					}
				}
			}
		}
	}
	name := String(args, "clusterName")
	cfg := fmt.Sprintf("context: %s\ncontexts:\n  %s:\n    endpoints: [%s]\n    nodes: [%s]\n    ca: mock\n    crt: mock\n    key: mock\n",
		name, name, strings.Join(endpoints, ", "), strings.Join(nodes, ", "))
	out := resource.PropertyMap{}
	for k, v := range args {
		out[k] = v
	}
	out["talosConfig"] = resource.NewProperty(cfg)
	return out, nil
}

// talosHealth answers cluster.GetHealth as terraform-provider-talos v0.10.1
// does when every check passes: the arguments back, with the fixed id
// "cluster_health" (checked: pkg/talos/talos_cluster_health_data_source.go).
func talosHealth(args resource.PropertyMap) (resource.PropertyMap, error) {
	for _, k := range []resource.PropertyKey{"clientConfiguration", "endpoints", "controlPlaneNodes"} {
		if _, ok := args[k]; !ok {
			return nil, fmt.Errorf("talos getHealth: missing required argument %s", k)
		}
	}
	out := resource.PropertyMap{}
	for k, v := range args {
		out[k] = v
	}
	out["id"] = resource.NewProperty("cluster_health")
	return out, nil
}
