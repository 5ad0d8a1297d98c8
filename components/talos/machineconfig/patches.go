package machineconfig

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/siderolabs/talos/pkg/machinery/role"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/versions"
)

// The Talos machine-config fields this program patches, as typed Go. Each
// patch is rendered to YAML with yaml.v3 and applied by Talos as a strategic
// merge over the generated base config; interfaces merge by name.

type patch struct {
	Machine *machineSection `yaml:"machine,omitempty"`
	Cluster *clusterSection `yaml:"cluster,omitempty"`
}

type machineSection struct {
	Install    *install          `yaml:"install,omitempty"`
	CertSANs   []string          `yaml:"certSANs,omitempty"`
	Kubelet    *kubelet          `yaml:"kubelet,omitempty"`
	Network    *network          `yaml:"network,omitempty"`
	Features   *features         `yaml:"features,omitempty"`
	NodeLabels map[string]string `yaml:"nodeLabels,omitempty"`
}

type install struct {
	Disk  string `yaml:"disk,omitempty"`
	Image string `yaml:"image,omitempty"`
}

type kubelet struct {
	ExtraArgs   map[string]string `yaml:"extraArgs,omitempty"`
	ExtraMounts []extraMount      `yaml:"extraMounts,omitempty"`
	NodeIP      *nodeIP           `yaml:"nodeIP,omitempty"`
}

type extraMount struct {
	Destination string   `yaml:"destination"`
	Type        string   `yaml:"type"`
	Source      string   `yaml:"source"`
	Options     []string `yaml:"options"`
}

type nodeIP struct {
	ValidSubnets []string `yaml:"validSubnets"`
}

type network struct {
	Nameservers []string    `yaml:"nameservers,omitempty"`
	Interfaces  []netDevice `yaml:"interfaces,omitempty"`
}

type netDevice struct {
	Interface string     `yaml:"interface"`
	Addresses []string   `yaml:"addresses,omitempty"`
	MTU       int        `yaml:"mtu,omitempty"`
	Routes    []route    `yaml:"routes,omitempty"`
	VIP       *vip       `yaml:"vip,omitempty"`
	Wireguard *wireguard `yaml:"wireguard,omitempty"`
}

type route struct {
	Network string `yaml:"network"`
	Gateway string `yaml:"gateway"`
}

type vip struct {
	IP string `yaml:"ip"`
}

type wireguard struct {
	PrivateKey string          `yaml:"privateKey"`
	ListenPort int             `yaml:"listenPort"`
	Peers      []wireguardPeer `yaml:"peers"`
}

type wireguardPeer struct {
	PublicKey                   string   `yaml:"publicKey"`
	Endpoint                    string   `yaml:"endpoint"`
	PersistentKeepaliveInterval string   `yaml:"persistentKeepaliveInterval"`
	AllowedIPs                  []string `yaml:"allowedIPs"`
}

// hostnameConfig is the HostnameConfig document, which carries the hostname
// from Talos 1.12 on: the base config of the 1.12 contract holds one (auto:
// stable), and a v1alpha1 machine.network.hostname next to it fails
// validation with "static hostname is already set in v1alpha1 config".
// Checked: machinery v1.12.5 config/types/network/hostname.go
// (V1Alpha1ConflictValidate; auto "off" with a hostname is the static form),
// and by tests/talosmachinery.
type hostnameConfig struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Auto       string `yaml:"auto"`
	Hostname   string `yaml:"hostname"`
}

type features struct {
	KubePrism                *kubePrism      `yaml:"kubePrism,omitempty"`
	KubernetesTalosAPIAccess *talosAPIAccess `yaml:"kubernetesTalosAPIAccess,omitempty"`
}

// talosAPIAccess is machine.features.kubernetesTalosAPIAccess: pods in the
// allowed namespaces may ask, through a talos.dev ServiceAccount, for a
// Talos client certificate with the allowed roles. Checked: machinery
// v1.12.5 config/types/v1alpha1/v1alpha1_types.go:2263-2274 (the yaml
// keys), and v1alpha1_validation.go:332-341 (control-plane nodes only,
// roles from role.All).
type talosAPIAccess struct {
	Enabled                     bool     `yaml:"enabled"`
	AllowedRoles                []string `yaml:"allowedRoles"`
	AllowedKubernetesNamespaces []string `yaml:"allowedKubernetesNamespaces"`
}

type kubePrism struct {
	Enabled bool `yaml:"enabled"`
	Port    int  `yaml:"port"`
}

