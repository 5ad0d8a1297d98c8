package tests

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/versions"
	"github.com/hybridcloud/platform/internal/wgkey"
)

const (
	typeSecrets      = "talos:machine/secrets:Secrets"
	typeApply        = "talos:machine/configurationApply:ConfigurationApply"
	typeBootstrap    = "talos:machine/bootstrap:Bootstrap"
	typeKubeconfig   = "talos:cluster/kubeconfig:Kubeconfig"
	typeK8sProvider  = "pulumi:providers:kubernetes"
	typeChart        = "kubernetes:helm.sh/v4:Chart"
	typeNamespace    = "kubernetes:core/v1:Namespace"
	typeK8sSecret    = "kubernetes:core/v1:Secret"
	typeStorageClass = "kubernetes:storage.k8s.io/v1:StorageClass"
	typeStackRef     = "pulumi:pulumi:StackReference"
)

// onpremKey is the on-prem WireGuard private key the tests set as the
// secret config value (a test key, used nowhere else).
const onpremKey = "YL1hzAu4z4mnyTW4Ntq5fK5O1UxGPK6bNoRjVqIl+0g="

// runOnprem plans onprem with prod's outputs mocked and a known private key;
// mutate may change the config objects first.
func runOnprem(t *testing.T, mutate func(talos map[string]any)) *plan.Result {
	t.Helper()
	return mustRun(t, onpremOpts(t, mutate))
}

// onpremOpts are the plan options of runOnprem, with the project directory.
func onpremOpts(t *testing.T, mutate func(talos map[string]any)) plan.Options {
	t.Helper()
	opts := prodRefs(config.StackOnprem)
	opts.ProjectDir = projectDir(t)
	opts.SetSecret = map[string]string{"wireguardOnpremPrivateKey": onpremKey}
	if mutate != nil {
		obj := stackObject(t, config.StackOnprem, "talos")
		mutate(obj)
		opts.Set = map[string]string{"talos": toJSON(t, obj)}
	}
	return opts
}

// onpremConfig is the validated config of the onprem stack file.
func onpremConfig(t *testing.T) (config.Talos, config.Network, config.Storage, config.PullSecret) {
	t.Helper()
	var c struct {
		talos   config.Talos
		network config.Network
		storage config.Storage
		pull    config.PullSecret
	}
	for key, target := range map[string]any{"talos": &c.talos, "network": &c.network, "storage": &c.storage, "pullSecret": &c.pull} {
		require.NoError(t, json.Unmarshal([]byte(toJSON(t, stackObject(t, config.StackOnprem, key))), target))
	}
	return c.talos, c.network, c.storage, c.pull
}

func str(t *testing.T, m resource.PropertyMap, key string) string {
	t.Helper()
	v, ok := m[resource.PropertyKey(key)]
	require.True(t, ok, "no input %s", key)
	require.True(t, v.IsString(), "input %s is %v, not a string", key, v)
	return v.StringValue()
}

// patches returns an apply's config patches in order: plain text, or the
// plaintext of a secret element with secret set.
func patches(t *testing.T, r *mockcloud.Resource) (docs []string, secret []bool) {
	t.Helper()
	v := r.Inputs["configPatches"]
	require.True(t, v.IsArray(), "configPatches of %s", r.Name)
	for _, e := range v.ArrayValue() {
		isSecret := e.IsSecret()
		if isSecret {
			e = e.SecretValue().Element
		}
		require.True(t, e.IsString())
		docs, secret = append(docs, e.StringValue()), append(secret, isSecret)
	}
	return docs, secret
}

func parseYAML(t *testing.T, doc string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(doc), &m), "patch is not YAML:\n%s", doc)
	return m
}

// dig walks a parsed document by map keys and list indexes; an absent key
// gives nil.
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		if v == nil {
			return nil
		}
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.True(t, ok, "at %q: %v is not a map", k, v)
			v = m[k]
		case int:
			l, ok := v.([]any)
			require.True(t, ok && k < len(l), "at [%d]: %v is not a long enough list", k, v)
			v = l[k]
		}
	}
	return v
}

