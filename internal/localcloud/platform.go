package localcloud

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/hybridcloud/platform/internal/localcluster"
)

// DOKSClusterToken is the bearer token the local DOKS API server accepts as
// its admin. The simulated DigitalOcean credentials endpoint hands it to
// doctl, which the program's DOKS kubeconfig runs. Local runs only.
const DOKSClusterToken = "local-doks-cluster-token-not-a-real-credential"

// Platform is everything a local run of both stacks with the real
// Kubernetes layer needs, running: the control planes (with the chart
// mirror and the credentials endpoint), the S3 state server, and a
// workspace whose kubernetes plugin is the real provider.
type Platform struct {
	Control   *localcluster.ControlPlane
	S3        *S3
	Workspace *Workspace
}

// StartPlatform builds or finds every tool (the real provider and doctl
// included), starts the control planes and the S3 server under dir and lays
// out the workspace. Stop ends it; on error, what started is stopped.
func StartPlatform(ctx context.Context, tc *Toolchain, dir string, log io.Writer) (_ *Platform, err error) {
	for _, step := range []struct {
		what   string
		ensure func() error
	}{
		{"the Pulumi CLI, language host, versitygw and stand-ins", tc.Ensure},
		{"the control-plane tools", tc.EnsureCluster},
		{"the real pulumi-kubernetes provider and doctl", tc.EnsureKubernetesProvider},
	} {
		if err := step.ensure(); err != nil {
			return nil, fmt.Errorf("%s: %w", step.what, err)
		}
	}
	p := &Platform{}
	defer func() {
		if err != nil {
			p.Stop()
		}
	}()
	p.Control, err = localcluster.Start(ctx, localcluster.Options{
		Root: tc.Root, Dir: filepath.Join(dir, "control-plane"), Bin: tc.Cluster.Binaries(), Log: log,
		DOKSToken: DOKSClusterToken, DOAccountToken: StandinToken})
	if err != nil {
		return nil, fmt.Errorf("start the control planes: %w", err)
	}
	access := filepath.Join(dir, "cluster-access.json")
	if err := p.Control.WriteAccess(access); err != nil {
		return nil, err
	}
	if p.S3, err = StartS3(tc.Versitygw, filepath.Join(dir, "s3")); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	if err := p.S3.Bootstrap(ctx, Bucket); err != nil {
		return nil, fmt.Errorf("create the state bucket: %w", err)
	}
	p.Workspace, err = NewWorkspaceWith(tc, p.S3, dir, WorkspaceOptions{RealKubernetes: true, SkipCheckpoints: true,
		Clusters: &ClusterAccess{AccessFile: access, DOAPI: p.Control.DOAPI, ChartRepository: p.Control.ChartRepository}})
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	if log != nil {
		p.Workspace.Log = log
	}
	return p, nil
}

// Stop ends the S3 server and the control planes.
func (p *Platform) Stop() {
	if p.S3 != nil {
		p.S3.Stop()
	}
	if p.Control != nil {
		p.Control.Stop()
	}
}
