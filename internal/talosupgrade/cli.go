package talosupgrade

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/client"
	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"

	"github.com/hybridcloud/platform/internal/talosupgrade/stackout"
)

// Main is cmd/talos-upgrade: 0 when every node is at the target, 1 on the
// first failure, 2 on bad usage.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("talos-upgrade", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `talos-upgrade upgrades the on-prem Talos nodes to talos.talosVersion, one at
a time (control-plane nodes first, then workers), then checks node by node
that each runs talos.kubernetesVersion. What it reads comes from the onprem
stack outputs:

  pulumi stack output --json --show-secrets -s onprem | go run ./cmd/talos-upgrade --outputs -

Flags:
`)
		fs.PrintDefaults()
	}
	outputsPath := fs.String("outputs", "", "the JSON of `pulumi stack output --json --show-secrets -s onprem`: a file, or - for standard input (required)")
	talosconfigPath := fs.String("talosconfig", "", "a talosconfig file; default: the stack's talosconfig output")
	kubeconfigPath := fs.String("kubeconfig", "", "a kubeconfig file; default: the stack's kubeconfig output")
	dryRun := fs.Bool("dry-run", false, "read the running versions and say what would be done; no upgrade, no wait")
	rebootTimeout := fs.Duration("reboot-timeout", 15*time.Minute, "how long a node may take to come back with the target version after its Upgrade call")
	healthTimeout := fs.Duration("health-timeout", 10*time.Minute, "how long the cluster health check, and each node's wait for the Kubernetes version, may take")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *outputsPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "talos-upgrade: --outputs is required, and no argument is taken")
		fs.Usage()
		return 2
	}
	if *rebootTimeout <= 0 || *healthTimeout <= 0 {
		fmt.Fprintln(stderr, "talos-upgrade: --reboot-timeout and --health-timeout must be positive")
		return 2
	}
	out, err := readOutputs(*outputsPath, *talosconfigPath, *kubeconfigPath, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "talos-upgrade: %v\n", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	talos, err := Dial(ctx, out.Talosconfig)
	if err != nil {
		fmt.Fprintf(stderr, "talos-upgrade: %v\n", err)
		return 1
	}
	defer talos.Close()
	kube, err := NewKubeAPI(out.Kubeconfig)
	if err != nil {
		fmt.Fprintf(stderr, "talos-upgrade: %v\n", err)
		return 1
	}
	u := &Upgrade{
		Talos: talos, Kubernetes: kube, Outputs: out, DryRun: *dryRun,
		RebootTimeout: *rebootTimeout, HealthTimeout: *healthTimeout, Poll: 5 * time.Second,
		Log: stdout,
	}
	t, k, err := u.Run(ctx)
	summary(stdout, out, t, k)
	if err != nil {
		fmt.Fprintf(stderr, "talos-upgrade: stopped: %v\n", err)
		var step *StepError
		if errors.As(err, &step) {
			fmt.Fprintln(stderr, "talos-upgrade: the nodes before it are done; run again once it is fixed: done nodes are skipped (docs/runbooks/upgrade-talos.md)")
		}
		return 1
	}
	return 0
}

// readOutputs reads the stack outputs, with the client configs from files
// when given.
func readOutputs(path, talosconfig, kubeconfig string, stdin io.Reader) (*stackout.Outputs, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("--outputs: %w", err)
	}
	out, err := stackout.Parse(data)
	if err != nil {
		return nil, err
	}
	for flagName, f := range map[string]struct {
		path string
		into *string
	}{"talosconfig": {talosconfig, &out.Talosconfig}, "kubeconfig": {kubeconfig, &out.Kubeconfig}} {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flagName, err)
		}
		*f.into = string(b)
	}
	return out, out.Validate()
}

// Dial connects to the Talos API with a talosconfig's text: its endpoints
// (the control-plane nodes, port 50000 unless given) and its client
// certificate, over TLS (machinery client/connection.go:34-107 @v1.12.5).
// Calls pick their node with client.WithNode.
func Dial(ctx context.Context, talosconfig string) (*client.Client, error) {
	cfg, err := clientconfig.FromString(talosconfig)
	if err != nil {
		return nil, fmt.Errorf("talosconfig: %w", err)
	}
	c, err := client.New(ctx, client.WithConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("talos API client: %w", err)
	}
	return c, nil
}

func summary(w io.Writer, out *stackout.Outputs, talos, kube []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "NODE\tROLE\tTALOS BEFORE\tTALOS (%s)\tKUBELET BEFORE\tKUBERNETES (v%s)\n", out.TalosVersion, out.KubernetesVersion)
	for _, n := range out.Order() {
		t, k := find(talos, n), find(kube, n)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Role, orNone(t.Before), orDash(t.Action), orNone(k.Before), orDash(join(k.Action, k.Message)))
	}
	tw.Flush()
}

func find(rs []Result, n stackout.Node) Result {
	for _, r := range rs {
		if r.Node == n {
			return r
		}
	}
	return Result{}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func join(a, b string) string {
	if b == "" {
		return a
	}
	return a + ": " + b
}
