// Command charts works with the stacks' pinned Helm charts, offline as far
// as it can:
//
//	go run ./cmd/charts render --stack prod [--out DIR]
//	    renders every Helm release of the stack with the Helm Go SDK, from
//	    the pinned archives, with exactly the values the program declares,
//	    runs the render test's checks and writes one YAML file per release
//	    (hook objects in their own file) to DIR.
//	go run ./cmd/charts mirror --out DIR
//	    pulls every pinned chart from its upstream repository into DIR and
//	    writes DIR/index.yaml: a Helm repository for platform.chartRepository
//	    (serve DIR with any static file server, or upload the archives to a
//	    ChartMuseum).
//
// The archives come from ../shared/charts when it exists, else from the
// upstream repositories (cached in bin/charts).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/hybridcloud/platform/internal/chartcheck"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/versions"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: charts render --stack STACK [--out DIR] | charts mirror --out DIR")
		return 2
	}
	ctx := context.Background()
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "", "stack to render (prod or onprem)")
	out := fs.String("out", "", "directory to write to")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	var err error
	switch args[0] {
	case "render":
		err = render(ctx, *stack, *out, stdout)
	case "mirror":
		if *out == "" {
			err = fmt.Errorf("mirror needs --out DIR")
			break
		}
		var repo *chartcheck.Repository
		if repo, err = chartcheck.Pull(ctx, nil, versions.Charts, *out); err == nil {
			fmt.Fprintf(stdout, "%d pinned charts and index.yaml in %s\n", len(versions.Charts), repo.Dir)
		}
	default:
		err = fmt.Errorf("unknown command %q: render or mirror", args[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "charts:", err)
		return 1
	}
	return 0
}

func render(ctx context.Context, stack, out string, stdout io.Writer) error {
	dir, err := plan.FindProjectDir(".")
	if err != nil {
		return err
	}
	repo, source, err := chartcheck.PinnedRepository(ctx, dir)
	if err != nil {
		return err
	}
	res, err := plan.Run(plan.Options{Stack: stack, ProjectDir: dir})
	if err != nil {
		return err
	}
	s, err := chartcheck.BuildPlanned(ctx, res, repo)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d releases on Kubernetes %s, charts from %s\n", stack, len(s.Releases), s.KubeVersion, source)
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		for _, r := range s.Rendered {
			if err := writeObjects(filepath.Join(out, r.Release.Name+".yaml"), r.Objects); err != nil {
				return err
			}
			if len(r.Hooks) > 0 {
				if err := writeObjects(filepath.Join(out, r.Release.Name+".hooks.yaml"), r.Hooks); err != nil {
					return err
				}
			}
			fmt.Fprintf(stdout, "  %-64s %4d objects, %d hook objects (not deployed by helm.sh/v4 Chart)\n", r.Release.ID(), len(r.Objects), len(r.Hooks))
		}
	}
	findings := chartcheck.Check(ctx, s, chartcheck.DefaultPolicy)
	var lines []string
	for _, f := range findings {
		lines = append(lines, f.String())
	}
	sort.Strings(lines)
	if len(lines) > 0 {
		return fmt.Errorf("%d findings; each fails the render test:\n  %s", len(lines), strings.Join(lines, "\n  "))
	}
	fmt.Fprintln(stdout, "no findings")
	return nil
}

func writeObjects(path string, objs []*chartcheck.Object) error {
	var b strings.Builder
	for _, o := range objs {
		y, err := yaml.Marshal(o.Raw)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "---\n# Source: %s\n%s", o.Source, y)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
