package tests

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
)

// TestKubernetesVersionWithinTalosRange: talos.kubernetesVersion must be in
// the range of the Talos minor (internal/config/talos_kubernetes.json).
func TestKubernetesVersionWithinTalosRange(t *testing.T) {
	for _, tc := range []struct {
		name, talos, kubernetes string
		wantKey, wantValue      string // empty: accepted
	}{
		{name: "lowest minor of Talos 1.12", talos: "v1.12.11", kubernetes: "1.30.0"},
		{name: "highest minor of Talos 1.12", talos: "v1.12.11", kubernetes: "1.35.9"},
		{name: "too new for Talos 1.12", talos: "v1.12.11", kubernetes: "1.36.0", wantKey: "talos.kubernetesVersion", wantValue: "1.36.0"},
		{name: "too old for Talos 1.12", talos: "v1.12.11", kubernetes: "1.29.15", wantKey: "talos.kubernetesVersion", wantValue: "1.29.15"},
		{name: "fine on Talos 1.11, too new on 1.10", talos: "v1.10.6", kubernetes: "1.34.1", wantKey: "talos.kubernetesVersion", wantValue: "1.34.1"},
		{name: "Talos minor without a known range", talos: "v1.13.0", kubernetes: "1.35.4", wantKey: "talos.talosVersion", wantValue: "v1.13.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := stackObject(t, config.StackOnprem, "talos")
			obj["talosVersion"], obj["kubernetesVersion"] = tc.talos, tc.kubernetes
			obj["installImage"] = "ghcr.io/siderolabs/installer:" + tc.talos
			opts := prodRefs(config.StackOnprem)
			opts.Set = map[string]string{"talos": toJSON(t, obj)}
			_, err := runStack(t, opts)
			if tc.wantKey == "" {
				require.NoError(t, err)
				return
			}
			var verr *config.ValidationError
			require.True(t, errors.As(err, &verr), "want a ValidationError, got %v", err)
			require.Len(t, verr.Problems, 1, "%v", err)
			p := verr.Problems[0]
			assert.Equal(t, config.Project+":"+tc.wantKey, p.Key)
			assert.Equal(t, tc.wantValue, p.Value)
			assert.Contains(t, p.Allowed, "talos_kubernetes.json", "the error names the table")
		})
	}
}
