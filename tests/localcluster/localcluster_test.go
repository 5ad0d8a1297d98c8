// Package localcluster_test starts the local Kubernetes control planes of
// internal/localcluster once (TestMain) and proves what the engine tests
// will rely on. TestMain builds the tools that are missing (cold: many
// minutes, which count toward go test's -timeout: .ci/run builds them in an
// earlier step); a tool that cannot be built fails the package, nothing is
// skipped.
package localcluster_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/localcloud"
	"github.com/hybridcloud/platform/internal/localcluster"
)

var (
	cp   *localcluster.ControlPlane
	tc   *localcloud.Toolchain
	root string
)

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
	tc = &localcloud.Toolchain{Root: root}
	if err := tc.EnsureCluster(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: the control-plane tools:", err)
		return 1
	}
	if err := tc.EnsureKubernetesProvider(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: the real pulumi-kubernetes provider:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "hybrid-localcluster-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	cp, err = localcluster.Start(context.Background(), localcluster.Options{
		Root: root, Dir: dir, Bin: tc.Cluster.Binaries(), Log: os.Stderr, DOKSToken: "local-doks-token-for-tests"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: start the control plane: %v\n(files in %s)\n", err, dir)
		return 1
	}
	code := m.Run()
	fmt.Fprintf(os.Stderr, "localcluster: started in %s; resident memory: %s\n", cp.Started.Round(10*time.Millisecond), memory(cp.PIDs()))
	cp.Stop()
	if code == 0 {
		_ = os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "control-plane files and logs kept in %s\n", dir)
	}
	return code
}

// memory sums VmRSS of the components (Linux), with the largest named.
func memory(pids map[string]int) string {
	var total int64
	var parts []string
	for name, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				var kb int64
				_, _ = fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
				total += kb
				parts = append(parts, fmt.Sprintf("%s %d MB", name, kb/1024))
			}
		}
	}
	return fmt.Sprintf("%d MB in total (%s)", total/1024, strings.Join(parts, ", "))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func clusters() []string { return []string{config.ClusterDOKS, config.ClusterTalos} }

// eventually polls f until it succeeds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s: %v", what, timeout, err)
}

// namespace creates a namespace with labels and waits for its default
// ServiceAccount (a namespace seconds old may not have it yet).
func namespace(t *testing.T, c *localcluster.Cluster, name string, labels map[string]string) {
	t.Helper()
	require.NoError(t, c.Client.Create(ctx(t), "/api/v1/namespaces", map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name, "labels": labels}}))
	eventually(t, 30*time.Second, "default ServiceAccount of "+name, func() error {
		return c.Client.Get(ctx(t), "/api/v1/namespaces/"+name+"/serviceaccounts/default", nil)
	})
}

func TestAPIServersAnswerWithTheirVersion(t *testing.T) {
	for _, kind := range clusters() {
		var v struct{ GitVersion string }
		require.NoError(t, cp.Clusters[kind].Client.Get(ctx(t), "/version", &v), kind)
		assert.Equal(t, "v1.35.4", v.GitVersion, kind)
	}
	assert.NotEqual(t, cp.Clusters[config.ClusterDOKS].Endpoint, cp.Clusters[config.ClusterTalos].Endpoint)
}

// The two API servers share one etcd under separate prefixes: an object in
// one cluster is not in the other.
func TestClustersAreSeparate(t *testing.T) {
	doks, talos := cp.Clusters[config.ClusterDOKS], cp.Clusters[config.ClusterTalos]
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "only-in-doks"}}
	require.NoError(t, doks.Client.Create(ctx(t), "/api/v1/namespaces/default/configmaps", cm))
	require.NoError(t, doks.Client.Get(ctx(t), "/api/v1/namespaces/default/configmaps/only-in-doks", nil))
	err := talos.Client.Get(ctx(t), "/api/v1/namespaces/default/configmaps/only-in-doks", nil)
	assert.True(t, localcluster.IsStatus(err, http.StatusNotFound), "talos must not see it: %v", err)
}

