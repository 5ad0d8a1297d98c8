// Package config reads the stack configuration into typed structs and validates
// all of it before any resource is declared. It is the only place that reads
// Pulumi config: components receive the validated structs.
package config

import "net/netip"

// Project is the Pulumi project name; config keys are namespaced with it.
const Project = "hybrid-platform"

// The stacks this repository ships for the hybrid bring-up (prod, then
// onprem, then prod again), which the local engine and the cluster tests
// bring up together. The program does not dispatch on these names: the
// composition is the stack's kind (key "kind"), and any stack with a config
// file is an environment (docs/configuration.md, "Adding an environment").
const (
	StackProd   = "prod"
	StackOnprem = "onprem"
)

// Stacks lists the hybrid pair in bring-up order.
var Stacks = []string{StackProd, StackOnprem}

// EnvKind is an environment's kind (key "kind"): which composition runs.
type EnvKind string

// Environment kinds.
const (
	// KindDigitalOcean is the DigitalOcean side: network, DOKS, data
	// services, the platform layer and the Cloudflare edge.
	KindDigitalOcean EnvKind = "digitalocean"
	// KindOnprem is the on-premises Talos cluster and its platform layer.
	KindOnprem EnvKind = "onprem"
)

// Kinds is every environment kind, the one list of allowed "kind" values.
var Kinds = []EnvKind{KindDigitalOcean, KindOnprem}

// Config is the whole validated configuration of one stack.
type Config struct {
	// Stack is the stack's name: it names the environment's resources.
	Stack string
	// Kind picks the composition (key "kind").
	Kind EnvKind
	// Production turns on the guardrails that protect production (key
	// "production", true unless set to false): an HA control plane, a
	// default pool of at least ProdMinPoolNodes and a database standby.
	Production bool

	Network  Network  // key "network": the shared address plan (both stacks)
	Gateway  Gateway  // key "gateway": the WireGuard gateway Droplet (prod)
	Doks     Doks     // key "doks" (prod)
	Registry Registry // key "registry" (prod)
	Database Database // key "database" (prod)
	Spaces   Spaces   // key "spaces" (prod)
	Edge     Edge     // key "edge": Cloudflare failover (prod)
	Talos    Talos    // key "talos" (onprem)
	Storage  Storage  // key "storage" (onprem)
	// PullSecret is the DO registry pull secret installed on the Talos
	// cluster (key "pullSecret", onprem).
	PullSecret PullSecret
	Platform   Platform // key "platform": the platform layer (both stacks)

	// ProdStackRef is the fully qualified name of the prod stack that the
	// onprem stack reads (key "prodStackRef").
	ProdStackRef string

	// CostBudgetUSD is the monthly budget at full autoscale (prod, key
	// "costBudgetUsd"); the offline plan fails when the estimate exceeds it.
	CostBudgetUSD int

	// AlertEmail receives platform alerts and failover notifications.
	AlertEmail string

	Secrets Secrets
}

// Network is the address plan shared by both stacks. Both stack files carry
// the same plan so that each stack can check every range against every other.
//
// Ranges and addresses are parsed once, when the config is read (netip types
// unmarshal from text); validation then checks what parsing cannot (IPv4,
// canonical, private, no overlap), so the rest of the program uses them as
// they are.
type Network struct {
	Region           string       `json:"region"`
	VpcCidr          netip.Prefix `json:"vpcCidr"`
	DoksPodCidr      netip.Prefix `json:"doksPodCidr"`
	DoksServiceCidr  netip.Prefix `json:"doksServiceCidr"`
	TunnelCidr       netip.Prefix `json:"tunnelCidr"`
	OnpremCidr       netip.Prefix `json:"onpremCidr"`
	TalosPodCidr     netip.Prefix `json:"talosPodCidr"`
	TalosServiceCidr netip.Prefix `json:"talosServiceCidr"`
	// OnpremPublicIP is the on-prem router's public address: the WireGuard peer
	// endpoint and the only source allowed to reach the gateway's UDP port.
	OnpremPublicIP netip.Addr `json:"onpremPublicIp"`
	WireguardPort  int        `json:"wireguardPort"`
	// OnpremWireguardPublicKey is the on-prem peer's public key (not secret).
	// prod needs it before the onprem stack exists.
	OnpremWireguardPublicKey string `json:"onpremWireguardPublicKey"`
}

// Gateway is the WireGuard gateway Droplet in the DO VPC.
type Gateway struct {
	Size            string         `json:"size"`
	Image           string         `json:"image"`
	SSHAllowedCidrs []netip.Prefix `json:"sshAllowedCidrs"`
	SSHKeyIDs       []string       `json:"sshKeyIds"`
}

// Doks is the DigitalOcean Kubernetes cluster.
type Doks struct {
	// KubernetesMinor is the Kubernetes minor line, such as "1.35". The
	// program resolves it at each run to the newest DOKS slug of that line.
	KubernetesMinor          string         `json:"kubernetesMinor"`
	HA                       bool           `json:"ha"`
	AutoUpgrade              bool           `json:"autoUpgrade"`
	SurgeUpgrade             bool           `json:"surgeUpgrade"`
	Maintenance              DayTime        `json:"maintenance"`
	ControlPlaneAllowedCidrs []netip.Prefix `json:"controlPlaneAllowedCidrs"`
	// SystemPool is the cluster's own default pool (the KubernetesCluster's
	// nodePool block), kept small: its Droplet size cannot change without
	// replacing the cluster, so validation pins it (ProdSystemPoolSize).
	SystemPool NodePool `json:"systemPool"`
	// NodePool is the workload pool and ExtraPools more of them, each a
	// KubernetesNodePool of its own: a new size replaces only the pool,
	// created under a new name (CloudName) before the old one is deleted.
	NodePool   NodePool   `json:"nodePool"`
	ExtraPools []NodePool `json:"extraPools"`
	// CIRunner is where the CI jobs that talk to the cluster run: its egress
	// must be admitted by ControlPlaneAllowedCidrs (see digitalocean.go).
	CIRunner CIRunner `json:"ciRunner"`
}