func strs(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func TestTalosBootstrapOrdering(t *testing.T) {
	for _, tc := range []struct {
		name          string
		mutate        func(map[string]any)
		controlPlanes []string
	}{
		{name: "three control-plane nodes (stack file)", controlPlanes: []string{"cp-1", "cp-2", "cp-3"}},
		{name: "five control-plane nodes", mutate: func(m map[string]any) {
			node(3, "role", "controlplane")(m)
			node(4, "role", "controlplane")(m)
		}, controlPlanes: []string{"cp-1", "cp-2", "cp-3", "worker-1", "worker-2"}},
		{name: "bootstrap node listed after the workers", mutate: func(m map[string]any) {
			nodes := m["nodes"].([]any)
			m["nodes"] = append(nodes[3:], nodes[:3]...)
		}, controlPlanes: []string{"cp-1", "cp-2", "cp-3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runOnprem(t, tc.mutate)
			cloud := res.Cloud
			bootstraps := cloud.ByType(typeBootstrap)
			require.Len(t, bootstraps, 1, "bootstrap exactly once")
			bootstrap := bootstraps[0]
			// On the first control-plane node, by its own address.
			assert.Equal(t, "192.168.10.11", str(t, bootstrap.Inputs, "node"))
			for _, apply := range cloud.ByType(typeApply) {
				if slices.Contains(tc.controlPlanes, apply.Name) {
					assert.Contains(t, bootstrap.DependsOn, apply.URN, "bootstrap must wait for control-plane apply %s", apply.Name)
				} else {
					assert.NotContains(t, bootstrap.DependsOn, apply.URN, "bootstrap need not wait for worker %s", apply.Name)
				}
			}
			kubeconfig := cloud.ByType(typeKubeconfig)
			require.Len(t, kubeconfig, 1)
			assert.Contains(t, kubeconfig[0].DependsOn, bootstrap.URN, "the kubeconfig is read after the bootstrap")
			provider := cloud.ByType(typeK8sProvider)
			require.Len(t, provider, 1)
			assert.Contains(t, provider[0].DependsOn, kubeconfig[0].URN, "the Kubernetes provider uses the kubeconfig")
			for _, chart := range cloud.ByType(typeChart) {
				assert.Equal(t, provider[0].URN, chart.Provider, "chart %s must use the Talos cluster's provider", chart.Name)
			}
		})
	}
}

func TestTalosOneApplyPerNodeWithItsOwnPatch(t *testing.T) {
	res := runOnprem(t, nil)
	talos, _, _, _ := onpremConfig(t)
	applies := res.Cloud.ByType(typeApply)
	require.Len(t, applies, len(talos.Nodes), "one ConfigurationApply per node")
	wgNodeIP := ""
	for _, n := range talos.Nodes {
		if n.Name == talos.WireguardNode {
			wgNodeIP = n.IP.String()
		}
	}
	for _, n := range talos.Nodes {
		t.Run(n.Name, func(t *testing.T) {
			apply := res.Cloud.Get(typeApply, n.Name)
			require.NotNil(t, apply)
			assert.Equal(t, n.IP.String(), str(t, apply.Inputs, "node"), "Node is the node's own IP, never the VIP")
			docs, secret := patches(t, apply)
			// cluster, [control plane], node, [wg0 on the WireGuard node]
			want := 2
			if n.Role == config.RoleControlPlane {
				want++
			}
			if n.Name == talos.WireguardNode {
				want++
			}
			require.Len(t, docs, want)
			nodeDoc := parseYAML(t, docs[want-1])
			if n.Name == talos.WireguardNode {
				nodeDoc = parseYAML(t, docs[want-2])
				assert.True(t, secret[want-1], "the wg0 patch holds the private key")
			}
			// Talos 1.12 keeps the hostname in a HostnameConfig document,
			// the node patch's second.
			nodePatch := docs[want-1]
			if n.Name == talos.WireguardNode {
				nodePatch = docs[want-2]
			}
			_, hostDoc, ok := strings.Cut(nodePatch, "\n---\n")
			require.True(t, ok, "the node patch has a HostnameConfig document")
			host := parseYAML(t, hostDoc)
			assert.Equal(t, "HostnameConfig", host["kind"])
			assert.Equal(t, n.Name, host["hostname"])
			assert.Nil(t, dig(t, nodeDoc, "machine", "network", "hostname"), "no v1alpha1 hostname next to HostnameConfig")
			assert.Equal(t, n.InstallDisk, dig(t, nodeDoc, "machine", "install", "disk"))
			link := dig(t, nodeDoc, "machine", "network", "interfaces", 0)
			assert.Equal(t, n.Interface, dig(t, link, "interface"))
			assert.Equal(t, []string{n.IP.String() + "/24"}, strs(dig(t, link, "addresses")))
			assert.Equal(t, map[string]any{"network": "0.0.0.0/0", "gateway": talos.Gateway.String()}, dig(t, link, "routes", 0))
			if n.Role == config.RoleControlPlane {
				assert.Equal(t, talos.Vip.String(), dig(t, link, "vip", "ip"), "control-plane nodes share the VIP")
			} else {
				assert.Nil(t, dig(t, link, "vip"), "workers never take the VIP")
			}
			labels := map[string]string{}
			for k, v := range dig(t, nodeDoc, "machine", "nodeLabels").(map[string]any) {
				labels[k] = v.(string)
			}
			assert.Equal(t, n.Labels, labels)
			// Nodes other than the WireGuard node reach DO through it.
			routes := dig(t, link, "routes").([]any)
			if n.Name == talos.WireguardNode {
				assert.Len(t, routes, 1)
			} else {
				require.Len(t, routes, 1+len(onpremRoutes))
				for i, r := range onpremRoutes {
					assert.Equal(t, map[string]any{"network": r, "gateway": wgNodeIP}, routes[i+1])
				}
			}
			for i, s := range secret {
				if i != want-1 || n.Name != talos.WireguardNode {
					assert.False(t, s, "patch %d of %s must stay readable in the plan", i, n.Name)
				}
			}
		})
	}
}

func TestTalosPatchContents(t *testing.T) {
	res := runOnprem(t, nil)
	talos, network, storage, _ := onpremConfig(t)
	cp1, worker := res.Cloud.Get(typeApply, "cp-1"), res.Cloud.Get(typeApply, "worker-1")
	cpDocs, _ := patches(t, cp1)
	workerDocs, _ := patches(t, worker)
	assert.Equal(t, cpDocs[0], workerDocs[0], "the cluster patch is the same on every node")

	t.Run("subnets and CNI", func(t *testing.T) {
		c := parseYAML(t, cpDocs[0])
		pods := strs(dig(t, c, "cluster", "network", "podSubnets"))
		services := strs(dig(t, c, "cluster", "network", "serviceSubnets"))
		assert.Equal(t, []string{network.TalosPodCidr.String()}, pods)
		assert.Equal(t, []string{network.TalosServiceCidr.String()}, services)
		for _, s := range append(pods, services...) {
			p := netip.MustParsePrefix(s)
			for _, r := range append(onpremRoutes, config.Strings([]netip.Prefix{network.VpcCidr, network.DoksPodCidr, network.DoksServiceCidr, network.OnpremCidr})...) {
				assert.False(t, p.Overlaps(netip.MustParsePrefix(r)), "Talos subnet %s overlaps %s", s, r)
			}
		}
		assert.Equal(t, "none", dig(t, c, "cluster", "network", "cni", "name"), "no built-in CNI: Cilium is installed")
		assert.Equal(t, true, dig(t, c, "cluster", "proxy", "disabled"), "Cilium replaces kube-proxy")
		assert.Equal(t, talos.InstallImage, dig(t, c, "machine", "install", "image"))
		assert.Equal(t, "true", dig(t, c, "machine", "kubelet", "extraArgs", "rotate-server-certificates"))
		assert.Equal(t, []string{talos.LanCidr.String()}, strs(dig(t, c, "machine", "kubelet", "nodeIP", "validSubnets")))
		assert.Equal(t, storage.LocalPath, dig(t, c, "machine", "kubelet", "extraMounts", 0, "destination"),
			"local volumes must be bind-mounted into the kubelet")
		assert.Equal(t, 7445, dig(t, c, "machine", "features", "kubePrism", "port"))
	})

	t.Run("certSANs and control-plane settings", func(t *testing.T) {
		c := parseYAML(t, cpDocs[1])
		sans := strs(dig(t, c, "cluster", "apiServer", "certSANs"))
		assert.Contains(t, sans, talos.Vip.String())
		assert.Contains(t, sans, "10.250.0.2", "the API is reachable through the tunnel address")
		assert.Equal(t, []string{talos.LanCidr.String()}, strs(dig(t, c, "cluster", "etcd", "advertisedSubnets")))
		approver := regexp.MustCompile(`/kubelet-serving-cert-approver/v\d+\.\d+\.\d+/deploy/standalone-install\.yaml$`)
		assert.True(t, slices.ContainsFunc(strs(dig(t, c, "cluster", "extraManifests")), approver.MatchString),
			"rotated kubelet serving certificates need an approver, at a pinned release: %v", dig(t, c, "cluster", "extraManifests"))
		for _, d := range workerDocs {
			assert.Nil(t, dig(t, parseYAML(t, d), "cluster", "apiServer"), "workers carry no API server settings")
		}
	})

	t.Run("WireGuard peer", func(t *testing.T) {
		wg := parseYAML(t, cpDocs[len(cpDocs)-1])
		link := dig(t, wg, "machine", "network", "interfaces", 0)
		assert.Equal(t, "wg0", dig(t, link, "interface"))
		assert.Equal(t, []string{"10.250.0.2/30"}, strs(dig(t, link, "addresses")))
		assert.Equal(t, onpremKey, dig(t, link, "wireguard", "privateKey"), "private key from secret config")
		assert.Equal(t, network.WireguardPort, dig(t, link, "wireguard", "listenPort"))
		peer := dig(t, link, "wireguard", "peers", 0)
		assert.Equal(t, gatewayPublicKey, dig(t, peer, "publicKey"), "public key from the prod stack")
		assert.Equal(t, gatewayEndpoint, dig(t, peer, "endpoint"), "endpoint from the prod stack")
		assert.Equal(t, onpremRoutes, strs(dig(t, peer, "allowedIPs")), "allowed IPs from the prod stack")
		assert.Equal(t, "25s", dig(t, peer, "persistentKeepaliveInterval"))
		// WireGuard routes nothing itself: every range outside the tunnel
		// subnet gets a route via the gateway's tunnel address.
		var routed []string
		for _, r := range dig(t, link, "routes").([]any) {
			assert.Equal(t, "10.250.0.1", dig(t, r, "gateway"))
			routed = append(routed, dig(t, r, "network").(string))
		}
		assert.Equal(t, onpremRoutes[:3], routed)
	})
}

func TestTalosMachineConfigPinsVersionsAndVIPEndpoint(t *testing.T) {
	res := runOnprem(t, nil)
	talos, _, _, _ := onpremConfig(t)
	roles := map[string]bool{}
	for _, inv := range res.Cloud.Invokes() {
		if inv.Token != "talos:machine/getConfiguration:getConfiguration" {
			continue
		}
		roles[inv.Args["machineType"].StringValue()] = true
		assert.Equal(t, talos.TalosVersion, inv.Args["talosVersion"].StringValue())
		assert.Equal(t, talos.KubernetesVersion, inv.Args["kubernetesVersion"].StringValue())
		endpoint := inv.Args["clusterEndpoint"].StringValue()
		assert.Equal(t, "https://"+talos.Vip.String()+":6443", endpoint)
		assert.True(t, netip.MustParsePrefix("192.168.0.0/16").Contains(talos.Vip))
	}
	assert.Equal(t, map[string]bool{"controlplane": true, "worker": true}, roles, "one base config per role")
}

func TestTalosSecrecyAndProtection(t *testing.T) {
	res := runOnprem(t, nil)
	secrets := res.Cloud.ByType(typeSecrets)
	require.Len(t, secrets, 1)
	assert.True(t, secrets[0].Protect, "losing the machine secrets means rebuilding the cluster")
	assert.Subset(t, secrets[0].AdditionalSecretOutputs, []string{"machineSecrets", "clientConfiguration"})
	assert.Contains(t, res.Cloud.ByType(typeKubeconfig)[0].AdditionalSecretOutputs, "kubeconfigRaw")

	for _, apply := range res.Cloud.ByType(typeApply) {
		assert.True(t, apply.Inputs["machineConfigurationInput"].IsSecret(), "%s machine config", apply.Name)
		assert.Contains(t, apply.AdditionalSecretOutputs, "machineConfiguration", "%s applied config", apply.Name)
		assert.True(t, apply.Inputs["clientConfiguration"].IsSecret(), "%s client config", apply.Name)
	}
	assert.True(t, res.Cloud.ByType(typeBootstrap)[0].Inputs["clientConfiguration"].IsSecret())
	assert.True(t, res.Cloud.ByType(typeK8sProvider)[0].Inputs["kubeconfig"].IsSecret())

	for _, name := range []string{"kubeconfig", "talosconfig"} {
		out := res.Outputs[name]
		assert.True(t, out.Secret, "%s must be exported as a secret", name)
		assert.True(t, out.Known)
		assert.NotEmpty(t, out.Value)
	}
	pub, err := wgkey.PublicKey(onpremKey)
	require.NoError(t, err)
	assert.Equal(t, pub, res.Outputs["wireguardPublicKey"].Value, "derived from the private key")
	assert.False(t, res.Outputs["wireguardPublicKey"].Secret, "a public key is not secret")

	var text, js bytes.Buffer
	res.WriteText(&text)
	require.NoError(t, res.WriteJSON(&js))
	for _, leak := range []string{onpremKey, dockerConfig, "cmVhZC1vbmx5OnRva2Vu"} {
		assert.NotContains(t, text.String(), leak)
		assert.NotContains(t, js.String(), leak)
	}
}

func TestCiliumFollowsTalosGuidance(t *testing.T) {
	res := runOnprem(t, nil)
	chart := res.Cloud.Get(typeChart, "cilium")
	require.NotNil(t, chart)
	in := plan.Plain(chart.Inputs)
	assert.Regexp(t, `^\d+\.\d+\.\d+$`, in["version"], "an exact chart version")
	assert.Regexp(t, `^https://`, dig(t, in, "repositoryOpts", "repo"), "from a chart repository over TLS")
	assert.Equal(t, "kube-system", in["namespace"])
	values := in["values"]
	assert.Equal(t, true, dig(t, values, "kubeProxyReplacement"))
	assert.Equal(t, "localhost", dig(t, values, "k8sServiceHost"), "KubePrism on every node")
	assert.InDelta(t, 7445, dig(t, values, "k8sServicePort"), 0)
	assert.Equal(t, false, dig(t, values, "cgroup", "autoMount", "enabled"))
	assert.Equal(t, "/sys/fs/cgroup", dig(t, values, "cgroup", "hostRoot"))
	assert.Equal(t, "kubernetes", dig(t, values, "ipam", "mode"))
	for _, set := range []string{"ciliumAgent", "cleanCiliumState"} {
		caps := strs(dig(t, values, "securityContext", "capabilities", set))
		assert.NotEmpty(t, caps)
		assert.NotContains(t, caps, "SYS_MODULE", "Talos does not let pods load kernel modules")
	}
}

func TestOnpremStorage(t *testing.T) {
	res := runOnprem(t, nil)
	_, _, storage, _ := onpremConfig(t)
	cilium := res.Cloud.Get(typeChart, "cilium")
	classes := map[string]map[string]any{}
	defaults := 0
	for _, sc := range res.Cloud.ByType(typeStorageClass) {
		in := plan.Plain(sc.Inputs)
		classes[sc.Name] = in
		if dig(t, in, "metadata", "annotations") != nil && dig(t, in, "metadata", "annotations", "storageclass.kubernetes.io/is-default-class") == "true" {
			defaults++
		}
	}
	require.Contains(t, classes, "local-ssd")
	require.Contains(t, classes, "nfs")
	assert.Equal(t, 1, defaults, "exactly one default StorageClass")
	assert.Equal(t, "true", dig(t, classes["local-ssd"], "metadata", "annotations", "storageclass.kubernetes.io/is-default-class"))
	assert.Equal(t, "WaitForFirstConsumer", classes["local-ssd"]["volumeBindingMode"], "a local volume binds on the pod's node")

	for _, tc := range []struct {
		chart, class, namespace string
		pin                     versions.Chart
		privileged              bool
		values                  map[string]any
	}{
		{chart: "local-path-provisioner", class: "local-ssd", namespace: "local-path-storage", pin: versions.LocalPathProvisioner, privileged: true,
			values: map[string]any{"nodePathMap.0.paths.0": storage.LocalPath}},
		{chart: "nfs-subdir-external-provisioner", class: "nfs", namespace: "nfs-provisioner", pin: versions.NFSSubdirExternalProvisioner,
			values: map[string]any{"nfs.server": storage.NFSServer, "nfs.path": storage.NFSPath}},
	} {
		t.Run(tc.chart, func(t *testing.T) {
			chart := res.Cloud.Get(typeChart, tc.chart)
			require.NotNil(t, chart)
			in := plan.Plain(chart.Inputs)
			assert.Equal(t, tc.pin.Version, in["version"], "chart version pinned in internal/versions")
			assert.Equal(t, tc.pin.Repo, dig(t, in, "repositoryOpts", "repo"))
			assert.Equal(t, tc.namespace, in["namespace"])
			assert.Contains(t, chart.DependsOn, cilium.URN, "provisioner pods need the CNI")
			assert.Equal(t, false, dig(t, in, "values", "storageClass", "create"), "the class is declared by the component")
			assert.Equal(t, classes[tc.class]["provisioner"], dig(t, in, "values", "storageClass", "provisionerName"),
				"the class must name the chart's provisioner")
			for path, want := range tc.values {
				var keys []any
				for _, k := range bytes.Split([]byte(path), []byte(".")) {
					if len(k) == 1 && k[0] >= '0' && k[0] <= '9' {
						keys = append(keys, int(k[0]-'0'))
					} else {
						keys = append(keys, string(k))
					}
				}
				assert.Equal(t, want, dig(t, in["values"], keys...), path)
			}
			ns := res.Cloud.Get(typeNamespace, tc.namespace)
			require.NotNil(t, ns)
			enforce := dig(t, plan.Plain(ns.Inputs), "metadata", "labels")
			if tc.privileged {
				assert.Equal(t, "privileged", dig(t, enforce, "pod-security.kubernetes.io/enforce"), "hostPath helper pods are privileged")
			} else {
				assert.Equal(t, "baseline", dig(t, enforce, "pod-security.kubernetes.io/enforce"), "no privileged pods here: an explicit baseline")
			}
		})
	}
}

func TestRegistryPullSecret(t *testing.T) {
	for _, tc := range []struct {
		name         string
		dockerConfig any
	}{
		{name: "prod exports it as a secret", dockerConfig: resource.MakeSecret(resource.NewProperty(dockerConfig))},
		{name: "prod forgot to mark it secret", dockerConfig: dockerConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := prodRefs(config.StackOnprem)
			opts.StackOutputs[prodStack]["registryDockerConfig"] = tc.dockerConfig
			res := mustRun(t, opts)
			_, _, _, pull := onpremConfig(t)
			for _, ns := range pull.Namespaces {
				namespace := namespaceNamed(t, res, ns)
				secret := res.Cloud.Get(typeK8sSecret, ns+"-"+pull.Name)
				require.NotNil(t, secret)
				assert.Contains(t, secret.DependsOn, namespace.URN, "the secret waits for the platform's namespace %s", ns)
				in := plan.Plain(secret.Inputs)
				assert.Equal(t, "kubernetes.io/dockerconfigjson", in["type"])
				assert.Equal(t, pull.Name, dig(t, in, "metadata", "name"))
				assert.Equal(t, ns, dig(t, in, "metadata", "namespace"))
				// The SDK may make the whole map secret; the program makes
				// the value secret whatever prod marked.
				data := secret.Inputs["stringData"]
				require.True(t, data.IsSecret() || data.ObjectValue()[".dockerconfigjson"].IsSecret(),
					"the registry credentials are a secret in the program itself")
				if data.IsSecret() {
					data = data.SecretValue().Element
				}
				doc := data.ObjectValue()[".dockerconfigjson"]
				if doc.IsSecret() {
					doc = doc.SecretValue().Element
				}
				assert.Equal(t, dockerConfig, doc.StringValue())
			}
			assert.Equal(t, pull.Name, res.Outputs["registryPullSecret"].Value)
		})
	}
}