// The DOKS API server accepts the bearer token it was given (the token of
// the program's DOKS kubeconfig) and refuses another.
func TestDOKSTokenAuthentication(t *testing.T) {
	c := cp.Clusters[config.ClusterDOKS]
	cases := []struct {
		token string
		want  int
	}{
		{"local-doks-token-for-tests", http.StatusOK},
		{"not-the-token", http.StatusUnauthorized},
		{"", http.StatusForbidden}, // anonymous: authenticated as system:anonymous, which may not list
	}
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(c.CA))
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	for _, tt := range cases {
		req, err := http.NewRequestWithContext(ctx(t), http.MethodGet, c.Endpoint+"/api/v1/namespaces", nil)
		require.NoError(t, err)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := hc.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, tt.want, resp.StatusCode, "token %q", tt.token)
	}
}

// stackFile reads a stack file's config as plain YAML, independently of the
// harness, for what the nodes must be.
func stackFile(t *testing.T, stack string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "Pulumi."+stack+".yaml"))
	require.NoError(t, err)
	var doc struct{ Config map[string]any }
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	return doc.Config
}

type apiNode struct {
	Metadata struct {
		Name   string
		Labels map[string]string
	}
	Spec struct {
		Taints []struct{ Key, Effect string }
	}
	Status struct {
		Conditions []struct{ Type, Status string }
		Capacity   map[string]string
	}
}

func nodes(t *testing.T, kind string) map[string]apiNode {
	var list struct{ Items []apiNode }
	require.NoError(t, cp.Clusters[kind].Client.Get(ctx(t), "/api/v1/nodes", &list))
	out := map[string]apiNode{}
	for _, n := range list.Items {
		out[n.Metadata.Name] = n
	}
	return out
}

func ready(n apiNode) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

func TestDOKSNodesAreThePoolsReady(t *testing.T) {
	doks := stackFile(t, config.StackProd)[config.Project+":doks"].(map[string]any)
	pools := []any{doks["systemPool"], doks["nodePool"]}
	if extra, ok := doks["extraPools"].([]any); ok {
		pools = append(pools, extra...)
	}
	got := nodes(t, config.ClusterDOKS)
	total := 0
	for _, p := range pools {
		pool := p.(map[string]any)
		name := pool["name"].(string)
		var members []apiNode
		for _, n := range got {
			if n.Metadata.Labels["doks.digitalocean.com/node-pool"] == name {
				members = append(members, n)
			}
		}
		assert.Len(t, members, pool["minNodes"].(int), "pool %s starts at minNodes", name)
		total += len(members)
		for _, n := range members {
			assert.True(t, ready(n), "%s Ready", n.Metadata.Name)
			assert.Equal(t, pool["size"], n.Metadata.Labels["node.kubernetes.io/instance-type"])
			for k, v := range pool["labels"].(map[string]any) {
				assert.Equal(t, v, n.Metadata.Labels[k], "%s label %s", n.Metadata.Name, k)
			}
			assert.Empty(t, n.Spec.Taints, "%s has no taint left (not-ready lifted)", n.Metadata.Name)
		}
	}
	assert.Len(t, got, total, "no node outside the pools")
}

func TestTalosNodesAreTheMachinesReady(t *testing.T) {
	talos := stackFile(t, config.StackOnprem)[config.Project+":talos"].(map[string]any)
	got := nodes(t, config.ClusterTalos)
	machines := talos["nodes"].([]any)
	assert.Len(t, got, len(machines))
	for _, m := range machines {
		machine := m.(map[string]any)
		n, ok := got[machine["name"].(string)]
		require.True(t, ok, "node %s registered", machine["name"])
		assert.True(t, ready(n), "%s Ready", n.Metadata.Name)
		for k, v := range machine["labels"].(map[string]any) {
			assert.Equal(t, v, n.Metadata.Labels[k], "%s label %s", n.Metadata.Name, k)
		}
		_, isCP := n.Metadata.Labels["node-role.kubernetes.io/control-plane"]
		assert.Equal(t, machine["role"] == config.RoleControlPlane, isCP, "%s role label", n.Metadata.Name)
		var keys []string
		for _, taint := range n.Spec.Taints {
			keys = append(keys, taint.Key+":"+taint.Effect)
		}
		if isCP {
			assert.Equal(t, []string{"node-role.kubernetes.io/control-plane:NoSchedule"}, keys)
		} else {
			assert.Empty(t, keys)
		}
	}
}

