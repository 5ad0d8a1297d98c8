// Package ciliumpolicy builds the CiliumNetworkPolicy specs the baseline
// declares, as plain Go data, so that tests can check them against the
// Cilium CRD's schema without the Pulumi SDKs.
//
// Why Cilium's own kind: an application namespace is default-deny, and a
// Kubernetes NetworkPolicy can only open egress by CIDR. Spaces has no fixed
// CIDR (its names resolve to addresses DigitalOcean may change), so the
// namespaces that use the app bucket get a CiliumNetworkPolicy that allows
// the bucket's endpoint by name (toFQDNs). Both clusters run Cilium: the
// Talos stack installs it, and DOKS runs it as its managed CNI
// (internal/clusterapi).
package ciliumpolicy

import "strconv"

// APIVersion and Kind of the policy (checked: the CRD in
// github.com/cilium/cilium@v1.20.2 pkg/k8s/apis/cilium.io/client/crds/v2/
// ciliumnetworkpolicies.yaml serves cilium.io/v2).
const (
	APIVersion = "cilium.io/v2"
	Kind       = "CiliumNetworkPolicy"
)

// SpacesEgressName is the policy's name in each namespace that uses the app
// bucket.
const SpacesEgressName = "allow-spaces-app-bucket"

// HTTPSPort is the only port open to Spaces: the bucket policy denies plain
// HTTP (components/data bucketPolicy).
const HTTPSPort = 443

// SpacesHosts are the names a client of a Spaces bucket resolves: the
// regional endpoint (path-style requests, <region>.digitaloceanspaces.com,
// the S3 endpoint Velero and Loki use here too) and the bucket's
// virtual-hosted name (<bucket>.<region>.digitaloceanspaces.com), which
// S3 SDKs use by default (unverified for every SDK: each names its own
// addressing default). Exact names, not a *.digitaloceanspaces.com pattern:
// a pattern would admit every other bucket's virtual host as well.
func SpacesHosts(region, bucket string) []string {
	endpoint := region + ".digitaloceanspaces.com"
	return []string{endpoint, bucket + "." + endpoint}
}

// DNS selects the cluster DNS pods, with the labels Cilium gives endpoints:
// the namespace as k8s:io.kubernetes.pod.namespace and the pod's labels with
// the k8s: source prefix (checked: github.com/cilium/cilium@v1.20.2
// examples/policies/l3/fqdn/fqdn.yaml and l7/dns/dns-visibility.yaml, the
// same DNS rule and toFQDNs shape as FQDNEgressSpec). CoreDNS carries k8s-app=kube-dns on DOKS and Talos
// (components/baseline DNS).
func DNS(namespace string, labels map[string]string) map[string]any {
	m := map[string]any{"k8s:io.kubernetes.pod.namespace": namespace}
	for k, v := range labels {
		m["k8s:"+k] = v
	}
	return map[string]any{"matchLabels": m}
}

// FQDNEgressSpec is the spec of a policy that selects every pod of its
// namespace and allows:
//
//   - DNS to the cluster DNS pods (dns), on port 53 of any protocol, through
//     Cilium's DNS proxy (rules.dns matchPattern "*"): toFQDNs only learns
//     the addresses of names it sees resolved, so without this DNS
//     visibility the name rule below never matches an address. "*" keeps
//     every other lookup working: the proxy refuses names no rule allows.
//   - TCP on port to the given names (toFQDNs matchName).
//
// The two are separate egress rules: the CRD says "ToFQDN cannot occur in
// the same policy as other To* rules" of one rule. Cilium adds these allows
// to those of the namespace's Kubernetes NetworkPolicies (default-deny
// stays in force for everything else).
func FQDNEgressSpec(dns map[string]any, hosts []string, port int) map[string]any {
	names := make([]any, 0, len(hosts))
	for _, h := range hosts {
		names = append(names, map[string]any{"matchName": h})
	}
	return map[string]any{
		"endpointSelector": map[string]any{},
		"egress": []any{
			map[string]any{
				"toEndpoints": []any{dns},
				"toPorts": []any{map[string]any{
					"ports": []any{map[string]any{"port": "53", "protocol": "ANY"}},
					"rules": map[string]any{"dns": []any{map[string]any{"matchPattern": "*"}}},
				}},
			},
			map[string]any{
				"toFQDNs": names,
				"toPorts": []any{map[string]any{
					"ports": []any{map[string]any{"port": strconv.Itoa(port), "protocol": "TCP"}},
				}},
			},
		},
	}
}

// Object is a whole CiliumNetworkPolicy object, as the API server receives it.
func Object(name, namespace string, spec map[string]any) map[string]any {
	return map[string]any{
		"apiVersion": APIVersion,
		"kind":       Kind,
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"spec":       spec,
	}
}
