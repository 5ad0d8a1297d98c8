package localcloud

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/semver"
)

// Shared dependency versions. The program and the tool wrappers are
// separate module graphs, and Go reuses a compiled package only when its
// module version and those of everything under it are the same. With each
// wrapper at its release's own versions a cold .ci/run compiled 402 MB of
// Go source of the 449 MB its eight graphs list (go list -deps, GoFiles):
// almost nothing was shared. So every module that two of these graphs
// build is at one version in all of them, the highest any of them needs
// (minimal version selection only raises, so each release's own
// requirements stay the floor). docs/ci.md has the figures.
//
// Kept apart, on purpose:
//   - a module a graph replaces by another version of it (k8s.io/kubernetes'
//     31 staging modules in tools/kubernetes, the provider's SDK) is fixed
//     there, and the others follow it; one replaced by another module (the
//     CLI's clipboard fork) is not compared;
//   - the program's YAML v4, which Talos machinery decodes with (programOwn);
//   - kwok's Kubernetes libraries (k8s.io/*, sigs.k8s.io/*) stay at kwok's:
//     kwok v0.8.0 needs v0.36, past the control plane's v0.35;
//   - so do the pulumi-kubernetes provider's, with its Pulumi SDK and a few
//     more (providerOwn): its diff, apply and await logic is client-go's and
//     kubectl's, which must be the ones the released plugin is built with;
//   - tools/language-go (pinned to an old SDK on purpose) and tools/doctl
//     (the version the deploy runners install) are not aligned at all.
//
// `go run ./cmd/alignmods` raises what drifted; TestToolModulesAligned
// fails while anything has.

// ModGraph is one module graph: the module in Dir and the packages of it
// that get built.
type ModGraph struct {
	Name string
	Dir  string   // relative to the repository root
	Pkgs []string // what is built
	// Tests adds what the packages' tests import (the program's test suite).
	Tests bool
	// Own reports a module whose version this graph keeps as its release
	// has it, whatever the others use.
	Own func(mod string) bool
}

// kubernetesLibrary reports the Kubernetes client libraries.
func kubernetesLibrary(mod string) bool {
	return strings.HasPrefix(mod, "k8s.io/") || strings.HasPrefix(mod, "sigs.k8s.io/")
}

// providerOwn reports what the provider keeps at its release's versions:
// the Kubernetes libraries, the Pulumi SDK and pkg, gnostic-models and
// json-patch. The Pulumi modules have to stay: pkg v3.274.1's
// codegen/schema PackageSpec.Provider is a *ResourceSpec (a ResourceSpec in
// v3.215.0: schema.go), so the provider's pkg/gen does not compile with it
// (seen: pkg/gen/schema.go:202), and sdk v3.274.1 has no
// go/common/util/maputil, which pkg v3.215.0 imports. gnostic-models
// has to stay: v0.7.0 moved to go.yaml.in/yaml/v3, and the release's
// kube-openapi (2025-03) then does not compile (seen: pkg/util/proto/
// document_v3.go:291, cannot use *"go.yaml.in/yaml/v3".Node as
// *"gopkg.in/yaml.v3".Node). json-patch, the patches client-go and kubectl
// compute, stays by choice. go-openapi cannot: grpc-gateway v2.33.0, which
// the aligned OpenTelemetry exporters bring, requires go-openapi/swag
// v0.29.2 (go mod graph), past the release's v0.23.0.
func providerOwn(mod string) bool {
	if kubernetesLibrary(mod) {
		return true
	}
	for _, p := range []string{"github.com/pulumi/pulumi/", "github.com/google/gnostic-models",
		"github.com/evanphx/json-patch", "gopkg.in/evanphx/json-patch"} {
		if strings.HasPrefix(mod, p) {
			return true
		}
	}
	return false
}

// programOwn reports what the program keeps at the versions its own
// requirements select. go.yaml.in/yaml/v4: the Talos machinery that
// tests/talosmachinery validates the machine configs with decodes them with
// it, at v4.0.0-rc.3 as the Talos release requires; the CLI's v4.0.0-rc.4
// words the refusals differently ("cannot construct", not "cannot
// unmarshal": seen in that test), so the validator would no longer be the
// release's. Only the CLI's OpenAPI library shares it.
func programOwn(mod string) bool {
	return mod == "go.yaml.in/yaml/v4"
}

// AlignedGraphs are the graphs that share versions, in the order .ci/run
// builds them.
func AlignedGraphs() []ModGraph {
	g := []ModGraph{
		{Name: "program", Dir: ".", Pkgs: []string{"./..."}, Tests: true, Own: programOwn},
		{Name: "pulumi", Dir: "tools/pulumi", Pkgs: []string{PulumiCLIPackage}},
	}
	for _, w := range []wrapper{etcdWrapper(), kubernetesWrapper(), kwokWrapper(), providerWrapper()} {
		mg := ModGraph{Name: w.name, Dir: filepath.Join("tools", w.name)}
		for _, n := range sortedKeys(w.bins) {
			mg.Pkgs = append(mg.Pkgs, w.bins[n])
		}
		switch w.name {
		case "kwok":
			mg.Own = kubernetesLibrary
		case "kubernetes-provider":
			mg.Own = providerOwn
		}
		g = append(g, mg)
	}
	return g
}

// ModVersions is what one graph builds: module path to version, and the
// modules its go.mod replaces by another version of themselves (Uses has
// the replacement's). Modules replaced by another module are left out.
type ModVersions struct {
	Uses     map[string]string
	Replaced map[string]bool
}

// Skew is a module that two aligned graphs build at different versions.
type Skew struct {
	Module   string
	Target   string            // the version all of them should use
	Versions map[string]string // graph name to the version it uses
	// Raise lists the graphs that reach Target by raising a requirement.
	Raise []string
	// Stuck lists graphs that cannot: they use a higher version than a
	// replacement elsewhere fixes, or they replace the module themselves.
	Stuck []string
}