// A Deployment gets Ready pods through the controller-manager (Deployment
// and ReplicaSet controllers), the scheduler (binding) and kwok (status).
// On Talos the scheduler keeps them off the tainted control-plane nodes.
func TestDeploymentGetsReadyPods(t *testing.T) {
	for _, kind := range clusters() {
		t.Run(kind, func(t *testing.T) {
			c := cp.Clusters[kind]
			namespace(t, c, "deploy-test", nil)
			labels := map[string]string{"app": "web"}
			require.NoError(t, c.Client.Create(ctx(t), "/apis/apps/v1/namespaces/deploy-test/deployments", map[string]any{
				"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web"},
				"spec": map[string]any{
					"replicas": 3, "selector": map[string]any{"matchLabels": labels},
					"template": map[string]any{"metadata": map[string]any{"labels": labels}, "spec": map[string]any{
						"containers": []any{map[string]any{"name": "web", "image": "nginx:1.29",
							"resources": map[string]any{"requests": map[string]string{"cpu": "100m", "memory": "64Mi"}}}},
					}},
				},
			}))
			eventually(t, 60*time.Second, "3 ready replicas", func() error {
				var d struct{ Status struct{ ReadyReplicas int } }
				if err := c.Client.Get(ctx(t), "/apis/apps/v1/namespaces/deploy-test/deployments/web", &d); err != nil {
					return err
				}
				if d.Status.ReadyReplicas != 3 {
					return fmt.Errorf("%d ready", d.Status.ReadyReplicas)
				}
				return nil
			})
			var pods struct {
				Items []struct {
					Spec   struct{ NodeName string }
					Status struct{ Phase, PodIP string }
				}
			}
			require.NoError(t, c.Client.Get(ctx(t), "/api/v1/namespaces/deploy-test/pods", &pods))
			require.Len(t, pods.Items, 3)
			all := nodes(t, kind)
			for _, p := range pods.Items {
				assert.Equal(t, "Running", p.Status.Phase)
				assert.NotEmpty(t, p.Status.PodIP)
				n, ok := all[p.Spec.NodeName]
				require.True(t, ok, "bound to a simulated node: %q", p.Spec.NodeName)
				_, onCP := n.Metadata.Labels["node-role.kubernetes.io/control-plane"]
				assert.False(t, onCP, "no pod on a tainted control-plane node")
			}
		})
	}
}

// Pod Security admission decides by namespace label, and by the cluster's
// default: Talos enforces baseline where no label says otherwise, DOKS
// (Kubernetes' default) admits privileged pods there.
func TestPodSecurityAdmission(t *testing.T) {
	privileged := func(name string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name},
			"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox:1.37",
				"securityContext": map[string]any{"privileged": true}}}}}
	}
	cases := []struct {
		kind, ns string
		labels   map[string]string
		admitted bool
	}{
		{config.ClusterDOKS, "psa-restricted", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}, false},
		{config.ClusterDOKS, "psa-baseline", map[string]string{"pod-security.kubernetes.io/enforce": "baseline"}, false},
		{config.ClusterDOKS, "psa-privileged", map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}, true},
		{config.ClusterDOKS, "psa-unlabelled", nil, true},
		{config.ClusterTalos, "psa-restricted", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}, false},
		{config.ClusterTalos, "psa-privileged", map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}, true},
		{config.ClusterTalos, "psa-unlabelled", nil, false}, // Talos' default: enforce baseline
	}
	for _, tt := range cases {
		t.Run(tt.kind+"/"+tt.ns, func(t *testing.T) {
			c := cp.Clusters[tt.kind]
			namespace(t, c, tt.ns, tt.labels)
			err := c.Client.Create(ctx(t), "/api/v1/namespaces/"+tt.ns+"/pods", privileged("p"))
			if tt.admitted {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, localcluster.IsStatus(err, http.StatusForbidden), "%v", err)
			assert.Contains(t, err.Error(), "violates PodSecurity")
		})
	}
}

type lbService struct {
	Status struct {
		LoadBalancer struct{ Ingress []struct{ IP string } }
	}
}

func createLB(t *testing.T, c *localcluster.Cluster, ns, name string, labels, annotations map[string]string) {
	t.Helper()
	require.NoError(t, c.Client.Create(ctx(t), "/api/v1/namespaces/"+ns+"/services", map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": name, "labels": labels, "annotations": annotations},
		"spec":     map[string]any{"type": "LoadBalancer", "selector": map[string]string{"app": name}, "ports": []any{map[string]any{"port": 443}}},
	}))
}

