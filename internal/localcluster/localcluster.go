// Package localcluster runs real Kubernetes control planes on loopback for
// the local engine runs: one etcd, and per cluster of the platform (DOKS for
// prod, Talos for onprem) a kube-apiserver with its own --etcd-prefix, a
// kube-controller-manager, a kube-scheduler and kwok, which keeps simulated
// nodes Ready and plays the lifecycle of the pods bound to them.
//
// Real: the API servers (validation, defaulting, admission with Pod Security,
// RBAC, CRD schemas, quotas, the API versions of Kubernetes 1.35), the
// controllers (Deployments, ReplicaSets, Jobs, service accounts, garbage
// collection, ...) and the scheduler (requests, taints, affinity).
//
// Simulated, as documented on each: the nodes (kwok: no kubelet, no
// container ever runs, a pod is Ready once bound), what the clusters' own
// add-ons provide (the CRDs of DOKS's routing agent and CSI snapshotter, and
// of the cilium operator on both; DOKS's do-block-storage class and the
// volumes provisioners create (storage.go); LoadBalancer addresses, as
// DigitalOcean's cloud controller and Cilium LB-IPAM give them; the Ingress
// status Traefik publishes, ingress.go). Network
// policies are stored and validated, never enforced; nothing listens on a
// Service.
package localcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hybridcloud/platform/internal/config"
)

// Binaries are the control-plane programs (built by internal/localcloud).
type Binaries struct {
	Etcd, APIServer, ControllerManager, Scheduler, Kwok string
}

// Options configure a control plane.
type Options struct {
	Root string // repository root: the stack files and ../shared/charts
	Dir  string // run directory: certificates, kubeconfigs, etcd data, logs
	Bin  Binaries
	Log  io.Writer // progress; nil discards
	// DOKSToken, when set, is a bearer token the DOKS API server accepts as
	// an admin, as the token in the program's DOKS kubeconfig (doksToken).
	DOKSToken string
	// Charts is the chart repository served over loopback; default
	// Root/../shared/charts.
	Charts string
	// DOAccountToken, when set with DOKSToken, starts the simulated
	// DigitalOcean credentials endpoint (doapi.go), which hands DOKSToken to
	// a client that presents this account token, as doctl does.
	DOAccountToken string
}

// ControlPlane is the running etcd, API servers, controllers and nodes.
type ControlPlane struct {
	Etcd     string              // http://127.0.0.1:PORT
	Clusters map[string]*Cluster // by config.ClusterDOKS / config.ClusterTalos
	// ChartRepository is the base URL of the chart mirror on loopback.
	ChartRepository string
	// DOAPI is the base URL of the simulated DigitalOcean credentials
	// endpoint (DIGITALOCEAN_API_URL for doctl), when Options asked for it.
	DOAPI   string
	Started time.Duration // how long Start took

	dir    string
	log    io.Writer
	etcd   *proc
	charts *http.Server
	doapi  *http.Server
	// credentialCalls counts the tokens the credentials endpoint handed out.
	credentialCalls atomic.Int64
	cancel          context.CancelFunc
	wg              sync.WaitGroup
}

// Cluster is one simulated cluster and how to reach its API server.
type Cluster struct {
	Kind     string // config.ClusterDOKS or config.ClusterTalos
	Stack    string // the stack whose config shaped it
	Endpoint string // https://127.0.0.1:PORT
	CA       []byte // PEM of the CA that signed the serving certificate
	// AdminCert and AdminKey are a client certificate in system:masters.
	AdminCert, AdminKey []byte
	Token               string // the admin bearer token, if any
	Kubeconfig          string // path of an admin kubeconfig
	Nodes               []Node
	Client              *Client

	log                         io.Writer
	apiserver, kcm, sched, kwok *proc
	podCidr, serviceCidr        netip.Prefix
	prefix                      string
	etcd, kwokStages            string
}

