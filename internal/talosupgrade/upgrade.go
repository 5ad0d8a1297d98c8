// Package talosupgrade upgrades the on-prem Talos cluster in place, node by
// node, through the Talos API (github.com/siderolabs/talos/pkg/machinery
// client), and then checks that every node runs the configured Kubernetes
// version.
//
// Why a command and not a resource: changing talos.talosVersion changes the
// installer image in the machine config, and Talos uses that image only at
// install. The OS moves only when the Upgrade API is called
// (machinery client.UpgradeWithOptions), one node at a time.
//
// Talos, per node, control-plane nodes first, then the workers, one at a
// time:
//  1. read the running version (Version API) and skip the node if it is
//     already at the target: a retry reboots nothing twice;
//  2. before the first reboot of a run, the cluster must be healthy;
//  3. Upgrade API call with talos.installImage (the node reboots);
//  4. wait until the node reports the target version again;
//  5. wait until the server-side cluster health check passes.
//
// The first failure stops the run, with an error naming the node and the step.
//
// Kubernetes: the machine config the onprem stack applies carries the
// kubelet, kube-apiserver, kube-controller-manager and kube-scheduler images
// of talos.kubernetesVersion (machinery config/generate/init.go:40,166-177
// @v1.12.5), and Talos applies .cluster and .machine.kubelet changes without
// a reboot (internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go:119
// @v1.12.5 in siderolabs/talos). So `pulumi up` already moves those images,
// on every node at once. What upstream's `talosctl upgrade-k8s`
// (pkg/cluster/kubernetes/talos_managed.go:79 @v1.12.5) does besides cannot
// be imported: the module github.com/siderolabs/talos is not served by the
// module proxy (403 for v1.12.5). This command therefore does NOT roll the
// Kubernetes images node by node, does NOT run upstream's pre-upgrade checks
// for removed APIs, and does NOT sync the bootstrap manifests (CoreDNS): it
// checks, node by node in the same order, that each node's kubelet and
// control-plane pods run the target version, and stops at the first one
// that does not within the health timeout.
package talosupgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/blang/semver"
	clusterapi "github.com/siderolabs/talos/pkg/machinery/api/cluster"
	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	"google.golang.org/grpc"

	"github.com/hybridcloud/platform/internal/talosupgrade/stackout"
)

// Talos is the part of the Talos API client the upgrade calls;
// *client.Client of machinery v1.12.5 has these methods (client/client.go:453
// Version, :585 UpgradeWithOptions, :721 ClusterHealthCheck).
type Talos interface {
	Version(ctx context.Context, callOptions ...grpc.CallOption) (*machine.VersionResponse, error)
	UpgradeWithOptions(ctx context.Context, opts ...client.UpgradeOption) (*machine.UpgradeResponse, error)
	ClusterHealthCheck(ctx context.Context, waitTimeout time.Duration, clusterInfo *clusterapi.ClusterInfo) (clusterapi.ClusterService_HealthCheckClient, error)
}

// The steps of a node, as errors name them.
const (
	StepReadVersion      = "read the running Talos version"
	StepHealthBefore     = "cluster health before its upgrade"
	StepUpgrade          = "Upgrade API call"
	StepReboot           = "wait for the target version after the reboot"
	StepHealthAfter      = "cluster health after its upgrade"
	StepKubernetesRead   = "read the node from the Kubernetes API"
	StepKubernetes       = "wait for the target Kubernetes version"
	StepKubernetesHealth = "cluster health after it reached the Kubernetes version"
)