func lbAddress(t *testing.T, c *localcluster.Cluster, ns, name string) string {
	var s lbService
	require.NoError(t, c.Client.Get(ctx(t), "/api/v1/namespaces/"+ns+"/services/"+name, &s))
	if len(s.Status.LoadBalancer.Ingress) == 0 {
		return ""
	}
	return s.Status.LoadBalancer.Ingress[0].IP
}

func TestDOKSLoadBalancerGetsAnAddress(t *testing.T) {
	c := cp.Clusters[config.ClusterDOKS]
	namespace(t, c, "lb-test", nil)
	createLB(t, c, "lb-test", "ingress", nil, nil)
	eventually(t, 10*time.Second, "an address", func() error {
		if ip := lbAddress(t, c, "lb-test", "ingress"); !strings.HasPrefix(ip, "192.0.2.") {
			return fmt.Errorf("address %q", ip)
		}
		return nil
	})
}

// On Talos an address comes only from a CiliumLoadBalancerIPPool that
// selects the Service, and a requested address only if such a pool holds it.
func TestTalosLoadBalancerFollowsLBIPAM(t *testing.T) {
	c := cp.Clusters[config.ClusterTalos]
	namespace(t, c, "lb-test", nil)
	pool := func(name string, block map[string]any, selector map[string]string) {
		require.NoError(t, c.Client.Create(ctx(t), "/apis/cilium.io/v2/ciliumloadbalancerippools", map[string]any{
			"apiVersion": "cilium.io/v2", "kind": "CiliumLoadBalancerIPPool", "metadata": map[string]any{"name": name},
			"spec": map[string]any{"blocks": []any{block}, "serviceSelector": map[string]any{"matchLabels": selector}},
		}))
	}
	sel := map[string]string{"hybrid-platform/ingress": "true"}
	other := map[string]string{"role": "other"}
	pool("ingress", map[string]any{"cidr": "192.168.10.50/32"}, sel)
	pool("other", map[string]any{"start": "192.168.10.60", "stop": "192.168.10.61"}, other)
	want := func(ip string) map[string]string { return map[string]string{"lbipam.cilium.io/ips": ip} }
	cases := []struct {
		name        string
		labels, ann map[string]string
		want        string // "" = no address
	}{
		{"requested-in-pool", sel, want("192.168.10.50"), "192.168.10.50"},
		{"any-from-pool", other, nil, "192.168.10.60"},
		{"requested-outside-pool", sel, want("192.168.10.99"), ""},
		{"requested-from-another-pool", other, want("192.168.10.50"), ""},
		{"not-selected", nil, nil, ""},
	}
	for _, tt := range cases {
		createLB(t, c, "lb-test", tt.name, tt.labels, tt.ann)
	}
	for _, tt := range cases {
		if tt.want == "" {
			continue
		}
		eventually(t, 10*time.Second, tt.name, func() error {
			if ip := lbAddress(t, c, "lb-test", tt.name); ip != tt.want {
				return fmt.Errorf("address %q, want %s", ip, tt.want)
			}
			return nil
		})
	}
	time.Sleep(time.Second) // several rounds of the loop
	for _, tt := range cases {
		if tt.want == "" {
			assert.Empty(t, lbAddress(t, c, "lb-test", tt.name), "%s gets no address", tt.name)
		}
	}
}

