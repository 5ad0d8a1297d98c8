package talosmachinery

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
)

// TestEveryNodeMachineConfigPassesTalos: each node of the stack file gets a
// machine config that Talos itself accepts on a metal node, strict, and the
// merged config carries what the program's patches set for that node.
func TestEveryNodeMachineConfigPassesTalos(t *testing.T) {
	s := mustLoad(t)
	tc := s.cfg.Talos
	require.Len(t, tc.Nodes, 5, "the stack file's five nodes")
	for _, n := range tc.Nodes {
		t.Run(n.Name, func(t *testing.T) {
			p, err := s.finalConfig(t, n, s.patches(t, n))
			require.NoError(t, err)

			assert.Equal(t, n.Role, p.Machine().Type().String())
			assert.Equal(t, tc.ClusterName, p.Cluster().Name())
			assert.Equal(t, "https://"+tc.Vip.String()+":6443", p.Cluster().Endpoint().String(), "the API on the VIP")
			assert.Equal(t, "ghcr.io/siderolabs/kubelet:v"+tc.KubernetesVersion, p.Machine().Kubelet().Image(),
				"the base config pins the program's Kubernetes version")
			require.NotNil(t, p.NetworkHostnameConfig())
			assert.Equal(t, n.Name, p.NetworkHostnameConfig().Hostname())
			assert.Equal(t, n.InstallDisk, p.Machine().Install().Disk(), "the node patch wins over the generated /dev/sda")
			assert.Equal(t, tc.InstallImage, p.Machine().Install().Image(), "the cluster patch wins over the provider's installer")
			for k, v := range n.Labels {
				assert.Equal(t, v, p.Machine().NodeLabels()[k], "label %s", k)
			}

			devices := map[string]bool{}
			for _, d := range p.Machine().Network().Devices() {
				devices[d.Interface()] = true
				switch d.Interface() {
				case n.Interface:
					if n.Role == config.RoleControlPlane {
						require.NotNil(t, d.VIPConfig(), "control-plane nodes share the VIP")
						assert.Equal(t, tc.Vip.String(), d.VIPConfig().IP())
					} else {
						assert.Nil(t, d.VIPConfig(), "workers never take the VIP")
					}
				case "wg0":
					wg := d.WireguardConfig()
					require.NotNil(t, wg)
					assert.Equal(t, s.privateKey, wg.PrivateKey(), "the secret wg0 patch reached the node")
					require.Len(t, wg.Peers(), 1)
					assert.Equal(t, s.in.Tunnel.Peer.PublicKey, wg.Peers()[0].PublicKey())
					assert.Positive(t, wg.Peers()[0].PersistentKeepaliveInterval())
				}
			}
			// The etcd snapshot job's access to the Talos API: the backup
			// role only (talos-backup's README asks for exactly
			// os:etcd:backup), from the job's namespace only, and only on
			// control-plane nodes, which Talos requires (a worker with
			// the feature fails validation: brokenPatches).
			access := p.Machine().Features().KubernetesTalosAPIAccess()
			if n.Role == config.RoleControlPlane {
				assert.True(t, access.Enabled(), "Talos API access from Kubernetes on %s", n.Name)
				assert.Equal(t, []string{"os:etcd:backup"}, access.AllowedRoles())
				assert.Equal(t, []string{config.EtcdBackupNamespace}, access.AllowedKubernetesNamespaces())
			} else {
				assert.False(t, access.Enabled(), "no Talos API access from Kubernetes on a worker")
			}
			assert.True(t, devices[n.Interface], "the node's LAN link")
			assert.Equal(t, n.Name == tc.WireguardNode, devices["wg0"], "wg0 only on the WireGuard node %s", tc.WireguardNode)
		})
	}
}
