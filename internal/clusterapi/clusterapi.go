// Package clusterapi lists the custom kinds each kind of cluster provides by
// itself: CRDs that a managed add-on installs (DOKS) or that an operator
// the stack runs registers when it starts (Cilium on Talos). No chart of
// the stack renders them, so the render test (internal/chartcheck) takes
// them from here, and the local control planes of the engine tests serve
// them, simulated.
package clusterapi

import "github.com/hybridcloud/platform/internal/config"

// API is one custom kind a cluster serves.
type API struct {
	APIVersion string
	Kind       string
	Namespaced bool
	// Source says who installs the CRD and where that was seen.
	Source string
	// Release is the stack's Helm release whose operator registers the CRD
	// at start; objects of the kind must wait for it. Empty when the cluster
	// has the CRD from the start.
	Release string
}

// Sources of the entries below.
const (
	doksRoutingAgent = "the DOKS routing agent (DigitalOcean docs: How to Use the Routing Agent in Kubernetes Clusters). " +
		"Scope: the docs' Route examples carry no namespace (unverified against the CRD itself, which DigitalOcean does not publish)"
	doksSnapshots = "the CSI snapshot CRDs DOKS installs (DigitalOcean docs: How to Create Volume Snapshots in Kubernetes Clusters, " +
		"snapshot.storage.k8s.io/v1). Scope checked in github.com/kubernetes-csi/external-snapshotter/client/v8@v8.7.0 config/crd"
	doksCilium = "DOKS's managed Cilium CNI (DigitalOcean docs: How to Use Gateway API ... \"a managed Gateway API implementation using Cilium\"). " +
		"Scope checked in the CRD files of github.com/cilium/cilium@v1.20.2 pkg/k8s/apis/cilium.io/client/crds (the nearest version the module proxy serves; the DOKS Cilium version is not published here)"
	talosMachined = "Talos' machined, which registers serviceaccounts.talos.dev (Namespaced) on a cluster whose control-plane machine config enables kubernetesTalosAPIAccess " +
		"(siderolabs/talos v1.12.11 internal/app/machined/pkg/controllers/k8s/internal/k8stemplates/crds.go, TalosServiceAccountCRDTemplate)"
	talosCilium = "the cilium operator of the stack's cilium release, which registers its CRDs when it starts (cilium chart 1.18.12 lists them in its artifacthub.io/crds annotation, with these versions). " +
		"Scope checked in github.com/cilium/cilium@v1.20.2 pkg/k8s/apis/cilium.io/client/crds (v1.18.12 is not served by the module proxy)"
)

// CiliumRelease is the Talos stack's Helm release of Cilium.
const CiliumRelease = "cilium"

var cilium = []API{
	{APIVersion: "cilium.io/v2", Kind: "CiliumNetworkPolicy", Namespaced: true},
	{APIVersion: "cilium.io/v2", Kind: "CiliumClusterwideNetworkPolicy"},
	{APIVersion: "cilium.io/v2", Kind: "CiliumLoadBalancerIPPool"},
	{APIVersion: "cilium.io/v2alpha1", Kind: "CiliumL2AnnouncementPolicy"},
}

// For returns the kinds a cluster of the given kind (config.ClusterDOKS or
// config.ClusterTalos) provides by itself.
func For(clusterKind string) []API {
	var out []API
	switch clusterKind {
	case config.ClusterDOKS:
		out = append(out,
			API{APIVersion: "networking.doks.digitalocean.com/v1alpha1", Kind: "Route", Source: doksRoutingAgent},
			API{APIVersion: "snapshot.storage.k8s.io/v1", Kind: "VolumeSnapshotClass", Source: doksSnapshots},
			API{APIVersion: "snapshot.storage.k8s.io/v1", Kind: "VolumeSnapshotContent", Source: doksSnapshots},
			API{APIVersion: "snapshot.storage.k8s.io/v1", Kind: "VolumeSnapshot", Namespaced: true, Source: doksSnapshots},
		)
		for _, c := range cilium {
			c.Source = doksCilium
			out = append(out, c)
		}
	case config.ClusterTalos:
		out = append(out, API{APIVersion: "talos.dev/v1alpha1", Kind: "ServiceAccount", Namespaced: true, Source: talosMachined})
		for _, c := range cilium {
			c.Source, c.Release = talosCilium, CiliumRelease
			out = append(out, c)
		}
	}
	return out
}
