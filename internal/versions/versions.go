// Package versions pins every Helm chart and manifest version the program
// installs, in one place. Keep entries alphabetic so that merges stay easy.
// Talos, Kubernetes and DOKS versions are stack config, not here.
package versions

// Chart is a pinned Helm chart: its name in a repository, the repository URL
// and the exact chart version.
type Chart struct {
	Name    string
	Repo    string
	Version string
}

// Cilium is the CNI of the Talos cluster (Talos runs with cni: none).
var Cilium = Chart{Name: "cilium", Repo: "https://helm.cilium.io", Version: "1.18.2"}

// KubeletServingCertApprover approves the kubelet serving-certificate CSRs
// that rotate-server-certificates produces (metrics-server needs them). It is
// applied by Talos as an extra manifest; the URL pins a release tag.
const KubeletServingCertApprover = "https://raw.githubusercontent.com/alex1989hu/kubelet-serving-cert-approver/v0.9.2/deploy/standalone-install.yaml"

// LocalPathProvisioner provisions hostPath volumes on the nodes' local SSD.
// Upstream (rancher) publishes no chart repository; containeroo mirrors the
// upstream chart (0.0.38 = provisioner v0.0.37).
var LocalPathProvisioner = Chart{Name: "local-path-provisioner", Repo: "https://charts.containeroo.ch", Version: "0.0.38"}

// NFSSubdirExternalProvisioner provisions shared RWX volumes on the NFS server.
var NFSSubdirExternalProvisioner = Chart{Name: "nfs-subdir-external-provisioner", Repo: "https://kubernetes-sigs.github.io/nfs-subdir-external-provisioner", Version: "4.0.18"}
