// Command local-up runs the whole bring-up through the real Pulumi engine,
// with no account and no credentials: it builds (or reuses) the pinned
// Pulumi CLI, the Go language host, versitygw, the stand-in provider plugins
// (DigitalOcean, Cloudflare, Talos), the real pulumi-kubernetes provider,
// doctl and the control-plane tools; starts the local Kubernetes control
// planes (internal/localcluster) and an S3 server on loopback holding the
// state; creates both stacks from the repository's stack files, sets their
// secrets, runs `pulumi up` on prod, onprem and prod again through the real
// Kubernetes provider, prints the stack outputs and a kubeconfig per
// cluster, and keeps the platform up until interrupted. See
// docs/local-engine.md, "A real pulumi up without an account".
//
//	make local-up          # or: go run ./cmd/local-up [-dir DIR]
//	make tools             # or: go run ./cmd/local-up -tools-only
//	go run ./cmd/local-up -tools-only -tools cluster,provider
//	go run ./cmd/local-up -control-plane   # only the local Kubernetes control planes
//
// The stand-in cloud simulates DigitalOcean, Cloudflare and Talos; it is not
// the cloud. The Kubernetes layer is real, on simulated nodes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/localcloud"
	"github.com/hybridcloud/platform/internal/localcluster"
)

// Tool sets of -tools.
const (
	toolsEngine   = "engine"   // the CLI, language host, versitygw, stand-ins, program, policy pack
	toolsCluster  = "cluster"  // etcd, kube-apiserver, -controller-manager, -scheduler, kubectl, kwok
	toolsProvider = "provider" // the real pulumi-resource-kubernetes
)

func main() {
	dir := flag.String("dir", "", "directory for the run's state, plugins and stand-in cloud (default: a new temporary directory)")
	toolsOnly := flag.Bool("tools-only", false, "only build (or find) the tools in bin/, then stop")
	tools := flag.String("tools", toolsEngine, "with -tools-only: the tool sets to build, comma-separated: "+
		strings.Join([]string{toolsEngine, toolsCluster, toolsProvider}, ", "))
	controlPlane := flag.Bool("control-plane", false, "only run the local Kubernetes control planes (DOKS and Talos simulated) until interrupted")
	flag.Parse()
	var err error
	if *controlPlane {
		err = runControlPlane(*dir)
	} else {
		err = run(*dir, *toolsOnly, strings.Split(*tools, ","))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "local-up:", err)
		os.Exit(1)
	}
}

func toolchain() (*localcloud.Toolchain, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	root, err := localcloud.FindRoot(wd)
	if err != nil {
		return nil, err
	}
	return &localcloud.Toolchain{Root: root}, nil
}

func runDir(dir, prefix string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", prefix)
	}
	return filepath.Abs(dir)
}

// runControlPlane starts the control planes and prints how to reach them.
func runControlPlane(dir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tc, err := toolchain()
	if err != nil {
		return err
	}
	if err := tc.EnsureCluster(); err != nil {
		return err
	}
	if dir, err = runDir(dir, "hybrid-control-plane-"); err != nil {
		return err
	}
	cp, err := localcluster.Start(ctx, localcluster.Options{Root: tc.Root, Dir: dir, Bin: tc.Cluster.Binaries(), Log: os.Stderr})
	if err != nil {
		return err
	}
	defer cp.Stop()
	for _, kind := range []string{config.ClusterDOKS, config.ClusterTalos} {
		c := cp.Clusters[kind]
		fmt.Printf("%s (stack %s): %s, %d nodes\n  kubectl --kubeconfig %s get nodes\n", kind, c.Stack, c.Endpoint, len(c.Nodes), c.Kubeconfig)
	}
	fmt.Printf("chart repository: %s\nkubectl: %s\nstarted in %s; Ctrl-C stops it (files stay in %s)\n",
		cp.ChartRepository, tc.Cluster.Kubectl, cp.Started.Round(10*time.Millisecond), dir)
	<-ctx.Done()
	return nil
}

func run(dir string, toolsOnly bool, tools []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tc, err := toolchain()
	if err != nil {
		return err
	}
	if toolsOnly {
		for _, set := range tools {
			ensure := map[string]func() error{toolsEngine: tc.Ensure, toolsCluster: tc.EnsureCluster,
				toolsProvider: tc.EnsureKubernetesProvider}[strings.TrimSpace(set)]
			if ensure == nil {
				return fmt.Errorf("-tools: unknown tool set %q (known: %s, %s, %s)", set, toolsEngine, toolsCluster, toolsProvider)
			}
			if err := ensure(); err != nil {
				return err
			}
		}
		return nil
	}
	if slices.ContainsFunc(tools, func(s string) bool { return s != toolsEngine }) {
		return fmt.Errorf("-tools is for -tools-only")
	}
	if dir, err = runDir(dir, "hybrid-local-up-"); err != nil {
		return err
	}
	p, err := localcloud.StartPlatform(ctx, tc, dir, os.Stderr)
	if err != nil {
		return err
	}
	defer p.Stop()
	ws := p.Workspace
	if err := ws.InitStacks(ctx); err != nil {
		return err
	}
	results, err := ws.BringUp(ctx)
	for _, r := range results {
		fmt.Println(r.Stdout)
	}
	if err != nil {
		return err
	}
	for _, stack := range config.Stacks {
		r, err := ws.Pulumi(ctx, nil, "stack", "output", "--stack", stack)
		if err != nil {
			return err
		}
		fmt.Printf("==> outputs of %s\n%s\n", stack, r.Stdout)
	}
	fmt.Printf("state, plugins and the stand-in cloud are in %s\n\nThe local platform (simulated nodes: no container runs; network policies are stored, not enforced):\n", dir)
	for _, kind := range []string{config.ClusterDOKS, config.ClusterTalos} {
		c := p.Control.Clusters[kind]
		fmt.Printf("  %s (stack %s): %s get pods -A --kubeconfig %s\n", kind, c.Stack, tc.Cluster.Kubectl, c.Kubeconfig)
	}
	fmt.Println("Ctrl-C stops it.")
	<-ctx.Done()
	return nil
}
