// Package kubelayer applies both platforms through the real
// pulumi-kubernetes provider to real Kubernetes control planes: the pinned
// Pulumi CLI, state in a real S3 server, the real provider (built from the
// module proxy, tools/kubernetes-provider) with its await logic on, and the
// local API servers, controllers, schedulers and kwok nodes of
// internal/localcluster, with the charts served from the mirror.
// DigitalOcean, Cloudflare and Talos stay stand-ins (internal/standin); the
// stand-in DOKS cluster and Talos kubeconfig hand out the local API
// servers' endpoints, CAs and credentials, and the real doctl gets the DOKS
// token from a simulated credentials endpoint, so that the program's own
// provider wiring is what connects.
//
// TestMain builds what is missing into bin/ (cold: the provider alone takes
// many minutes; .ci/run builds it in an earlier step) and runs the bring-up.
// Nothing is skipped.
package kubelayer

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hybridcloud/platform/internal/localcloud"
	"github.com/hybridcloud/platform/internal/localcluster"
)

// bringUpTimeout bounds the bring-up of TestMain.
const bringUpTimeout = 30 * time.Minute

var (
	// bringUpErr is how the bring-up in TestMain ended; the tests read it.
	bringUpErr  error
	bringUpTook map[string]time.Duration
	ws          *localcloud.Workspace
	cp          *localcluster.ControlPlane
	root        string
)

// doksToken is the bearer token the local DOKS API server accepts as its
// admin, which the simulated credentials endpoint hands to doctl.
const doksToken = localcloud.DOKSClusterToken

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	flag.Parse()
	wd, err := os.Getwd()
	if err == nil {
		root, err = localcloud.FindRoot(wd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "hybrid-kubelayer-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	p, err := localcloud.StartPlatform(context.Background(), &localcloud.Toolchain{Root: root}, dir, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n(files in %s)\n", err, dir)
		return 1
	}
	ws, cp = p.Workspace, p.Control
	// The bring-up runs here, before the tests, under its own deadline. The
	// testing package's -test.timeout alarm starts only in m.Run, but cmd/go
	// kills the binary at its -timeout plus 1 minute counted from the start
	// (10m + 1m by default), bring-up included: hence the README's
	// `go test -timeout 30m`. Its output goes to a log file as it comes.
	logPath := filepath.Join(dir, "bring-up.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	ws.Stream = logFile
	bringUpErr = bringUp(bringUpTimeout)
	ws.Stream = nil
	_ = logFile.Close()
	code := m.Run()
	p.Stop()
	if code == 0 {
		_ = os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "kubelayer test files (state, control-plane logs) kept in %s\nversitygw log:\n%s\n", dir, p.S3.Log())
	}
	return code
}

func ctx(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}