// StepError is the first failure of a run.
type StepError struct {
	Node stackout.Node
	Step string
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("node %s: %s: %v", e.Node, e.Step, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Upgrade is one run over the cluster.
type Upgrade struct {
	Talos Talos
	// Kubernetes reads what the nodes run from the Kubernetes API.
	Kubernetes Kubernetes
	Outputs    *stackout.Outputs
	// DryRun reads the running versions and says what would be done: no
	// Upgrade call, no health check, no wait.
	DryRun bool
	// RebootTimeout bounds the wait for a node to report the target version
	// after its Upgrade call; HealthTimeout the cluster health check and
	// the wait for each node's Kubernetes version.
	RebootTimeout time.Duration
	HealthTimeout time.Duration
	// Poll is the pause between two reads while waiting.
	Poll time.Duration
	// CallTimeout bounds each read while waiting (a rebooting node may not
	// answer at all).
	CallTimeout time.Duration
	Log         io.Writer
}

// Result is what a run did to one node.
type Result struct {
	Node    stackout.Node
	Before  string // the version read before anything was done
	Action  string
	Message string
}

// What a run did to a node.
const (
	ActionSkipped  = "already at target"
	ActionUpgraded = "upgraded"
	ActionWould    = "would upgrade (dry run)"
	ActionWaited   = "reached target"
	ActionBehind   = "behind target (dry run)"
)

// Run upgrades Talos on every node that needs it, then checks Kubernetes.
func (u *Upgrade) Run(ctx context.Context) (talos, kube []Result, err error) {
	if err := u.Outputs.Validate(); err != nil {
		return nil, nil, err
	}
	if u.Kubernetes == nil {
		return nil, nil, errors.New("talosupgrade: Upgrade.Kubernetes is required")
	}
	u.logf("Talos %s (%s), control-plane nodes first, then workers, one at a time%s",
		u.Outputs.TalosVersion, u.Outputs.InstallImage, u.dryRunNote())
	talos, err = u.talos(ctx)
	if err != nil {
		return talos, nil, err
	}
	u.logf("Kubernetes %s: `pulumi up` applied its images to every node's machine config; checking each node in the same order%s",
		u.Outputs.KubernetesVersion, u.dryRunNote())
	kube, err = u.kubernetes(ctx)
	return talos, kube, err
}

func (u *Upgrade) dryRunNote() string {
	if u.DryRun {
		return " (dry run: nothing is changed, nothing is waited for)"
	}
	return ""
}

func (u *Upgrade) talos(ctx context.Context) ([]Result, error) {
	target, err := semver.ParseTolerant(u.Outputs.TalosVersion)
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", stackout.TalosVersion, err)
	}
	var results []Result
	healthy := false // checked since the last reboot of this run
	for _, n := range u.Outputs.Order() {
		running, err := u.version(ctx, n)
		if err != nil {
			return results, &StepError{n, StepReadVersion, err}
		}
		res := Result{Node: n, Before: running}
		switch err := upgradePath(running, target); {
		case errors.Is(err, errAtTarget):
			res.Action = ActionSkipped
			u.logf("%s: runs %s: already at the target, skipped", n, running)
			results = append(results, res)
			continue
		case err != nil:
			return results, &StepError{n, StepReadVersion, err}
		}
		if u.DryRun {
			res.Action = ActionWould
			u.logf("%s: runs %s: would upgrade to %s with %s", n, running, u.Outputs.TalosVersion, u.Outputs.InstallImage)
			results = append(results, res)
			continue
		}
		if !healthy {
			if err := u.health(ctx); err != nil {
				return results, &StepError{n, StepHealthBefore, err}
			}
		}
		u.logf("%s: runs %s: upgrading to %s with %s", n, running, u.Outputs.TalosVersion, u.Outputs.InstallImage)
		if _, err := u.Talos.UpgradeWithOptions(client.WithNode(ctx, n.IP),
			client.WithUpgradeImage(u.Outputs.InstallImage),
			client.WithUpgradeRebootMode(machine.UpgradeRequest_DEFAULT)); err != nil {
			return results, &StepError{n, StepUpgrade, err}
		}
		if err := u.waitVersion(ctx, n); err != nil {
			return results, &StepError{n, StepReboot, err}
		}
		u.logf("%s: runs %s", n, u.Outputs.TalosVersion)
		if err := u.health(ctx); err != nil {
			return results, &StepError{n, StepHealthAfter, err}
		}
		healthy = true
		res.Action = ActionUpgraded
		results = append(results, res)
	}
	return results, nil
}

var errAtTarget = errors.New("at target")

// upgradePath refuses what Talos does not support: a downgrade, and a jump
// over a minor release (upstream tests migrations only between adjacent
// minors and asks for the latest patch of every minor in between).
func upgradePath(running string, target semver.Version) error {
	v, err := semver.ParseTolerant(running)
	if err != nil {
		return fmt.Errorf("the node reports version %q: %w", running, err)
	}
	switch {
	case v.Equals(target):
		return errAtTarget
	case v.GT(target):
		return fmt.Errorf("runs %s, newer than talos.talosVersion v%s: this command never downgrades; set talos.talosVersion to what the nodes run", running, target)
	case v.Major != target.Major || target.Minor > v.Minor+1:
		return fmt.Errorf("runs %s: v%s skips a minor release; upgrade through the latest patch of each minor in between (set talos.talosVersion to v%d.%d.x first)",
			running, target, v.Major, v.Minor+1)
	}
	return nil
}

// version is the Talos version node n reports.
func (u *Upgrade) version(ctx context.Context, n stackout.Node) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, u.callTimeout())
	defer cancel()
	resp, err := u.Talos.Version(client.WithNode(ctx, n.IP))
	if err != nil {
		return "", err
	}
	for _, m := range resp.GetMessages() {
		if tag := m.GetVersion().GetTag(); tag != "" {
			return tag, nil
		}
	}
	return "", errors.New("the Version reply holds no version tag")
}