type clusterSection struct {
	Network           *clusterNetwork `yaml:"network,omitempty"`
	Proxy             *proxy          `yaml:"proxy,omitempty"`
	APIServer         *apiServer      `yaml:"apiServer,omitempty"`
	ControllerManager *component      `yaml:"controllerManager,omitempty"`
	Scheduler         *component      `yaml:"scheduler,omitempty"`
	Etcd              *etcd           `yaml:"etcd,omitempty"`
	ExtraManifests    []string        `yaml:"extraManifests,omitempty"`
}

type clusterNetwork struct {
	PodSubnets     []string `yaml:"podSubnets"`
	ServiceSubnets []string `yaml:"serviceSubnets"`
	CNI            cni      `yaml:"cni"`
}

type cni struct {
	Name string `yaml:"name"`
}

type proxy struct {
	Disabled bool `yaml:"disabled"`
}

type apiServer struct {
	CertSANs []string `yaml:"certSANs"`
}

type etcd struct {
	AdvertisedSubnets []string          `yaml:"advertisedSubnets"`
	ExtraArgs         map[string]string `yaml:"extraArgs,omitempty"`
}

// component is a control-plane static pod's settings (scheduler,
// controller-manager).
type component struct {
	ExtraArgs map[string]string `yaml:"extraArgs,omitempty"`
}

// KubePrismPort is the node-local API server load balancer Talos runs; Cilium
// reaches the API through it, so it never depends on a Service IP.
const KubePrismPort = 7445

// Control-plane metrics endpoints Prometheus scrapes (components/observability
// uses the same ports). Talos binds the scheduler and controller-manager to
// 127.0.0.1 and gives etcd no metrics listener beyond its mTLS client port;
// the control-plane patch opens them on all addresses.
const (
	// etcdMetricsURL is etcd's plain-HTTP /metrics (and /health) listener.
	etcdMetricsURL = "http://0.0.0.0:2381"
	// metricsBindAddress is the scheduler's (https 10259) and the
	// controller-manager's (https 10257) bind address; both still
	// authenticate and authorize every request.
	metricsBindAddress = "0.0.0.0"
)

// wireguardInterface is the tunnel link on the WireGuard node.
const wireguardInterface = "wg0"

// wireguardMTU leaves room for WireGuard's 80-byte overhead on a 1500 link.
const wireguardMTU = 1420

// keepalive keeps the on-prem NAT mapping open so the gateway can reach in.
const keepalive = "25s"

// render renders a patch of one or more documents; Talos merges each
// document with the base config's document of the same kind.
func render(docs ...any) (string, error) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return "", fmt.Errorf("talos: render config patch: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("talos: render config patch: %w", err)
	}
	return b.String(), nil
}

// clusterPatch is the same on every node: subnets, CNI, installer, kubelet.
func clusterPatch(a *Input) patch {
	t, n := a.Talos, a.Network
	k := &kubelet{
		// Serving certificates signed by the cluster CA, so that
		// metrics-server can verify kubelets; the approver signs the CSRs.
		ExtraArgs: map[string]string{"rotate-server-certificates": "true"},
		// Never register the VIP or the tunnel address as the node IP.
		NodeIP: &nodeIP{ValidSubnets: []string{t.LanCidr.String()}},
	}
	if a.LocalStoragePath != "" {
		// The kubelet runs in a container: hostPath volumes under this path
		// must be bind-mounted into it with shared propagation.
		k.ExtraMounts = []extraMount{{
			Destination: a.LocalStoragePath, Type: "bind", Source: a.LocalStoragePath,
			Options: []string{"bind", "rshared", "rw"},
		}}
	}
	return patch{
		Machine: &machineSection{
			Install:  &install{Image: t.InstallImage},
			Kubelet:  k,
			Network:  &network{Nameservers: config.Strings(t.Nameservers)},
			Features: &features{KubePrism: &kubePrism{Enabled: true, Port: KubePrismPort}},
		},
		Cluster: &clusterSection{
			Network: &clusterNetwork{
				// Explicit: Talos' default service subnet (10.96.0.0/12)
				// would cover the DO VPC.
				PodSubnets:     []string{n.TalosPodCidr.String()},
				ServiceSubnets: []string{n.TalosServiceCidr.String()},
				// Cilium is installed after bootstrap and enforces
				// NetworkPolicy; Flannel would not.
				CNI: cni{Name: "none"},
			},
			// Cilium replaces kube-proxy.
			Proxy: &proxy{Disabled: true},
		},
	}
}

