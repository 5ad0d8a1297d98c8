// Command local-up runs the whole bring-up through the real Pulumi engine
// against the stand-in cloud, with no account and no credentials: it builds
// (or reuses) the pinned Pulumi CLI, the Go language host, versitygw and the
// stand-in provider plugins, starts an S3 server on loopback holding the
// state, creates both stacks from the repository's stack files, sets their
// secrets, runs `pulumi up` on prod, onprem and prod again, and prints the
// stack outputs. See README "A real pulumi up without an account".
//
//	make local-up          # or: go run ./cmd/local-up [-dir DIR]
//	make tools             # or: go run ./cmd/local-up -tools-only
//
// The stand-in cloud simulates the providers; it is not the cloud.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/localcloud"
)

func main() {
	dir := flag.String("dir", "", "directory for the run's state, plugins and stand-in cloud (default: a new temporary directory)")
	toolsOnly := flag.Bool("tools-only", false, "only build (or find) the tools in bin/, then stop")
	flag.Parse()
	if err := run(*dir, *toolsOnly); err != nil {
		fmt.Fprintln(os.Stderr, "local-up:", err)
		os.Exit(1)
	}
}

func run(dir string, toolsOnly bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := localcloud.FindRoot(wd)
	if err != nil {
		return err
	}
	tc := &localcloud.Toolchain{Root: root}
	if err := tc.Ensure(); err != nil {
		return err
	}
	if toolsOnly {
		return nil
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "hybrid-local-up-"); err != nil {
			return err
		}
	} else if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	s3, err := localcloud.StartS3(tc.Versitygw, filepath.Join(dir, "s3"))
	if err != nil {
		return err
	}
	defer s3.Stop()
	if err := s3.Bootstrap(ctx, localcloud.Bucket); err != nil {
		return err
	}
	ws, err := localcloud.NewWorkspace(tc, s3, dir)
	if err != nil {
		return err
	}
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
	fmt.Printf("state, plugins and the stand-in cloud are in %s\n", dir)
	fmt.Printf("(the S3 server has stopped; its files are in %s)\n", s3.Dir)
	return nil
}