// The CRDs the clusters provide are served with their schemas: objects of
// the kinds the program declares are accepted, malformed ones refused.
func TestProvidedCRDsAreServed(t *testing.T) {
	cases := []struct {
		kind, path string
		obj        map[string]any
		ok         bool
	}{
		{config.ClusterDOKS, "/apis/networking.doks.digitalocean.com/v1alpha1/routes", map[string]any{
			"apiVersion": "networking.doks.digitalocean.com/v1alpha1", "kind": "Route", "metadata": map[string]any{"name": "onprem"},
			"spec": map[string]any{"destinations": []string{"192.168.0.0/16"}, "gateways": []string{"10.100.0.5"}}}, true},
		{config.ClusterDOKS, "/apis/networking.doks.digitalocean.com/v1alpha1/routes", map[string]any{
			"apiVersion": "networking.doks.digitalocean.com/v1alpha1", "kind": "Route", "metadata": map[string]any{"name": "no-gateways"},
			"spec": map[string]any{"destinations": []string{"192.168.0.0/16"}}}, false},
		{config.ClusterDOKS, "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses", map[string]any{
			"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "metadata": map[string]any{"name": "do"},
			"driver": "dobs.csi.digitalocean.com", "deletionPolicy": "Delete"}, true},
		{config.ClusterDOKS, "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses", map[string]any{
			"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "metadata": map[string]any{"name": "bad-policy"},
			"driver": "dobs.csi.digitalocean.com", "deletionPolicy": "Sometimes"}, false},
		{config.ClusterTalos, "/apis/cilium.io/v2alpha1/ciliuml2announcementpolicies", map[string]any{
			"apiVersion": "cilium.io/v2alpha1", "kind": "CiliumL2AnnouncementPolicy", "metadata": map[string]any{"name": "ingress"},
			"spec": map[string]any{"loadBalancerIPs": true, "interfaces": []string{"eno1"}}}, true},
		{config.ClusterTalos, "/apis/cilium.io/v2/ciliumloadbalancerippools", map[string]any{
			"apiVersion": "cilium.io/v2", "kind": "CiliumLoadBalancerIPPool", "metadata": map[string]any{"name": "bad-blocks"},
			"spec": map[string]any{"blocks": "192.168.10.0/24"}}, false},
		{config.ClusterTalos, "/apis/cilium.io/v2/ciliumnetworkpolicies", nil, true}, // served (a list)
		{config.ClusterTalos, "/apis/talos.dev/v1alpha1/namespaces/default/serviceaccounts", map[string]any{
			"apiVersion": "talos.dev/v1alpha1", "kind": "ServiceAccount", "metadata": map[string]any{"name": "talos-backup"},
			"spec": map[string]any{"roles": []string{"os:etcd:backup"}}}, true},
		{config.ClusterTalos, "/apis/talos.dev/v1alpha1/namespaces/default/serviceaccounts", map[string]any{
			"apiVersion": "talos.dev/v1alpha1", "kind": "ServiceAccount", "metadata": map[string]any{"name": "roles-not-a-list"},
			"spec": map[string]any{"roles": "os:etcd:backup"}}, false},
		{config.ClusterDOKS, "/apis/talos.dev/v1alpha1/namespaces/default/serviceaccounts", nil, false}, // Talos only
	}
	for _, tt := range cases {
		c := cp.Clusters[tt.kind]
		if tt.obj == nil {
			err := c.Client.Get(ctx(t), tt.path, nil)
			if tt.ok {
				assert.NoError(t, err, tt.path)
			} else {
				assert.True(t, localcluster.IsStatus(err, http.StatusNotFound), "%s %s must not be served: %v", tt.kind, tt.path, err)
			}
			continue
		}
		name := tt.obj["metadata"].(map[string]any)["name"]
		err := c.Client.Create(ctx(t), tt.path, tt.obj)
		if tt.ok {
			assert.NoError(t, err, "%s %s", tt.kind, name)
		} else {
			assert.True(t, localcluster.IsStatus(err, http.StatusUnprocessableEntity), "%s %s must be refused: %v", tt.kind, name, err)
		}
	}
}

