package chartcheck

import (
	"fmt"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/client-go/kubernetes/scheme"
)

// servedByDefault are the built-in API group versions a kube-apiserver of
// each minor serves with its default flags. Checked for 1.35 in
// k8s.io/kubernetes v1.35.4 pkg/controlplane/instance.go
// (stableAPIGroupVersionsEnabledByDefault; every beta and alpha group
// version is in the *DisabledByDefault lists), plus apiextensions.k8s.io/v1
// (the CRD server) and apiregistration.k8s.io/v1 (the aggregator), which
// kube-apiserver always chains in front of it. Add a minor here, from the
// same file at its tag, before a cluster moves to it.
var servedByDefault = map[string][]string{
	"1.35": {
		"v1",
		"admissionregistration.k8s.io/v1",
		"apiextensions.k8s.io/v1",
		"apiregistration.k8s.io/v1",
		"apps/v1",
		"authentication.k8s.io/v1",
		"authorization.k8s.io/v1",
		"autoscaling/v1",
		"autoscaling/v2",
		"batch/v1",
		"certificates.k8s.io/v1",
		"coordination.k8s.io/v1",
		"discovery.k8s.io/v1",
		"events.k8s.io/v1",
		"flowcontrol.apiserver.k8s.io/v1",
		"networking.k8s.io/v1",
		"node.k8s.io/v1",
		"policy/v1",
		"rbac.authorization.k8s.io/v1",
		"resource.k8s.io/v1",
		"scheduling.k8s.io/v1",
		"storage.k8s.io/v1",
	},
}

// ServedBuiltins returns the built-in group versions served by a
// Kubernetes version (v1.35.4 or 1.35), each also with its kinds
// (policy/v1/PodDisruptionBudget), as discovery lists them and as charts
// test for with .Capabilities.APIVersions.Has; or an error naming the minors
// known. The kinds of a group version are the types client-go's scheme
// registers for it (the same Kubernetes release as the Helm library), less
// lists and option types, which discovery does not list as resources.
func ServedBuiltins(kubeVersion string) ([]string, error) {
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		return nil, err
	}
	minor := kv.Major + "." + kv.Minor
	gvs, ok := servedByDefault[minor]
	if !ok {
		var known []string
		for k := range servedByDefault {
			known = append(known, k)
		}
		slices.Sort(known)
		return nil, fmt.Errorf("no served-API table for Kubernetes %s (known: %s): add it to internal/chartcheck/kubeapi.go from k8s.io/kubernetes pkg/controlplane/instance.go at that release",
			minor, strings.Join(known, ", "))
	}
	out := slices.Clone(gvs)
	for _, k := range serverKinds {
		if slices.Contains(gvs, k[:strings.LastIndex(k, "/")]) {
			out = append(out, k)
		}
	}
	for gvk := range scheme.Scheme.AllKnownTypes() {
		gv := gvk.GroupVersion().String()
		if !slices.Contains(gvs, gv) || strings.HasSuffix(gvk.Kind, "List") || strings.HasSuffix(gvk.Kind, "Options") || gvk.Kind == "WatchEvent" {
			continue
		}
		out = append(out, gv+"/"+gvk.Kind)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// serverKinds are the kinds of the two servers kube-apiserver chains in
// front of its own (client-go's scheme does not register them).
var serverKinds = []string{"apiextensions.k8s.io/v1/CustomResourceDefinition", "apiregistration.k8s.io/v1/APIService"}

// clusterScoped are the built-in kinds that are not namespaced. Checked in
// k8s.io/kubernetes v1.35.4: every pkg/registry/**/strategy.go (or rest.go,
// storage.go) whose NamespaceScoped() returns false, plus the CRD and
// APIService kinds of the apiextensions and aggregator servers.
var clusterScoped = []string{
	"APIService", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding", "ClusterTrustBundle",
	"ComponentStatus", "CSIDriver", "CSINode", "CustomResourceDefinition", "DeviceClass", "DeviceTaintRule",
	"FlowSchema", "IngressClass", "IPAddress", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
	"MutatingWebhookConfiguration", "Namespace", "Node", "PersistentVolume", "PriorityClass",
	"PriorityLevelConfiguration", "ResourceSlice", "RuntimeClass", "SelfSubjectAccessReview",
	"SelfSubjectReview", "SelfSubjectRulesReview", "ServiceCIDR", "StorageClass", "StorageVersion",
	"StorageVersionMigration", "SubjectAccessReview", "TokenReview", "ValidatingAdmissionPolicy",
	"ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration", "VolumeAttachment",
	"VolumeAttributesClass",
}
