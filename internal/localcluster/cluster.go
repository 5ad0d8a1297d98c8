package localcluster

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hybridcloud/platform/internal/config"
)

// talosAdmission is the Pod Security admission configuration Talos puts on
// its API server by default: enforce baseline, audit and warn restricted,
// kube-system exempt (checked: Talos machinery v1.12.0
// config/generate/init.go). DOKS sets none: Kubernetes' default, privileged.
const talosAdmission = `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1alpha1
    kind: PodSecurityConfiguration
    defaults:
      enforce: baseline
      enforce-version: latest
      audit: restricted
      audit-version: latest
      warn: restricted
      warn-version: latest
    exemptions:
      usernames: []
      runtimeClasses: []
      namespaces: [kube-system]
`

// start brings the cluster up on the shared etcd and waits until the API
// server, the controller-manager, the scheduler and kwok are ready, the
// nodes are registered and Ready, and the provided CRDs are established.
func (c *Cluster) start(ctx context.Context, o Options) error {
	began := time.Now()
	dir := filepath.Join(o.Dir, c.Kind)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.Endpoint = fmt.Sprintf("https://127.0.0.1:%d", port)
	if !c.serviceCidr.IsValid() {
		return fmt.Errorf("stack %s: no service CIDR in the address plan", c.Stack)
	}
	kubeSvcIP := c.serviceCidr.Masked().Addr().Next() // the `kubernetes` Service's address

	ca, err := newAuthority(dir, "ca")
	if err != nil {
		return err
	}
	front, err := newAuthority(dir, "front-proxy-ca")
	if err != nil {
		return err
	}
	serving, err := ca.issue(dir, "apiserver", "kube-apiserver", nil, []string{"127.0.0.1", "localhost",
		kubeSvcIP.String(), "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"})
	if err != nil {
		return err
	}
	proxyClient, err := front.issue(dir, "front-proxy-client", "front-proxy-client", nil, nil)
	if err != nil {
		return err
	}
	saKey, saPub, err := serviceAccountKey(dir)
	if err != nil {
		return err
	}
	admin, err := ca.issue(dir, "admin", "kubernetes-admin", []string{"system:masters"}, nil)
	if err != nil {
		return err
	}
	c.CA, c.AdminCert, c.AdminKey = ca.Cert, admin.Cert, admin.Key
	if c.Client, err = newClient(c.Endpoint, ca.Cert, admin); err != nil {
		return err
	}
	kubeconfigs := map[string]string{}
	for _, u := range []struct{ name, cn string }{
		{"controller-manager", "system:kube-controller-manager"},
		{"scheduler", "system:kube-scheduler"},
		{"kwok", "kwok"}, // in system:masters: it writes node and pod status everywhere
	} {
		orgs := []string(nil)
		if u.name == "kwok" {
			orgs = []string{"system:masters"}
		}
		kp, err := ca.issue(dir, u.name, u.cn, orgs, nil)
		if err != nil {
			return err
		}
		kubeconfigs[u.name] = filepath.Join(dir, u.name+".kubeconfig")
		if err := os.WriteFile(kubeconfigs[u.name], kubeconfig(c.Kind, c.Endpoint, ca.Cert, u.cn, kp, ""), 0o600); err != nil {
			return err
		}
	}
	c.Kubeconfig = filepath.Join(dir, "admin.kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, kubeconfig(c.Kind, c.Endpoint, ca.Cert, "admin", admin, ""), 0o600); err != nil {
		return err
	}

	args := []string{
		"--etcd-servers=" + c.etcd, "--etcd-prefix=" + c.prefix,
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port), "--advertise-address=127.0.0.1",
		// The `kubernetes` Service cannot point at 127.0.0.1 (the endpoint
		// reconciler refuses loopback), and two API servers share the host.
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + serving.CertFile, "--tls-private-key-file=" + serving.KeyFile,
		"--client-ca-file=" + ca.CertFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + saPub, "--service-account-signing-key-file=" + saKey,
		"--service-cluster-ip-range=" + c.serviceCidr.String(),
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		// Privileged pods are allowed by the API server; Pod Security admission
		// decides per namespace, as on both real clusters.
		"--allow-privileged=true",
		"--requestheader-client-ca-file=" + front.CertFile, "--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + proxyClient.CertFile, "--proxy-client-key-file=" + proxyClient.KeyFile,
		"--profiling=false",
	}
	if c.Kind == config.ClusterTalos {
		f := filepath.Join(dir, "admission.yaml")
		if err := os.WriteFile(f, []byte(talosAdmission), 0o600); err != nil {
			return err
		}
		args = append(args, "--admission-control-config-file="+f)
	}
	if c.Token != "" {
		f := filepath.Join(dir, "tokens.csv")
		if err := os.WriteFile(f, []byte(c.Token+",doks-admin,doks-admin,system:masters\n"), 0o600); err != nil {
			return err
		}
		args = append(args, "--token-auth-file="+f)
	}
	if c.apiserver, err = startProc(dir, "kube-apiserver", o.Bin.APIServer, args...); err != nil {
		return err
	}
	if err := waitFor(c.Kind+" kube-apiserver", 60*time.Second, func() error {
		var body []byte
		return c.Client.Do(ctx, http.MethodGet, "/readyz", nil, &body)
	}, c.apiserver); err != nil {
		return err
	}
	c.logf("kube-apiserver ready at %s (%s)", c.Endpoint, time.Since(began).Round(10*time.Millisecond))

	kcmPort, err := freePort()
	if err != nil {
		return err
	}
	schedPort, err := freePort()
	if err != nil {
		return err
	}
	// The controller-manager and the scheduler authenticate and authorise
	// their own health endpoints' callers through the API server, as in a
	// kubeadm cluster; their serving certificates are self-signed in cert-dir.
	common := func(kubeconfig string, port int, certDir string) []string {
		return []string{"--kubeconfig=" + kubeconfig, "--authentication-kubeconfig=" + kubeconfig,
			"--authorization-kubeconfig=" + kubeconfig, "--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
			"--cert-dir=" + filepath.Join(dir, certDir), "--leader-elect=false", "--profiling=false"}
	}
	if c.kcm, err = startProc(dir, "kube-controller-manager", o.Bin.ControllerManager,
		append(common(kubeconfigs["controller-manager"], kcmPort, "kcm-certs"),
			// Without it the ReplicaSet controller's requests are refused.
			"--use-service-account-credentials=true",
			"--service-account-private-key-file="+saKey, "--root-ca-file="+ca.CertFile,
			"--cluster-signing-cert-file="+ca.CertFile, "--cluster-signing-key-file="+ca.KeyFile,
			"--service-cluster-ip-range="+c.serviceCidr.String())...); err != nil {
		return err
	}
	if c.sched, err = startProc(dir, "kube-scheduler", o.Bin.Scheduler,
		common(kubeconfigs["scheduler"], schedPort, "scheduler-certs")...); err != nil {
		return err
	}
	if err := c.startKwok(dir, o.Bin.Kwok, kubeconfigs["kwok"]); err != nil {
		return err
	}
	// Register the nodes and the provided CRDs while the controllers start.
	if err := c.registerNodes(ctx); err != nil {
		return err
	}
	if err := c.installCRDs(ctx); err != nil {
		return err
	}
	if err := c.installStorageClasses(ctx); err != nil {
		return err
	}
	insecure := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // #nosec G402 -- loopback health checks of self-signed servers
	for name, p := range map[string]struct {
		port int
		proc *proc
	}{"kube-controller-manager": {kcmPort, c.kcm}, "kube-scheduler": {schedPort, c.sched}} {
		if err := waitFor(c.Kind+" "+name, 60*time.Second, func() error {
			resp, err := insecure.Get(fmt.Sprintf("https://127.0.0.1:%d/healthz", p.port))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("healthz: %s", resp.Status)
			}
			return nil
		}, p.proc); err != nil {
			return err
		}
	}
	if err := c.waitNodesReady(ctx); err != nil {
		return err
	}
	c.logf("controllers, scheduler, %d nodes and the provided CRDs ready (%s)", len(c.Nodes), time.Since(began).Round(10*time.Millisecond))
	return nil
}