// controlPlanePatch is the same on every control-plane node.
func controlPlanePatch(a *Input) patch {
	sans := []string{a.Talos.Vip.String(), a.Tunnel.Address.Addr().String()}
	return patch{
		Machine: &machineSection{
			CertSANs: sans,
			// The etcd snapshot CronJob (components/etcdbackup) asks for
			// os:etcd:backup, from its own namespace only: the role allows
			// EtcdSnapshot and the read-only EtcdAlarmList, EtcdMemberList
			// and EtcdStatus, nothing else (talos v1.12.11
			// internal/app/machined/pkg/system/services/machined.go:50-59).
			Features: &features{KubernetesTalosAPIAccess: &talosAPIAccess{
				Enabled:                     true,
				AllowedRoles:                []string{string(role.EtcdBackup)},
				AllowedKubernetesNamespaces: []string{config.EtcdBackupNamespace},
			}},
		},
		Cluster: &clusterSection{
			// The API is reached on the VIP on site and on the tunnel
			// address from DigitalOcean.
			APIServer: &apiServer{CertSANs: sans},
			// etcd peers talk on the LAN, never on the VIP or the tunnel;
			// its metrics, the scheduler's and the controller-manager's are
			// reachable from Prometheus on the node addresses.
			Etcd: &etcd{
				AdvertisedSubnets: []string{a.Talos.LanCidr.String()},
				ExtraArgs:         map[string]string{"listen-metrics-urls": etcdMetricsURL},
			},
			Scheduler:         &component{ExtraArgs: map[string]string{"bind-address": metricsBindAddress}},
			ControllerManager: &component{ExtraArgs: map[string]string{"bind-address": metricsBindAddress}},
			ExtraManifests:    []string{versions.KubeletServingCertApprover},
		},
	}
}

// nodePatch is one node's identity but its hostname (nodeHostname): address,
// routes, VIP, disk, labels. Nodes other than the WireGuard node route the tunnel's ranges
// through it.
func nodePatch(a *Input, n config.TalosNode) patch {
	link := netDevice{
		Interface: n.Interface,
		Addresses: []string{netip.PrefixFrom(n.IP, a.Talos.LanCidr.Bits()).String()},
		Routes:    []route{{Network: "0.0.0.0/0", Gateway: a.Talos.Gateway.String()}},
	}
	if wg := a.wireguardNode(); n.Name != wg.Name {
		for _, r := range a.Tunnel.Peer.AllowedIPs {
			link.Routes = append(link.Routes, route{Network: r.String(), Gateway: wg.IP.String()})
		}
	}
	if n.Role == config.RoleControlPlane {
		link.VIP = &vip{IP: a.Talos.Vip.String()}
	}
	return patch{Machine: &machineSection{
		Install:    &install{Disk: n.InstallDisk},
		Network:    &network{Interfaces: []netDevice{link}},
		NodeLabels: n.Labels,
	}}
}

// nodeHostname is the node's static hostname: its name.
func nodeHostname(n config.TalosNode) hostnameConfig {
	return hostnameConfig{APIVersion: "v1alpha1", Kind: "HostnameConfig", Auto: "off", Hostname: n.Name}
}

// wireguardPatch is the wg0 link on the WireGuard node. It holds the private
// key: the caller keeps the rendered patch a secret.
func wireguardPatch(a *Input, privateKey string) patch {
	w := a.Tunnel
	link := netDevice{
		Interface: wireguardInterface,
		Addresses: []string{w.Address.String()},
		MTU:       wireguardMTU,
		Wireguard: &wireguard{
			PrivateKey: privateKey,
			ListenPort: w.ListenPort,
			Peers: []wireguardPeer{{
				PublicKey:                   w.Peer.PublicKey,
				Endpoint:                    w.Peer.Endpoint,
				PersistentKeepaliveInterval: keepalive,
				AllowedIPs:                  config.Strings(w.Peer.AllowedIPs),
			}},
		},
	}
	// WireGuard routes nothing by itself: each allowed range beyond the
	// tunnel's own subnet gets a route via the gateway's tunnel address.
	for _, r := range w.Peer.AllowedIPs {
		if !w.Address.Masked().Contains(r.Addr()) {
			link.Routes = append(link.Routes, route{Network: r.String(), Gateway: w.Peer.Gateway.String()})
		}
	}
	return patch{Machine: &machineSection{Network: &network{Interfaces: []netDevice{link}}}}
}