func TestChartMirrorIsServed(t *testing.T) {
	get := func(path string) []byte {
		resp, err := http.Get(cp.ChartRepository + "/" + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return b
	}
	var index struct {
		Entries map[string][]struct {
			Version string
			URLs    []string
			Digest  string
		}
	}
	require.NoError(t, yaml.Unmarshal(get("index.yaml"), &index))
	require.Contains(t, index.Entries, "cilium")
	chart := index.Entries["cilium"][0]
	archive := get(chart.URLs[0])
	assert.Equal(t, chart.Digest, fmt.Sprintf("%x", sha256.Sum256(archive)), "the archive as the index describes it")
}

// The real provider plugin starts as the engine starts it (it prints its
// port, then serves gRPC) and reports the release its code is.
func TestRealProviderPluginStarts(t *testing.T) {
	cmd := exec.Command(tc.KubernetesProvider)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	localcluster.SetDieWithParent(cmd)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		port <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var p string
	select {
	case p = <-port:
	case <-time.After(time.Minute):
		t.Fatal("the plugin printed no port within a minute")
	}
	conn, err := grpc.NewClient("127.0.0.1:"+p, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20))) // the schema is 5 MB, as the engine allows
	require.NoError(t, err)
	defer conn.Close()
	client := pulumirpc.NewResourceProviderClient(conn)

	info, err := client.GetPluginInfo(ctx(t), &emptypb.Empty{})
	require.NoError(t, err)
	assert.Equal(t, localcloud.KubernetesProviderRelease, info.GetVersion())

	schema, err := client.GetSchema(ctx(t), &pulumirpc.GetSchemaRequest{})
	require.NoError(t, err)
	var spec struct{ Name, Version string }
	require.NoError(t, json.Unmarshal([]byte(schema.GetSchema()), &spec))
	assert.Equal(t, "kubernetes", spec.Name)
	assert.Equal(t, localcloud.KubernetesProviderRelease, spec.Version, "the embedded schema carries the same version")
}

// WriteAccess hands out working credentials: each cluster answers a client
// built from nothing but the file (the DOKS one with its token alone).
func TestWriteAccessHandsOutWorkingCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.json")
	require.NoError(t, cp.WriteAccess(path))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "admin credentials are private")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var access map[string]localcluster.Access
	require.NoError(t, json.Unmarshal(raw, &access))
	for _, kind := range clusters() {
		a := access[kind]
		pool := x509.NewCertPool()
		require.True(t, pool.AppendCertsFromPEM([]byte(a.CA)), kind)
		cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		req, err := http.NewRequestWithContext(ctx(t), http.MethodGet, a.Endpoint+"/api/v1/nodes", nil)
		require.NoError(t, err)
		if a.Token != "" {
			req.Header.Set("Authorization", "Bearer "+a.Token)
		} else {
			cert, err := tls.X509KeyPair([]byte(a.ClientCert), []byte(a.ClientKey))
			require.NoError(t, err)
			cfg.Certificates = []tls.Certificate{cert}
		}
		resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}).Do(req)
		require.NoError(t, err, kind)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, kind)
	}
	assert.NotEmpty(t, access[config.ClusterDOKS].Token, "DOKS hands out its token")
}

// A claim of a known class gets a volume, bound by the real volume binder; a
// claim of an unknown class stays pending.
func TestClaimsOfKnownClassesGetVolumes(t *testing.T) {
	c := cp.Clusters[config.ClusterDOKS]
	namespace(t, c, "pvc-test", nil)
	claim := func(name, class string) {
		require.NoError(t, c.Client.Create(ctx(t), "/api/v1/namespaces/pvc-test/persistentvolumeclaims", map[string]any{
			"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": map[string]any{"name": name},
			"spec": map[string]any{"storageClassName": class, "accessModes": []string{"ReadWriteOnce"},
				"resources": map[string]any{"requests": map[string]string{"storage": "1Gi"}}}}))
	}
	phase := func(name string) string {
		var pvc struct {
			Status struct{ Phase string } `json:"status"`
		}
		require.NoError(t, c.Client.Get(ctx(t), "/api/v1/namespaces/pvc-test/persistentvolumeclaims/"+name, &pvc))
		return pvc.Status.Phase
	}
	claim("data", "do-block-storage")
	claim("orphan", "no-such-class")
	eventually(t, 30*time.Second, "the claim bound", func() error {
		if p := phase("data"); p != "Bound" {
			return fmt.Errorf("phase %q", p)
		}
		return nil
	})
	assert.Equal(t, "Pending", phase("orphan"), "no class, no provisioner, no volume")
}

