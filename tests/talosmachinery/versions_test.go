package talosmachinery

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/compatibility"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
)

// supportedWith asks the Talos machinery whether Talos talosVersion runs
// Kubernetes kubernetesVersion.
func supportedWith(t *testing.T, talosVersion, kubernetesVersion string) error {
	t.Helper()
	tv, err := compatibility.ParseTalosVersion(&machineapi.VersionInfo{Tag: talosVersion})
	require.NoError(t, err)
	kv, err := compatibility.ParseKubernetesVersion(kubernetesVersion)
	require.NoError(t, err)
	return kv.SupportedWith(tv)
}

// TestCompatibilityTableMatchesTalosMachinery: every row of
// internal/config/talos_kubernetes.json says what the machinery's
// compatibility package says, at both ends and just outside them.
func TestCompatibilityTableMatchesTalosMachinery(t *testing.T) {
	table, err := config.TalosKubernetes()
	require.NoError(t, err)
	require.NotEmpty(t, table.Minors())
	for _, minor := range table.Minors() {
		r := table.Talos[minor]
		t.Run("Talos "+minor, func(t *testing.T) {
			talos := "v" + minor + ".0"
			before, after := neighbour(t, r.MinKubernetes, -1), neighbour(t, r.MaxKubernetes, +1)
			assert.NoError(t, supportedWith(t, talos, r.MinKubernetes+".0"), "lowest supported minor")
			assert.NoError(t, supportedWith(t, talos, r.MaxKubernetes+".20"), "any patch of the highest supported minor")
			assert.ErrorContains(t, supportedWith(t, talos, before+".20"), "too old")
			assert.ErrorContains(t, supportedWith(t, talos, after+".0"), "too new")
			assert.False(t, r.Contains(before+".20"))
			assert.False(t, r.Contains(after+".0"))
		})
	}
}

// neighbour is the Kubernetes minor next to 1.N.
func neighbour(t *testing.T, minor string, step int) string {
	t.Helper()
	var major, n int
	_, err := fmt.Sscanf(minor, "%d.%d", &major, &n)
	require.NoError(t, err)
	return fmt.Sprintf("%d.%d", major, n+step)
}

// TestStackVersionsAreSupportedTogether: the Talos machinery itself accepts
// the stack file's Kubernetes version on its Talos version.
func TestStackVersionsAreSupportedTogether(t *testing.T) {
	s := mustLoad(t)
	require.NoError(t, supportedWith(t, s.cfg.Talos.TalosVersion, s.cfg.Talos.KubernetesVersion))
}

// withTalos returns the stack file's values with talos.<key> set to v.
func withTalos(t *testing.T, key, v string) map[string]any {
	t.Helper()
	values := stackValues(t)
	values["talos"].(map[string]any)[key] = v
	return values
}

// problemFor asserts that err is a validation error naming key and value.
func problemFor(t *testing.T, err error, key, value string) {
	t.Helper()
	var verr *config.ValidationError
	require.True(t, errors.As(err, &verr), "want a ValidationError, got %v", err)
	for _, p := range verr.Problems {
		if p.Key == config.Project+":"+key && p.Value == value {
			assert.NotEmpty(t, p.Allowed)
			return
		}
	}
	assert.Failf(t, "problem not reported", "no problem names %s = %q in:\n%v", key, value, err)
}

// TestProgramRefusesWhatTalosDoesNotCheck: two mistakes that Validate lets
// through are refused by the program's config validation before any
// resource: an installer of another Talos release (machinery v1.12.5
// v1alpha1_validation.go does not look at the installer tag), and a
// Kubernetes version the Talos minor does not support (the generated config
// validates; only a running node's RuntimeValidate would compare it).
func TestProgramRefusesWhatTalosDoesNotCheck(t *testing.T) {
	s := mustLoad(t)
	cp := s.node(t, s.cfg.Talos.ControlPlanes()[0].Name)

	t.Run("installer tag of another release", func(t *testing.T) {
		other := strings.TrimSuffix(s.cfg.Talos.InstallImage, s.cfg.Talos.TalosVersion) + "v1.12.0"
		require.NotEqual(t, s.cfg.Talos.InstallImage, other)
		broken := *s
		broken.in.Talos.InstallImage = other
		p, err := broken.finalConfig(t, cp, broken.patches(t, cp))
		require.NoError(t, err, "Talos validation accepts any installer tag")
		assert.Equal(t, other, p.Machine().Install().Image())

		_, err = load(t, withTalos(t, "installImage", other))
		problemFor(t, err, "talos.installImage", other)
	})

	t.Run("Kubernetes newer than the Talos minor supports", func(t *testing.T) {
		table, err := config.TalosKubernetes()
		require.NoError(t, err)
		_, r, ok := table.Range(s.cfg.Talos.TalosVersion)
		require.True(t, ok)
		tooNew := neighbour(t, r.MaxKubernetes, +1) + ".0"
		require.ErrorContains(t, supportedWith(t, s.cfg.Talos.TalosVersion, tooNew), "too new", "the machinery refuses it too")

		broken := *s
		broken.in.Talos.KubernetesVersion = tooNew
		_, err = broken.finalConfig(t, cp, broken.patches(t, cp))
		require.NoError(t, err, "the generated config validates all the same")

		_, err = load(t, withTalos(t, "kubernetesVersion", tooNew))
		problemFor(t, err, "talos.kubernetesVersion", tooNew)
	})
}