// startKwok runs kwok on this cluster's nodes with the stages kwokctl uses
// by default (node-initialize, node heartbeat with lease, pod ready,
// complete and delete), read from the kwok module that the binary was built
// from. Pod addresses come from the cluster's pod CIDR.
func (c *Cluster) startKwok(dir, bin, kubeconfigPath string) error {
	var stageArgs []string
	for _, s := range kwokStages {
		stageArgs = append(stageArgs, "--config="+filepath.Join(c.kwokStages, s))
	}
	var err error
	c.kwok, err = startProc(dir, "kwok", bin, append(stageArgs,
		"--kubeconfig="+kubeconfigPath,
		"--manage-nodes-with-annotation-selector="+kwokNodeAnnotation+"=fake",
		"--cidr="+c.podCidr.String(),
		"--node-lease-duration-seconds=40")...)
	return err
}

// kwokStages are the stage files, relative to the kwok module's directory.
var kwokStages = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

func (c *Cluster) registerNodes(ctx context.Context) error {
	for _, n := range c.Nodes {
		if err := c.Client.Create(ctx, "/api/v1/nodes", n.object()); err != nil && !IsStatus(err, http.StatusConflict) {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	return nil
}

// waitNodesReady waits until kwok has every node Ready and the node
// controller has lifted the not-ready taint the API server puts on a new node.
func (c *Cluster) waitNodesReady(ctx context.Context) error {
	return waitFor(c.Kind+" nodes Ready", 60*time.Second, func() error {
		var list struct {
			Items []struct {
				Metadata struct{ Name string }
				Spec     struct {
					Taints []Taint
				}
				Status struct {
					Conditions []struct{ Type, Status string }
				}
			}
		}
		if err := c.Client.Get(ctx, "/api/v1/nodes", &list); err != nil {
			return err
		}
		if len(list.Items) != len(c.Nodes) {
			return fmt.Errorf("%d of %d nodes registered", len(list.Items), len(c.Nodes))
		}
		var notReady []string
		for _, n := range list.Items {
			ready := false
			for _, cond := range n.Status.Conditions {
				ready = ready || cond.Type == "Ready" && cond.Status == "True"
			}
			for _, t := range n.Spec.Taints {
				ready = ready && !strings.HasPrefix(t.Key, "node.kubernetes.io/")
			}
			if !ready {
				notReady = append(notReady, n.Metadata.Name)
			}
		}
		if len(notReady) > 0 {
			return fmt.Errorf("not Ready yet: %s", strings.Join(notReady, ", "))
		}
		return nil
	}, c.apiserver, c.kcm, c.kwok)
}

// installCRDs registers what the cluster itself provides and waits until
// every definition is established.
func (c *Cluster) installCRDs(ctx context.Context) error {
	var crds [][]byte
	var err error
	// Both clusters run Cilium, whose operator registers its CRDs: on Talos
	// the program installs it; DOKS ships it as a managed component (the
	// DigitalOcean docs page "How to Customize CoreDNS for Kubernetes
	// Clusters" names Cilium among the pre-installed managed components).
	// Which Cilium release DOKS 1.35 runs is unverified.
	crds, err = ciliumCRDs()
	if err != nil {
		return err
	}
	if c.Kind == config.ClusterDOKS {
		snap, err := snapshotCRDs()
		if err != nil {
			return err
		}
		crds = append(append(crds, snap...), routeCRD())
	}
	if c.Kind == config.ClusterTalos {
		// Talos registers its ServiceAccount kind itself (the etcd
		// snapshot job's); see talosServiceAccountCRD.
		crds = append(crds, talosServiceAccountCRD())
	}
	const path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
	var names []string
	for _, crd := range crds {
		if err := c.Client.Create(ctx, path, crd); err != nil && !IsStatus(err, http.StatusConflict) {
			return fmt.Errorf("CRD: %w", err)
		}
		names = append(names, crdName(crd))
	}
	return waitFor(c.Kind+" CRDs established", 30*time.Second, func() error {
		for _, n := range names {
			var crd struct {
				Status struct {
					Conditions []struct{ Type, Status string }
				}
			}
			if err := c.Client.Get(ctx, path+"/"+n, &crd); err != nil {
				return err
			}
			established := false
			for _, cond := range crd.Status.Conditions {
				established = established || cond.Type == "Established" && cond.Status == "True"
			}
			if !established {
				return errors.New(n + " not established")
			}
		}
		return nil
	}, c.apiserver)
}

// kwokStagesDir is the directory of the kwok module the kwok binary was
// built from (its build info names the version), where the stages are.
func kwokStagesDir(bin string) (string, error) {
	out, err := exec.Command("go", "version", "-m", "-json", bin).Output()
	if err != nil {
		return "", fmt.Errorf("go version -m %s: %w", bin, err)
	}
	type mod struct{ Path, Version string }
	var info struct {
		Main mod
		Deps []mod
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return "", fmt.Errorf("go version -m %s: %w", bin, err)
	}
	// The module of the main package is Main, even when it is a dependency
	// of the wrapper module that built it.
	for _, d := range append(info.Deps, info.Main) {
		if d.Path == kwokModule {
			return ModuleDir(d.Path + "@" + d.Version)
		}
	}
	return "", fmt.Errorf("%s was not built from %s", bin, kwokModule)
}

const kwokModule = "sigs.k8s.io/kwok"

// crdName is a CRD's metadata.name.
func crdName(crd []byte) string {
	var m struct{ Metadata struct{ Name string } }
	_ = json.Unmarshal(crd, &m)
	return m.Metadata.Name
}