// Start runs the control plane: etcd, then both API servers, then their
// controllers, schedulers and kwok, the simulated nodes and the provided
// CRDs. It returns when every component is ready. Stop ends it.
func Start(ctx context.Context, o Options) (*ControlPlane, error) {
	start := time.Now()
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Charts == "" {
		o.Charts = filepath.Join(o.Root, "..", "shared", "charts")
	}
	for name, b := range map[string]string{"etcd": o.Bin.Etcd, "kube-apiserver": o.Bin.APIServer,
		"kube-controller-manager": o.Bin.ControllerManager, "kube-scheduler": o.Bin.Scheduler, "kwok": o.Bin.Kwok} {
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("%s binary: %w", name, err)
		}
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	cp := &ControlPlane{Clusters: map[string]*Cluster{}, dir: o.Dir, log: o.Log}
	ok := false
	defer func() {
		if !ok {
			cp.Stop()
		}
	}()
	if err := cp.startEtcd(o); err != nil {
		return nil, err
	}
	if err := cp.serveCharts(o.Charts); err != nil {
		return nil, err
	}
	stages, err := kwokStagesDir(o.Bin.Kwok)
	if err != nil {
		return nil, err
	}
	for _, stack := range config.Stacks {
		c, err := newCluster(o, stack)
		if err != nil {
			return nil, err
		}
		c.etcd, c.kwokStages = cp.Etcd, stages
		cp.Clusters[c.Kind] = c
	}
	// The clusters start side by side: each waits on its own API server.
	errs := make(chan error, len(cp.Clusters))
	for _, c := range cp.Clusters {
		go func() { errs <- c.start(ctx, o) }()
	}
	var all []error
	for range cp.Clusters {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		return nil, err
	}
	if o.DOAccountToken != "" {
		if err := cp.serveDOCredentials(o.DOAccountToken); err != nil {
			return nil, err
		}
	}
	lbCtx, cancel := context.WithCancel(context.Background())
	cp.cancel = cancel
	for _, c := range cp.Clusters {
		cp.wg.Add(1)
		go func() {
			defer cp.wg.Done()
			c.reconcile(lbCtx, "load-balancer", c.loadBalancerCollections(), c.assignAddresses)
		}()
		cp.wg.Add(1)
		go func() { defer cp.wg.Done(); c.reconcile(lbCtx, "storage", storageCollections, c.provisionVolumes) }()
		cp.wg.Add(1)
		go func() {
			defer cp.wg.Done()
			c.reconcile(lbCtx, "ingress-status", ingressCollections, c.publishIngressStatus)
		}()
	}
	cp.Started = time.Since(start)
	fmt.Fprintf(o.Log, "localcluster: control plane ready in %s (etcd %s, charts %s)\n", cp.Started.Round(10*time.Millisecond), cp.Etcd, cp.ChartRepository)
	ok = true
	return cp, nil
}

func (cp *ControlPlane) startEtcd(o Options) error {
	client, err := freePort()
	if err != nil {
		return err
	}
	peer, err := freePort()
	if err != nil {
		return err
	}
	cp.Etcd = fmt.Sprintf("http://127.0.0.1:%d", client)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
	// --unsafe-no-fsync: the data is thrown away after the run, and fsync on a
	// loaded shared disk is what would make the API servers slow.
	cp.etcd, err = startProc(o.Dir, "etcd", o.Bin.Etcd,
		"--name=local", "--data-dir="+filepath.Join(o.Dir, "etcd-data"),
		"--listen-client-urls="+cp.Etcd, "--advertise-client-urls="+cp.Etcd,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=local="+peerURL, "--unsafe-no-fsync", "--log-level=warn")
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: time.Second}
	return waitFor("etcd", 30*time.Second, func() error {
		resp, err := hc.Get(cp.Etcd + "/health")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(b), `"health":"true"`) {
			return fmt.Errorf("health: %s", b)
		}
		return nil
	}, cp.etcd)
}

// Stop ends every process, the dependents before etcd, and waits for them.
func (cp *ControlPlane) Stop() {
	if cp.cancel != nil {
		cp.cancel()
		cp.wg.Wait()
	}
	var wg sync.WaitGroup
	for _, c := range cp.Clusters {
		for _, p := range []*proc{c.kwok, c.sched, c.kcm} {
			wg.Add(1)
			go func() { defer wg.Done(); p.stop(5 * time.Second) }()
		}
	}
	wg.Wait()
	for _, c := range cp.Clusters {
		wg.Add(1)
		go func() { defer wg.Done(); c.apiserver.stop(10 * time.Second) }()
	}
	wg.Wait()
	cp.etcd.stop(5 * time.Second)
	for _, srv := range []*http.Server{cp.charts, cp.doapi} {
		if srv != nil {
			_ = srv.Close()
		}
	}
}

