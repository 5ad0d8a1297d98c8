package config

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// talosKubernetesJSON is, for each Talos minor, the Kubernetes minors it
// supports: data, with its source named in the file.
//
//go:embed talos_kubernetes.json
var talosKubernetesJSON []byte

// KubernetesRange is the Kubernetes minors one Talos minor supports, both
// ends included, any patch.
type KubernetesRange struct {
	MinKubernetes string `json:"minKubernetes"` // 1.30
	MaxKubernetes string `json:"maxKubernetes"` // 1.35
}

// TalosKubernetesTable is the parsed talos_kubernetes.json.
type TalosKubernetesTable struct {
	Source string `json:"source"`
	// Talos maps a Talos minor ("1.12") to its Kubernetes range.
	Talos map[string]KubernetesRange `json:"talos"`
}

// TalosKubernetes returns the Talos-to-Kubernetes compatibility table.
func TalosKubernetes() (*TalosKubernetesTable, error) {
	var t TalosKubernetesTable
	if err := json.Unmarshal(talosKubernetesJSON, &t); err != nil {
		return nil, fmt.Errorf("config: talos_kubernetes.json: %w", err)
	}
	if t.Source == "" || len(t.Talos) == 0 {
		return nil, fmt.Errorf("config: talos_kubernetes.json needs a source and at least one Talos minor")
	}
	for minor, r := range t.Talos {
		_, okT := parseMinor(minor)
		lo, okLo := parseMinor(r.MinKubernetes)
		hi, okHi := parseMinor(r.MaxKubernetes)
		if !okT || !okLo || !okHi || compareMinor(lo, hi) > 0 {
			return nil, fmt.Errorf("config: talos_kubernetes.json: Talos %s: want minors such as 1.12 and a range such as 1.30 to 1.35, got %q to %q", minor, r.MinKubernetes, r.MaxKubernetes)
		}
	}
	return &t, nil
}

// Range returns the Kubernetes range of the minor of Talos release
// talosVersion (v1.12.11 -> 1.12); ok is false for a minor without one.
func (t *TalosKubernetesTable) Range(talosVersion string) (minor string, r KubernetesRange, ok bool) {
	m, parsed := parseMinor(strings.TrimPrefix(talosVersion, "v"))
	if !parsed {
		return "", KubernetesRange{}, false
	}
	minor = fmt.Sprintf("%d.%d", m[0], m[1])
	r, ok = t.Talos[minor]
	return minor, r, ok
}

// Contains reports whether Kubernetes kubernetesVersion (1.35.4) is in the
// range.
func (r KubernetesRange) Contains(kubernetesVersion string) bool {
	k, okK := parseMinor(kubernetesVersion)
	lo, okLo := parseMinor(r.MinKubernetes)
	hi, okHi := parseMinor(r.MaxKubernetes)
	return okK && okLo && okHi && compareMinor(k, lo) >= 0 && compareMinor(k, hi) <= 0
}

// Minors lists the Talos minors of the table, oldest first.
func (t *TalosKubernetesTable) Minors() []string {
	out := make([]string, 0, len(t.Talos))
	for m := range t.Talos {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b string) int {
		ma, _ := parseMinor(a)
		mb, _ := parseMinor(b)
		return compareMinor(ma, mb)
	})
	return out
}

// validateTalosKubernetes refuses a Kubernetes version outside the range the
// configured Talos minor supports, and a Talos minor without a known range
// (source: talos_kubernetes.json, from the Talos machinery's compatibility
// package). Malformed versions are reported by validateTalos already.
func validateTalosKubernetes(p *problems, t *Talos) {
	if !talosVersionRe.MatchString(t.TalosVersion) || !k8sVersionRe.MatchString(t.KubernetesVersion) {
		return
	}
	table, err := TalosKubernetes()
	if err != nil {
		p.add("talos.talosVersion", t.TalosVersion, "a Talos release this program can check: "+err.Error())
		return
	}
	minor, r, ok := table.Range(t.TalosVersion)
	switch {
	case !ok:
		p.add("talos.talosVersion", t.TalosVersion, "a release of a Talos minor with a known Kubernetes range ("+
			strings.Join(table.Minors(), ", ")+"; internal/config/talos_kubernetes.json)")
	case !r.Contains(t.KubernetesVersion):
		p.add("talos.kubernetesVersion", t.KubernetesVersion, fmt.Sprintf(
			"a Kubernetes version from %s to %s (any patch): the range Talos %s (talos.talosVersion %s) supports (internal/config/talos_kubernetes.json)",
			r.MinKubernetes, r.MaxKubernetes, minor, t.TalosVersion))
	}
}

// MinorOf is the minor line of a Talos, Kubernetes or DOKS version:
// "v1.12.11" -> "1.12", "1.35.4-do.0" -> "1.35", "1.35" -> "1.35"; a string
// that is not a version comes back unchanged.
func MinorOf(version string) string {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}

// parseMinor reads the major and minor of "1.35" or "1.35.4".
func parseMinor(s string) ([2]int, bool) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return [2]int{}, false
	}
	var out [2]int
	for i := range 2 {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 {
			return [2]int{}, false
		}
		out[i] = n
	}
	return out, true
}

func compareMinor(a, b [2]int) int {
	if a[0] != b[0] {
		return a[0] - b[0]
	}
	return a[1] - b[1]
}
