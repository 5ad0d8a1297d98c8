package localcluster

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func svc(t *testing.T, js string) service {
	t.Helper()
	var s service
	require.NoError(t, json.Unmarshal([]byte(js), &s))
	return s
}

func pools(t *testing.T, js string) []ipPool {
	t.Helper()
	var p []ipPool
	require.NoError(t, json.Unmarshal([]byte(js), &p))
	return p
}

// The LB-IPAM simulation gives an address only where Cilium would.
func TestCiliumAddress(t *testing.T) {
	pool := pools(t, `[{"spec":{"blocks":[{"cidr":"192.168.10.50/32"},{"start":"192.168.10.60","stop":"192.168.10.61"}],
		"serviceSelector":{"matchLabels":{"role":"ingress"}}}}]`)
	cases := []struct {
		name, svc string
		pools     []ipPool
		used      []string
		want      string
	}{
		{"requested, in a selecting pool", `{"metadata":{"labels":{"role":"ingress"},"annotations":{"lbipam.cilium.io/ips":"192.168.10.50"}}}`, pool, nil, "192.168.10.50"},
		{"requested by the alias annotation", `{"metadata":{"labels":{"role":"ingress"},"annotations":{"io.cilium/lb-ipam-ips":"192.168.10.61"}}}`, pool, nil, "192.168.10.61"},
		{"requested by spec.loadBalancerIP", `{"metadata":{"labels":{"role":"ingress"}},"spec":{"loadBalancerIP":"192.168.10.60"}}`, pool, nil, "192.168.10.60"},
		{"any address of the pool", `{"metadata":{"labels":{"role":"ingress"}}}`, pool, nil, "192.168.10.50"},
		{"the next free one", `{"metadata":{"labels":{"role":"ingress"}}}`, pool, []string{"192.168.10.50"}, "192.168.10.60"},
		{"selected by service name", `{"metadata":{"name":"lb","namespace":"x"}}`,
			pools(t, `[{"spec":{"blocks":[{"cidr":"10.9.0.0/30"}],"serviceSelector":{"matchLabels":{"io.kubernetes.service.name":"lb"}}}}]`), nil, "10.9.0.0"},
		{"first and last excluded when told", `{}`, pools(t, `[{"spec":{"allowFirstLastIPs":"No","blocks":[{"cidr":"10.9.0.0/30"}]}}]`), nil, "10.9.0.1"},
		// Broken inputs: each gets no address.
		{"requested, outside every pool", `{"metadata":{"labels":{"role":"ingress"},"annotations":{"lbipam.cilium.io/ips":"192.168.10.99"}}}`, pool, nil, ""},
		{"requested, taken", `{"metadata":{"labels":{"role":"ingress"},"annotations":{"lbipam.cilium.io/ips":"192.168.10.50"}}}`, pool, []string{"192.168.10.50"}, ""},
		{"not selected", `{"metadata":{"labels":{"role":"web"}}}`, pool, nil, ""},
		{"no pool", `{"metadata":{"labels":{"role":"ingress"}}}`, nil, nil, ""},
		{"pool disabled", `{}`, pools(t, `[{"spec":{"disabled":true,"blocks":[{"cidr":"10.9.0.0/30"}]}}]`), nil, ""},
		{"pool exhausted", `{"metadata":{"labels":{"role":"ingress"}}}`, pool, []string{"192.168.10.50", "192.168.10.60", "192.168.10.61"}, ""},
		{"another controller's class", `{"metadata":{"labels":{"role":"ingress"}},"spec":{"loadBalancerClass":"example.com/other"}}`, pool, nil, ""},
		{"malformed block", `{}`, pools(t, `[{"spec":{"blocks":[{"cidr":"not-a-cidr"}]}}]`), nil, ""},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			used := map[netip.Addr]bool{}
			for _, u := range tt.used {
				used[netip.MustParseAddr(u)] = true
			}
			got := ciliumAddress(svc(t, tt.svc), tt.pools, used)
			if tt.want == "" {
				assert.False(t, got.IsValid(), "no address, got %s", got)
				return
			}
			assert.Equal(t, tt.want, got.String())
		})
	}
}