// PIDs are the process ids of every component, for memory figures.
func (cp *ControlPlane) PIDs() map[string]int {
	out := map[string]int{"etcd": cp.etcd.pid()}
	for kind, c := range cp.Clusters {
		for name, p := range map[string]*proc{"kube-apiserver": c.apiserver, "kube-controller-manager": c.kcm,
			"kube-scheduler": c.sched, "kwok": c.kwok} {
			out[kind+"/"+name] = p.pid()
		}
	}
	return out
}

// newCluster lays out a cluster's certificates and kubeconfigs, shaped by
// its stack's config.
func newCluster(o Options, stack string) (*Cluster, error) {
	sc, err := readStackConfig(o.Root, stack)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Stack: stack, log: o.Log}
	switch stack {
	case config.StackProd:
		c.Kind, c.podCidr, c.serviceCidr = config.ClusterDOKS, sc.Network.DoksPodCidr, sc.Network.DoksServiceCidr
		c.Nodes, err = doksNodes(sc)
		c.Token = o.DOKSToken
	default:
		c.Kind, c.podCidr, c.serviceCidr = config.ClusterTalos, sc.Network.TalosPodCidr, sc.Network.TalosServiceCidr
		c.Nodes, err = talosNodes(sc)
	}
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	c.prefix = "/" + c.Kind
	return c, nil
}

func (c *Cluster) logf(format string, args ...any) {
	fmt.Fprintf(c.log, "localcluster: %s: %s\n", c.Kind, fmt.Sprintf(format, args...))
}

// Access is how a client reaches one cluster as its admin: what the
// stand-in DOKS cluster (endpoint, CA, token) and the stand-in Talos
// kubeconfig (endpoint, CA, client certificate) are to hand out, so that the
// program's own provider wiring is what connects.
type Access struct {
	Endpoint   string `json:"endpoint"`
	CA         string `json:"caPem"`
	Token      string `json:"token,omitempty"`
	ClientCert string `json:"clientCertPem"`
	ClientKey  string `json:"clientKeyPem"`
}

// WriteAccess writes every cluster's Access, by kind, as JSON (mode 0600:
// it holds admin credentials of the local clusters), for the stand-in
// plugins, which run in processes of the engine's.
func (cp *ControlPlane) WriteAccess(path string) error {
	out := map[string]Access{}
	for kind, c := range cp.Clusters {
		out[kind] = Access{Endpoint: c.Endpoint, CA: string(c.CA), Token: c.Token,
			ClientCert: string(c.AdminCert), ClientKey: string(c.AdminKey)}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// reconcile runs one of the loops that play a cluster add-on's part (the
// load balancer, storage and ingress-status loops) until ctx ends: f at
// once, then whenever one of the collections it reads changes, as the real
// controllers do with their informers. A watch per collection reports the
// changes; f runs at most once per burst of events, and at most once every
// minInterval. A failed f is retried
// after retryAfter, and every resync f also runs unasked, as an informer's
// resync does, so that a change a broken watch missed is still seen.
//
// Polling instead (the loops listed every collection every 250 ms) kept
// each idle API server at about 10% of a core with some 20 LISTs a second;
// see TestHarnessLoopsAreQuietWhenNothingChanges in tests/localcluster.
func (c *Cluster) reconcile(ctx context.Context, what string, collections []string, f func(context.Context) error) {
	changed := make(chan struct{}, 1)
	poke := func() {
		select {
		case changed <- struct{}{}:
		default: // a run is already due
		}
	}
	for _, path := range collections {
		go func() {
			for ctx.Err() == nil {
				if err := c.Client.Watch(ctx, path, poke); err != nil && ctx.Err() == nil {
					c.logf("%s loop: watch %s: %v", what, path, err)
				}
				select { // the server ended the watch, or it broke: open it again
				case <-ctx.Done():
				case <-time.After(retryAfter):
				}
				poke() // the new watch starts from the present state: changes in between count
			}
		}()
	}
	resyncT := time.NewTicker(resync)
	defer resyncT.Stop()
	for {
		var retry <-chan time.Time
		if err := f(ctx); err != nil && ctx.Err() == nil {
			c.logf("%s loop: %v", what, err)
			retry = time.After(retryAfter)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-retry:
		case <-resyncT.C:
		}
		// While objects change without pause (a bring-up's status updates),
		// run no more often than the old poll did.
		select {
		case <-ctx.Done():
			return
		case <-time.After(minInterval):
		}
	}
}

// The reconcile loops' retry delay, resync period and shortest interval
// between two runs.
const (
	retryAfter  = time.Second
	resync      = 10 * time.Second
	minInterval = 500 * time.Millisecond
)