// The Ingress status is Traefik's published service's address, and only
// when Traefik runs with the published-service flag and the Ingress is of
// Traefik's class.
func TestIngressStatusFollowsTraefiksPublishedService(t *testing.T) {
	c := cp.Clusters[config.ClusterTalos]
	namespace(t, c, "ing-test", nil)
	require.NoError(t, c.Client.Create(ctx(t), "/apis/networking.k8s.io/v1/ingressclasses", map[string]any{
		"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": map[string]any{"name": "traefik-test"},
		"spec": map[string]any{"controller": "traefik.io/ingress-controller"}}))
	ingress := func(name, class string) {
		require.NoError(t, c.Client.Create(ctx(t), "/apis/networking.k8s.io/v1/namespaces/ing-test/ingresses", map[string]any{
			"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": map[string]any{"name": name},
			"spec": map[string]any{"ingressClassName": class, "defaultBackend": map[string]any{
				"service": map[string]any{"name": "app", "port": map[string]any{"number": 80}}}}}))
	}
	address := func(name string) string {
		var in struct {
			Status struct {
				LoadBalancer struct {
					Ingress []struct{ IP string } `json:"ingress"`
				} `json:"loadBalancer"`
			} `json:"status"`
		}
		require.NoError(t, c.Client.Get(ctx(t), "/apis/networking.k8s.io/v1/namespaces/ing-test/ingresses/"+name, &in))
		if len(in.Status.LoadBalancer.Ingress) == 0 {
			return ""
		}
		return in.Status.LoadBalancer.Ingress[0].IP
	}
	// The published Service, with an address set by hand (no pool here).
	createLB(t, c, "ing-test", "edge", nil, nil)
	require.NoError(t, c.Client.Do(ctx(t), http.MethodPatch, "/api/v1/namespaces/ing-test/services/edge/status",
		map[string]any{"status": map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": "192.168.10.77"}}}}},
		nil, "application/merge-patch+json"))
	ingress("mine", "traefik-test")
	ingress("other", "nginx")
	time.Sleep(2 * time.Second)
	assert.Empty(t, address("mine"), "no Traefik with the flag runs yet: no status")

	args := []string{"--providers.kubernetesingress.ingressendpoint.publishedservice=ing-test/edge"}
	require.NoError(t, c.Client.Create(ctx(t), "/apis/apps/v1/namespaces/ing-test/deployments", map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "traefik"},
		"spec": map[string]any{"replicas": 0, "selector": map[string]any{"matchLabels": map[string]string{"app": "traefik"}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]string{"app": "traefik"}},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "traefik", "image": "traefik:v3", "args": args}}}}}}))
	eventually(t, 10*time.Second, "the published address", func() error {
		if ip := address("mine"); ip != "192.168.10.77" {
			return fmt.Errorf("address %q", ip)
		}
		return nil
	})
	assert.Empty(t, address("other"), "another class's Ingress is not Traefik's to publish")
}

// harnessLists counts the API server's LIST requests of the collections the
// harness's add-on loops read, from its own request metrics.
func harnessLists(t *testing.T, c *localcluster.Cluster) float64 {
	t.Helper()
	var metrics []byte
	require.NoError(t, c.Client.Get(ctx(t), "/metrics", &metrics))
	loops := map[string]bool{"services": true, "persistentvolumeclaims": true, "storageclasses": true,
		"deployments": true, "ingresses": true, "ingressclasses": true, "ciliumloadbalancerippools": true}
	var n float64
	for _, line := range strings.Split(string(metrics), "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") || !strings.Contains(line, `verb="LIST"`) {
			continue
		}
		_, rest, _ := strings.Cut(line, `resource="`)
		resource, _, _ := strings.Cut(rest, `"`)
		if !loops[resource] {
			continue
		}
		var v float64
		_, err := fmt.Sscanf(line[strings.LastIndex(line, " ")+1:], "%g", &v)
		require.NoError(t, err, line)
		n += v
	}
	return n
}

// The load-balancer, storage and ingress-status loops act on changes
// (watches), as the controllers they stand in for do: with nothing
// changing, they make at most one resync's worth of LISTs. Listing every
// collection every 250 ms made about 100 in this window and kept each idle
// API server at about 10% of a core, which the engine tests paid for.
func TestHarnessLoopsAreQuietWhenNothingChanges(t *testing.T) {
	const window = 6 * time.Second
	for _, kind := range clusters() {
		c := cp.Clusters[kind]
		before := harnessLists(t, c)
		time.Sleep(window)
		lists := harnessLists(t, c) - before
		assert.LessOrEqual(t, lists, 15.0, "%s: LISTs of the loops' collections in %s with nothing changing", kind, window)
		t.Logf("%s: %v LISTs in %s", kind, lists, window)
	}
}
