package localcluster

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/simcloud"
)

// kwokNodeAnnotation marks the Node objects kwok manages (its
// --manage-nodes-with-annotation-selector).
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// Node is one simulated node: what the real cluster would register.
type Node struct {
	Name        string            `json:"name"`
	Pool        string            `json:"pool,omitempty"` // DOKS node pool
	Role        string            `json:"role,omitempty"` // Talos: controlplane or worker
	InternalIP  string            `json:"internalIP"`
	Labels      map[string]string `json:"labels"`
	Taints      []Taint           `json:"taints,omitempty"`
	CPU, Memory string            // capacity; "" leaves kwok's default
}

// Taint is a node taint.
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"`
}

// stackConfig reads the keys of a Pulumi.<stack>.yaml file that shape the
// simulated cluster, with the program's own config types.
type stackConfig struct {
	Network config.Network
	Doks    config.Doks
	Talos   config.Talos
}

func readStackConfig(root, stack string) (*stackConfig, error) {
	path := filepath.Join(root, "Pulumi."+stack+".yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sc := &stackConfig{}
	keys := map[string]any{"network": &sc.Network, "doks": &sc.Doks, "talos": &sc.Talos}
	for key, dst := range keys {
		v, ok := doc.Config[config.Project+":"+key]
		if !ok {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return nil, fmt.Errorf("%s: %s:%s: %w", path, config.Project, key, err)
		}
	}
	return sc, nil
}

// sizeRe reads vCPUs and memory from a Droplet size slug (s-4vcpu-8gb).
var sizeRe = regexp.MustCompile(`(\d+)vcpu-(\d+)gb`)

// doksNodes are the nodes of the DOKS node pools (the system pool, the
// workload pool, the extra pools) at their minimum size
// (the autoscaler starts there). Labels: the pool's own, plus the ones DOKS
// and its cloud controller put on every node. The label set follows a real
// DOKS node's (a `kubectl get nodes -o json` of DOKS 1.18 in a third-party
// test fixture: doks.digitalocean.com/node-pool, -node-pool-id, -node-id,
// -version, node.kubernetes.io/instance-type, topology.kubernetes.io/region,
// region); that newer DOKS versions set exactly these is unverified.
func doksNodes(sc *stackConfig) ([]Node, error) {
	if sc.Doks.SystemPool.Name == "" || sc.Doks.NodePool.Name == "" {
		return nil, fmt.Errorf("%s:doks.systemPool or doks.nodePool has no name", config.Project)
	}
	vpc := sc.Network.VpcCidr
	if !vpc.IsValid() {
		return nil, fmt.Errorf("%s:network.vpcCidr is not set", config.Project)
	}
	ip := vpc.Masked().Addr()
	for range 10 { // the first addresses of a VPC are the gateway's and DO's
		ip = ip.Next()
	}
	var out []Node
	for p, pool := range append([]config.NodePool{sc.Doks.SystemPool, sc.Doks.NodePool}, sc.Doks.ExtraPools...) {
		count := max(pool.MinNodes, 1)
		for i := range count {
			name := fmt.Sprintf("%s-n%d", pool.Name, i+1)
			ip = ip.Next()
			labels := map[string]string{}
			for k, v := range pool.Labels {
				labels[k] = v
			}
			for k, v := range map[string]string{
				"kubernetes.io/hostname":             name,
				"kubernetes.io/os":                   "linux",
				"kubernetes.io/arch":                 "amd64",
				"doks.digitalocean.com/node-pool":    pool.Name,
				"doks.digitalocean.com/node-pool-id": fmt.Sprintf("00000000-0000-4000-8000-%012d", p+1),
				"doks.digitalocean.com/node-id":      fmt.Sprintf("00000000-0000-4000-9000-%06d%06d", p+1, i+1),
				"doks.digitalocean.com/version":      simcloud.DoksSlug(sc.Doks.KubernetesMinor),
				"node.kubernetes.io/instance-type":   pool.Size,
				"topology.kubernetes.io/region":      sc.Network.Region,
				"region":                             sc.Network.Region,
			} {
				labels[k] = v
			}
			n := Node{Name: name, Pool: pool.Name, InternalIP: ip.String(), Labels: labels}
			if m := sizeRe.FindStringSubmatch(pool.Size); m != nil {
				n.CPU, n.Memory = m[1], m[2]+"Gi"
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// talosNodes are the machines of talos.nodes, by name, address and labels.
// Control-plane nodes carry node-role.kubernetes.io/control-plane (checked:
// Talos machinery v1.12.0 constants.LabelNodeRoleControlPlane) and its
// NoSchedule taint, which Talos sets unless the machine config's
// cluster.allowSchedulingOnControlPlanes is true; the program leaves it
// unset (false). That Talos applies this taint is unverified in source (its
// controller is outside the machinery module); it is the kubeadm convention.
func talosNodes(sc *stackConfig) ([]Node, error) {
	if len(sc.Talos.Nodes) == 0 {
		return nil, fmt.Errorf("%s:talos.nodes is empty", config.Project)
	}
	var out []Node
	for _, m := range sc.Talos.Nodes {
		labels := map[string]string{
			"kubernetes.io/hostname": m.Name,
			"kubernetes.io/os":       "linux",
			"kubernetes.io/arch":     "amd64",
		}
		for k, v := range m.Labels {
			labels[k] = v
		}
		n := Node{Name: m.Name, Role: m.Role, InternalIP: m.IP.String(), Labels: labels}
		if m.Role == config.RoleControlPlane {
			labels["node-role.kubernetes.io/control-plane"] = ""
			n.Taints = []Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: "NoSchedule"}}
		}
		out = append(out, n)
	}
	return out, nil
}

// object is the Node as the API server takes it. kwok's node-initialize
// stage keeps the addresses and capacity given here and adds the
// conditions, the node info and the heartbeat.
func (n Node) object() map[string]any {
	status := map[string]any{
		"addresses": []map[string]string{
			{"type": "InternalIP", "address": n.InternalIP},
			{"type": "Hostname", "address": n.Name},
		},
	}
	if n.CPU != "" {
		capacity := map[string]string{"cpu": n.CPU, "memory": n.Memory, "pods": "110"}
		status["capacity"], status["allocatable"] = capacity, capacity
	}
	spec := map[string]any{}
	if len(n.Taints) > 0 {
		spec["taints"] = n.Taints
	}
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "Node",
		"metadata": map[string]any{
			"name":        n.Name,
			"labels":      n.Labels,
			"annotations": map[string]string{kwokNodeAnnotation: "fake"},
		},
		"spec":   spec,
		"status": status,
	}
}