// CIRunner is a CI runner with a static egress address.
type CIRunner struct {
	// Labels are the workflow's runs-on labels, in order.
	Labels []string `json:"labels"`
	// EgressCidrs are the addresses the runner's traffic leaves from.
	EgressCidrs []netip.Prefix `json:"egressCidrs"`
}

// DayTime is a weekly maintenance window start.
type DayTime struct {
	Day       string `json:"day"`
	StartTime string `json:"startTime"`
}

// NodePool is a DOKS node pool.
type NodePool struct {
	Name     string            `json:"name"`
	Size     string            `json:"size"`
	MinNodes int               `json:"minNodes"`
	MaxNodes int               `json:"maxNodes"`
	Labels   map[string]string `json:"labels"`
	Tags     []string          `json:"tags"`
	Taints   []Taint           `json:"taints"`
}

// Taint is a Kubernetes node taint of a node pool.
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Effect string `json:"effect"`
}

// Registry is the DO container registry (one per account).
type Registry struct {
	Name   string `json:"name"`
	Tier   string `json:"tier"`
	Region string `json:"region"`
}

// Database is the managed PostgreSQL cluster.
type Database struct {
	Version     string  `json:"version"`
	Size        string  `json:"size"`
	NodeCount   int     `json:"nodeCount"`
	Maintenance DayTime `json:"maintenance"`
	BackupHour  int     `json:"backupHour"`
	// BackupMinute is the minute of BackupHour the daily backup starts.
	BackupMinute int    `json:"backupMinute"`
	DBName       string `json:"dbName"`
	User         string `json:"user"`
	PoolMode     string `json:"poolMode"`
	PoolSize     int    `json:"poolSize"`
}

// Spaces is the object storage layout.
type Spaces struct {
	Region string `json:"region"`
	// Buckets names the three buckets; names are global per region.
	AppBucket     string `json:"appBucket"`
	BackupsBucket string `json:"backupsBucket"`
	LogsBucket    string `json:"logsBucket"`
	// NoncurrentVersionDays expires old object versions after this many days.
	NoncurrentVersionDays int `json:"noncurrentVersionDays"`
	// AbortIncompleteUploadDays aborts multipart uploads left this long.
	AbortIncompleteUploadDays int `json:"abortIncompleteUploadDays"`
}

// Talos is the on-prem Talos Linux cluster.
type Talos struct {
	ClusterName       string `json:"clusterName"`
	TalosVersion      string `json:"talosVersion"`
	KubernetesVersion string `json:"kubernetesVersion"`
	// LanCidr is the layer-2 segment the nodes, the VIP and the gateway share
	// (inside network.onpremCidr); node addresses get its prefix length.
	LanCidr netip.Prefix `json:"lanCidr"`
	// Vip is the control-plane virtual IP: the Kubernetes API endpoint.
	Vip          netip.Addr   `json:"vip"`
	InstallImage string       `json:"installImage"`
	Gateway      netip.Addr   `json:"gateway"`
	Nameservers  []netip.Addr `json:"nameservers"`
	// WireguardNode names the node that carries the wg0 tunnel to the DO
	// gateway; the other nodes route the DO ranges through it.
	WireguardNode string `json:"wireguardNode"`
	// IngressAddress is the public address Cloudflare uses as the failover
	// origin; empty means network.onpremPublicIp.
	IngressAddress string `json:"ingressAddress"`
	// Nodes are the active machines: each gets its machine config, and the
	// control-plane ones are the talosctl endpoints, the health check's
	// and the etcd scrape targets.
	Nodes []TalosNode `json:"nodes"`
	// Decommissioned names the machines taken out of the cluster
	// (docs/runbooks/decommission-talos-node.md): a node leaves
	// talos.nodes for this list, the program declares nothing for it, and
	// the removal of a node that the stack last applied is refused unless
	// it is listed here (CheckRemovals).
	Decommissioned []string `json:"decommissioned"`
	// EtcdBackup schedules the etcd snapshots (etcdbackup.go).
	EtcdBackup EtcdBackup `json:"etcdBackup"`
}

// TalosNode is one machine of the Talos cluster.
type TalosNode struct {
	Name        string            `json:"name"`
	IP          netip.Addr        `json:"ip"`
	Role        string            `json:"role"`
	InstallDisk string            `json:"installDisk"`
	Interface   string            `json:"interface"`
	Labels      map[string]string `json:"labels"`
}

// Talos node roles.
const (
	RoleControlPlane = "controlplane"
	RoleWorker       = "worker"
)

// Storage is the on-prem storage layout.
type Storage struct {
	LocalPath string `json:"localPath"`
	NFSServer string `json:"nfsServer"`
	NFSPath   string `json:"nfsPath"`
	Ceph      bool   `json:"ceph"`
}

// PullSecret is the registry pull secret for the DO container registry.
type PullSecret struct {
	// Name of the kubernetes.io/dockerconfigjson Secret.
	Name string `json:"name"`
	// Namespaces this stack creates, each holding a copy of the secret.
	Namespaces []string `json:"namespaces"`
}
