// Package network checks what the WireGuard gateway's generated
// configuration does with the real tools: cloud-init's schema check on the
// user data, and wg-quick (wireguard-tools, with the wireguard-go userspace
// implementation) plus iptables and the kernel's routing in network
// namespaces, with packets sent through the tunnel. It needs root (network
// namespaces), cloud-init, wireguard-tools, iptables, curl and wireguard-go
// (`go install golang.zx2c4.com/wireguard@<version in .ci/run>`); a missing
// tool fails the tests.
package network

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/gatewayconf"
)

// prodNetwork is the address plan of Pulumi.prod.yaml.
func prodNetwork(t *testing.T) config.Network {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "Pulumi.prod.yaml"))
	require.NoError(t, err)
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	js, err := json.Marshal(doc.Config[config.Project+":network"])
	require.NoError(t, err)
	var n config.Network
	require.NoError(t, json.Unmarshal(js, &n))
	require.True(t, n.VpcCidr.IsValid())
	return n
}

// keyPair makes a WireGuard key pair with wg itself.
func keyPair(t *testing.T) (private, public string) {
	t.Helper()
	priv, err := exec.Command(tool(t, "wg"), "genkey").Output()
	require.NoError(t, err)
	cmd := exec.Command(tool(t, "wg"), "pubkey")
	cmd.Stdin = strings.NewReader(string(priv))
	pub, err := cmd.Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(priv)), strings.TrimSpace(string(pub))
}

// gateway renders the gateway's configuration for the prod address plan
// with the given keys.
func gateway(t *testing.T, n config.Network, privateKey string) gatewayconf.Config {
	t.Helper()
	return gatewayconf.New(n, privateKey)
}

// tool finds a required binary; a missing one fails the test.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/sbin"} {
			if _, serr := os.Stat(filepath.Join(dir, name)); serr == nil {
				return filepath.Join(dir, name)
			}
		}
		t.Fatalf("%s is required (see .ci/run): %v", name, err)
	}
	return p
}