func TestDOAddress(t *testing.T) {
	used := map[netip.Addr]bool{netip.MustParseAddr("192.0.2.1"): true}
	assert.Equal(t, "192.0.2.2", doAddress(svc(t, `{}`), used).String())
	assert.False(t, doAddress(svc(t, `{"spec":{"loadBalancerClass":"example.com/other"}}`), used).IsValid(),
		"a Service of another class is not the cloud controller's")
}

func TestLabelSelector(t *testing.T) {
	labels := map[string]string{"a": "1", "b": "2"}
	cases := []struct {
		sel  string
		want bool
	}{
		{`{"matchLabels":{"a":"1"}}`, true},
		{`{"matchExpressions":[{"key":"a","operator":"In","values":["1","3"]}]}`, true},
		{`{"matchExpressions":[{"key":"c","operator":"DoesNotExist"}]}`, true},
		{`{"matchExpressions":[{"key":"b","operator":"Exists"}]}`, true},
		{`{"matchLabels":{"a":"2"}}`, false},
		{`{"matchLabels":{"c":"1"}}`, false},
		{`{"matchExpressions":[{"key":"a","operator":"NotIn","values":["1"]}]}`, false},
		{`{"matchExpressions":[{"key":"a","operator":"Gt","values":["0"]}]}`, false}, // unknown operator
	}
	for _, tt := range cases {
		var s labelSelector
		require.NoError(t, json.Unmarshal([]byte(tt.sel), &s))
		assert.Equal(t, tt.want, s.matches(labels), tt.sel)
	}
	assert.True(t, (*labelSelector)(nil).matches(labels), "no selector selects everything")
}

// Only CustomResourceDefinitions are loaded as provided CRDs.
func TestReadCRDsRefusesOtherObjects(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.example.com\n---\n"), 0o600))
	out, err := readCRDs([]string{good})
	require.NoError(t, err)
	assert.Len(t, out, 1)
	for name, body := range map[string]string{
		"configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
		"broken.yaml":    "kind: [\n",
	} {
		f := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(f, []byte(body), 0o600))
		_, err := readCRDs([]string{f})
		assert.Error(t, err, name)
	}
	_, err = readCRDs(nil)
	assert.Error(t, err, "no files")
}

func TestDOKSNodesFromConfig(t *testing.T) {
	sc := &stackConfig{}
	sc.Network.VpcCidr, sc.Network.Region = netip.MustParsePrefix("10.100.0.0/16"), "nyc3"
	sc.Doks.KubernetesMinor = "1.35"
	sc.Doks.SystemPool.Name, sc.Doks.SystemPool.Size, sc.Doks.SystemPool.MinNodes = "default", "s-2vcpu-4gb", 1
	sc.Doks.NodePool.Name, sc.Doks.NodePool.Size, sc.Doks.NodePool.MinNodes = "workers", "s-4vcpu-8gb", 2
	sc.Doks.NodePool.Labels = map[string]string{"workload": "general"}
	nodes, err := doksNodes(sc)
	require.NoError(t, err)
	require.Len(t, nodes, 3, "the system pool's node and the workload pool's two")
	assert.Equal(t, "default", nodes[0].Pool)
	assert.Equal(t, "2", nodes[0].CPU)
	assert.Equal(t, "4", nodes[1].CPU)
	assert.Equal(t, "8Gi", nodes[1].Memory)
	assert.NotEqual(t, nodes[1].InternalIP, nodes[2].InternalIP)
	assert.True(t, netip.MustParsePrefix("10.100.0.0/16").Contains(netip.MustParseAddr(nodes[2].InternalIP)))
	assert.Equal(t, "general", nodes[2].Labels["workload"])
	assert.Empty(t, nodes[0].Labels["workload"], "the system pool does not carry the workload pool's labels")

	for name, broken := range map[string]func(*stackConfig){
		"system pool without a name": func(s *stackConfig) { s.Doks.SystemPool.Name = "" },
		"pool without a name":        func(s *stackConfig) { s.Doks.NodePool.Name = "" },
		"no VPC range":               func(s *stackConfig) { s.Network.VpcCidr = netip.Prefix{} },
	} {
		c := *sc
		broken(&c)
		_, err := doksNodes(&c)
		assert.Error(t, err, name)
	}
	_, err = talosNodes(&stackConfig{})
	assert.Error(t, err, "a Talos cluster without nodes")
}
