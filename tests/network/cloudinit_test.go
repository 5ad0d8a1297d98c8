package network

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cloudInitSchema runs `cloud-init schema --config-file` on a user-data
// document and returns its verdict.
func cloudInitSchema(t *testing.T, userData string) (ok bool, output string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "user-data")
	require.NoError(t, os.WriteFile(f, []byte(userData), 0o600))
	out, err := exec.Command(tool(t, "cloud-init"), "schema", "--config-file", f).CombinedOutput()
	return err == nil, string(out)
}

// The gateway's user data passes cloud-init's own schema check, and the
// check refuses a document that breaks it (so a pass means something).
func TestGatewayUserDataPassesCloudInitSchema(t *testing.T) {
	priv, _ := keyPair(t)
	userData := gateway(t, prodNetwork(t), priv).CloudInit()

	ok, out := cloudInitSchema(t, userData)
	assert.True(t, ok, "cloud-init schema: %s", out)
	assert.Contains(t, out, "Valid cloud-config")

	for name, broken := range map[string]string{
		"runcmd is not a list":   strings.Replace(userData, "runcmd:\n  - sysctl --system\n", "runcmd: sysctl --system\n", 1),
		"packages is a mapping":  strings.Replace(userData, "packages:\n  - wireguard\n", "packages:\n  wireguard: latest\n", 1),
		"write_files lacks path": strings.Replace(userData, "  - path: /etc/wireguard/wg0.conf\n", "  - name: /etc/wireguard/wg0.conf\n", 1),
	} {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, userData, broken, "the mutation must apply")
			ok, out := cloudInitSchema(t, broken)
			assert.False(t, ok, "cloud-init schema accepted a broken document: %s", out)
		})
	}
}