// waitVersion polls node n until it reports the target version. Errors are
// expected while it reboots; the last one is reported on timeout.
func (u *Upgrade) waitVersion(ctx context.Context, n stackout.Node) error {
	deadline := time.Now().Add(u.RebootTimeout)
	var last string
	var lastErr error
	for {
		v, err := u.version(ctx, n)
		switch {
		case err == nil && v == u.Outputs.TalosVersion:
			return nil
		case err == nil:
			last, lastErr = v, nil
		default:
			lastErr = err
		}
		if !time.Now().Add(u.Poll).Before(deadline) {
			if lastErr != nil {
				return fmt.Errorf("not back with %s after %s; last error: %w", u.Outputs.TalosVersion, u.RebootTimeout, lastErr)
			}
			return fmt.Errorf("still reports %s after %s, not %s (did the upgrade fail and Talos boot the previous image? see `talosctl -n %s dmesg`)",
				last, u.RebootTimeout, u.Outputs.TalosVersion, n.IP)
		}
		if err := sleep(ctx, u.Poll); err != nil {
			return err
		}
	}
}

// health runs the server-side cluster health check (as `talosctl health`
// does by default: cmd/talosctl/cmd/talos/health.go:150-188 @v1.12.5) on the
// first control-plane node, with the node list of the stack.
func (u *Upgrade) health(ctx context.Context) error {
	order := u.Outputs.Order()
	info := &clusterapi.ClusterInfo{}
	for _, n := range order {
		if n.ControlPlane() {
			info.ControlPlaneNodes = append(info.ControlPlaneNodes, n.IP)
		} else {
			info.WorkerNodes = append(info.WorkerNodes, n.IP)
		}
	}
	// The server stops at HealthTimeout; the margin lets its error arrive.
	ctx, cancel := context.WithTimeout(ctx, u.HealthTimeout+time.Minute)
	defer cancel()
	stream, err := u.Talos.ClusterHealthCheck(client.WithNode(ctx, order[0].IP), u.HealthTimeout, info)
	if err != nil {
		return err
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			u.logf("cluster health: passed")
			return nil
		}
		if err != nil {
			return err
		}
		if e := msg.GetMetadata().GetError(); e != "" {
			return errors.New(e)
		}
		u.logf("cluster health: %s", msg.GetMessage())
	}
}

func (u *Upgrade) callTimeout() time.Duration {
	if u.CallTimeout > 0 {
		return u.CallTimeout
	}
	return 10 * time.Second
}

func (u *Upgrade) logf(format string, args ...any) {
	if u.Log != nil {
		fmt.Fprintf(u.Log, "talos-upgrade: "+format+"\n", args...)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