// namespaceNamed returns the Namespace resource whose metadata.name is ns.
func namespaceNamed(t *testing.T, res *plan.Result, ns string) *mockcloud.Resource {
	t.Helper()
	for _, r := range res.Cloud.ByType(typeNamespace) {
		if plan.Plain(r.Inputs)["metadata"].(map[string]any)["name"] == ns {
			return r
		}
	}
	t.Fatalf("namespace %s is not created", ns)
	return nil
}

// On Talos the platform layer waits for the CNI; the charts that claim
// volumes (kube-prometheus-stack, Loki) also wait for both storage classes
// and their provisioners, named one by one (a dependency on the storage
// component would only cover the children registered by then); the ingress,
// the failover origin, does not wait for storage.
func TestOnpremPlatformWaitsForStorage(t *testing.T) {
	for i := 0; i < 5; i++ {
		res := mustRun(t, prodRefs(config.StackOnprem))
		var storage []string
		for _, name := range []string{"local-ssd", "nfs"} {
			storage = append(storage, named(t, res, "kubernetes:storage.k8s.io/v1:StorageClass", name).URN)
		}
		for _, chart := range []string{"local-path-provisioner", "nfs-subdir-external-provisioner"} {
			storage = append(storage, named(t, res, "kubernetes:helm.sh/v4:Chart", chart).URN)
		}
		cni := named(t, res, "kubernetes:helm.sh/v4:Chart", "cilium").URN
		assert.Contains(t, namespaceNamed(t, res, "monitoring").DependsOn, cni, "run %d: pods need the CNI", i)
		for _, chart := range []string{"kps", "loki"} {
			assert.Subset(t, named(t, res, "kubernetes:helm.sh/v4:Chart", chart).DependsOn, storage, "run %d: %s claims local-ssd volumes", i, chart)
		}
		for _, u := range storage {
			assert.NotContains(t, named(t, res, "kubernetes:helm.sh/v4:Chart", "traefik").DependsOn, u, "run %d: the ingress needs no volume", i)
		}
	}
}