func (s Skew) String() string {
	names := make([]string, 0, len(s.Versions))
	for n := range s.Versions {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, n+" "+s.Versions[n])
	}
	msg := fmt.Sprintf("%s: %s; want %s", s.Module, strings.Join(parts, ", "), s.Target)
	if len(s.Stuck) > 0 {
		msg += " (cannot be raised in " + strings.Join(s.Stuck, ", ") + ")"
	}
	return msg
}

// Skews compares the graphs (keyed by ModGraph.Name, in graphs' order) and
// returns every module not at one version, sorted by module path.
func Skews(graphs []ModGraph, got map[string]ModVersions) []Skew {
	fixed := map[string]string{} // module -> version a replacement pins
	for _, g := range graphs {
		for m := range got[g.Name].Replaced {
			fixed[m] = got[g.Name].Uses[m]
		}
	}
	aligned := func(g ModGraph, m string) bool { return g.Own == nil || !g.Own(m) }
	target := map[string]string{}
	for _, g := range graphs {
		for m, v := range got[g.Name].Uses {
			if !aligned(g, m) {
				continue
			}
			if t, ok := target[m]; !ok || semver.Compare(v, t) > 0 {
				target[m] = v
			}
		}
	}
	for m, v := range fixed {
		if _, ok := target[m]; ok {
			target[m] = v
		}
	}
	var out []Skew
	for m, t := range target {
		s := Skew{Module: m, Target: t, Versions: map[string]string{}}
		differs := false
		for _, g := range graphs {
			v, ok := got[g.Name].Uses[m]
			if !ok || !aligned(g, m) {
				continue
			}
			s.Versions[g.Name] = v
			if v == t {
				continue
			}
			differs = true
			if got[g.Name].Replaced[m] || semver.Compare(v, t) > 0 {
				s.Stuck = append(s.Stuck, g.Name)
			} else {
				s.Raise = append(s.Raise, g.Name)
			}
		}
		if differs && len(s.Versions) > 1 {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Module < out[j].Module })
	return out
}

// ListModVersions runs `go list` in g's module (under root) for the
// modules its packages come from.
func ListModVersions(root string, g ModGraph) (ModVersions, error) {
	dir := filepath.Join(root, g.Dir)
	// -e: the provider wrapper's main package embeds files its build
	// writes first (writeProviderEmbeds); that error is the only one let by.
	args := []string{"list", "-e", "-deps", "-f", "{{with .Error}}error {{.Err}}\n{{end}}" +
		"{{with .Module}}{{.Path}} {{.Version}}{{with .Replace}} {{.Path}} {{.Version}}{{end}}{{end}}"}
	if g.Tests {
		args = append(args, "-test")
	}
	cmd := exec.Command("go", append(args, g.Pkgs...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ModVersions{}, fmt.Errorf("%s: go list %s: %w%s", g.Dir, strings.Join(g.Pkgs, " "), err, stderrOf(err))
	}
	mv := ModVersions{Uses: map[string]string{}, Replaced: map[string]bool{}}
	for _, line := range strings.Split(string(out), "\n") {
		if msg, ok := strings.CutPrefix(line, "error "); ok {
			if strings.Contains(msg, "-embed.json: no matching files found") {
				continue
			}
			return ModVersions{}, fmt.Errorf("%s: go list: %s", g.Dir, msg)
		}
		f := strings.Fields(line)
		switch {
		case len(f) < 2: // the graph's own module: no version
		case len(f) == 4 && f[2] == f[0]: // replaced by another version of it
			mv.Uses[f[0]], mv.Replaced[f[0]] = f[3], true
		case len(f) > 2:
			// Replaced by another module (tools/pulumi's clipboard fork, as
			// pulumi/pkg has it) or a directory: nothing to share.
		default:
			mv.Uses[f[0]] = f[1]
		}
	}
	return mv, nil
}

// RepoSkews lists the skews of the repository at root.
func RepoSkews(root string) ([]Skew, error) {
	graphs := AlignedGraphs()
	got := map[string]ModVersions{}
	for _, g := range graphs {
		mv, err := ListModVersions(root, g)
		if err != nil {
			return nil, err
		}
		got[g.Name] = mv
	}
	return Skews(graphs, got), nil
}

// Align raises requirements (go get, then go mod tidy, in each graph that
// lags) until no skew is left that raising can fix, and returns what is
// left. Raising one module can pull others up, hence the rounds.
func Align(root string, log func(format string, args ...any)) ([]Skew, error) {
	for round := 1; ; round++ {
		skews, err := RepoSkews(root)
		if err != nil {
			return nil, err
		}
		raise := map[string][]string{} // graph -> mod@version
		for _, s := range skews {
			for _, g := range s.Raise {
				raise[g] = append(raise[g], s.Module+"@"+s.Target)
			}
		}
		if len(raise) == 0 {
			return skews, nil
		}
		if round > 8 {
			return skews, fmt.Errorf("still raising after %d rounds", round-1)
		}
		for _, g := range AlignedGraphs() {
			mods := raise[g.Name]
			if len(mods) == 0 {
				continue
			}
			log("round %d: %s: raising %s", round, g.Dir, strings.Join(mods, " "))
			for _, args := range [][]string{append([]string{"get"}, mods...), {"mod", "tidy"}} {
				cmd := exec.Command("go", args...)
				cmd.Dir = filepath.Join(root, g.Dir)
				if out, err := cmd.CombinedOutput(); err != nil {
					return nil, fmt.Errorf("%s: go %s: %w\n%s", g.Dir, args[0], err, out)
				}
			}
		}
	}
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return "\n" + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}
