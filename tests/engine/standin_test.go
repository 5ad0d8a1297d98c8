package engine

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/hybridcloud/platform/internal/localcloud"
	"github.com/hybridcloud/platform/internal/simcloud"
	"github.com/hybridcloud/platform/internal/standin"
)

const (
	tVpc     = "digitalocean:index/vpc:Vpc"
	tBucket  = "digitalocean:index/spacesBucket:SpacesBucket"
	tDB      = "digitalocean:index/databaseCluster:DatabaseCluster"
	tDroplet = "digitalocean:index/droplet:Droplet"
	tNS      = "kubernetes:core/v1:Namespace"
)

func urn(typ, name string) string {
	return string(resource.NewURN("prod", "hybrid-platform", "", resource.URN("urn:pulumi:prod::p::"+typ+"::x").Type(), name))
}

func props(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(resource.NewPropertyMapFromMap(m),
		plugin.MarshalOptions{KeepSecrets: true, KeepUnknowns: true})
	require.NoError(t, err)
	return s
}

func unprops(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := plugin.UnmarshalProperties(s, plugin.MarshalOptions{KeepSecrets: true, KeepUnknowns: true})
	require.NoError(t, err)
	return m
}

// provider returns a configured stand-in for pkg with its store in a temp dir.
func provider(t *testing.T, pkg string, cfg map[string]any) (*standin.Provider, string) {
	t.Helper()
	dir := t.TempDir()
	store, err := standin.OpenStore(dir, pkg)
	require.NoError(t, err)
	p, err := standin.New(pkg, "1.2.3", store, nil)
	require.NoError(t, err)
	_, err = p.Configure(context.Background(), &pulumirpc.ConfigureRequest{Args: props(t, cfg)})
	require.NoError(t, err)
	return p, dir
}

func TestStandinConfigureNeedsCredentials(t *testing.T) {
	t.Setenv("DIGITALOCEAN_TOKEN", "")
	t.Setenv("DIGITALOCEAN_ACCESS_TOKEN", "")
	t.Setenv("CLOUDFLARE_API_TOKEN", "")
	t.Setenv("CLOUDFLARE_API_KEY", "")
	t.Setenv("KUBECONFIG", "")
	kubeconfig := "apiVersion: v1\nclusters:\n- cluster:\n    server: https://k.example:6443\n  name: c\n"
	cases := []struct {
		pkg     string
		args    map[string]any
		wantErr string
	}{
		{"digitalocean", map[string]any{}, "digitalocean: no credentials: set provider config token or one of DIGITALOCEAN_TOKEN"},
		{"digitalocean", map[string]any{"token": "dop_v1_x"}, ""},
		{"cloudflare", map[string]any{}, "cloudflare: no credentials"},
		{"cloudflare", map[string]any{"apiToken": "cf"}, ""},
		{"kubernetes", map[string]any{}, "kubernetes: no credentials"},
		{"kubernetes", map[string]any{"kubeconfig": "apiVersion: v1\n"}, "names no cluster server"},
		{"kubernetes", map[string]any{"kubeconfig": kubeconfig}, ""},
		{"talos", map[string]any{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.pkg+"/"+tc.wantErr, func(t *testing.T) {
			store, err := standin.OpenStore(t.TempDir(), tc.pkg)
			require.NoError(t, err)
			p, err := standin.New(tc.pkg, "1.0.0", store, nil)
			require.NoError(t, err)
			_, err = p.Configure(context.Background(), &pulumirpc.ConfigureRequest{Args: props(t, tc.args)})
			if tc.wantErr == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tc.wantErr)
			}
		})
	}
	_, err := standin.New("aws", "1.0.0", nil, nil)
	assert.ErrorContains(t, err, `no simulated cloud for package "aws"`)
}

func TestStandinCheck(t *testing.T) {
	p, _ := provider(t, "digitalocean", map[string]any{"token": "x"})
	cases := []struct {
		name    string
		typ     string
		inputs  map[string]any
		missing []string
		wantErr string
	}{
		{"vpc complete", tVpc, map[string]any{"region": "nyc3", "ipRange": "10.100.0.0/16"}, nil, ""},
		{"vpc without region", tVpc, map[string]any{"ipRange": "10.100.0.0/16"}, []string{"region"}, ""},
		{"db without size and nodes", tDB, map[string]any{"engine": "pg", "region": "nyc3"}, []string{"nodeCount", "size"}, ""},
		{"unknown type", "digitalocean:index/app:App", map[string]any{}, nil, "does not simulate digitalocean:index/app:App"},
		{"another package's type", "cloudflare:index/record:Record", map[string]any{}, nil, "does not simulate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{
				Urn: urn(tc.typ, "r"), Type: tc.typ, News: props(t, tc.inputs)})
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, f := range resp.GetFailures() {
				got = append(got, f.GetProperty())
				assert.Contains(t, f.GetReason(), "missing required property")
			}
			assert.Equal(t, tc.missing, got)
		})
	}
}

func TestStandinKubernetesAutonameIsStable(t *testing.T) {
	p, _ := provider(t, "kubernetes", map[string]any{"kubeconfig": "clusters:\n- cluster:\n    server: https://a:6443\n"})
	check := func(olds map[string]any) string {
		resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: urn(tNS, "team"), Type: tNS,
			Olds: props(t, olds), News: props(t, map[string]any{"apiVersion": "v1", "kind": "Namespace"})})
		require.NoError(t, err)
		return unprops(t, resp.GetInputs())["metadata"].ObjectValue()["name"].StringValue()
	}
	first := check(nil)
	assert.True(t, strings.HasPrefix(first, "team-"), first)
	assert.Equal(t, first, check(nil), "two runs give the same name")
	assert.Equal(t, "team-kept", check(map[string]any{"metadata": map[string]any{"name": "team-kept"}}),
		"an existing object keeps its name")
}

func TestStandinDiff(t *testing.T) {
	p, _ := provider(t, "digitalocean", map[string]any{"token": "x"})
	base := map[string]any{"region": "nyc3", "ipRange": "10.100.0.0/16", "description": "a"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for key, val := range base {
			m[key] = val
		}
		m[k] = v
		return m
	}
	cases := []struct {
		name     string
		news     map[string]any
		changes  pulumirpc.DiffResponse_DiffChanges
		diffs    []string
		replaces []string
	}{
		{"same", base, pulumirpc.DiffResponse_DIFF_NONE, nil, nil},
		{"made secret, same value", with("description", resource.MakeSecret(resource.NewProperty("a"))), pulumirpc.DiffResponse_DIFF_NONE, nil, nil},
		{"description", with("description", "b"), pulumirpc.DiffResponse_DIFF_SOME, []string{"description"}, nil},
		{"ip range", with("ipRange", "10.101.0.0/16"), pulumirpc.DiffResponse_DIFF_SOME, []string{"ipRange"}, []string{"ipRange"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Id: "x", Urn: urn(tVpc, "vpc"), Type: tVpc,
				OldInputs: props(t, base), Olds: props(t, base), News: props(t, tc.news)})
			require.NoError(t, err)
			assert.Equal(t, tc.changes, resp.GetChanges())
			assert.Equal(t, tc.diffs, resp.GetDiffs())
			assert.Equal(t, tc.replaces, resp.GetReplaces())
		})
	}
}

// The DOKS types replace where terraform-provider-digitalocean v2.96.0 has
// ForceNew (internal/simcloud/catalog.go): a pool's size replaces the pool,
// delete-before-replace as the bridge asks for an explicit name; the
// cluster's default pool's size replaces the cluster; counts and labels do
// neither.
func TestStandinDiffDoksPools(t *testing.T) {
	p, _ := provider(t, "digitalocean", map[string]any{"token": "x"})
	const tCluster, tPool = "digitalocean:index/kubernetesCluster:KubernetesCluster", "digitalocean:index/kubernetesNodePool:KubernetesNodePool"
	pool := map[string]any{"clusterId": "c1", "name": "workers-s-4vcpu-8gb", "size": "s-4vcpu-8gb", "minNodes": 3.0, "labels": map[string]any{"workload": "general"}}
	cluster := map[string]any{"region": "nyc3", "version": "1.35.4-do.0", "nodePool": map[string]any{"name": "default", "size": "s-4vcpu-8gb", "minNodes": 2.0}}
	with := func(base map[string]any, path string, v any) map[string]any {
		out := map[string]any{}
		for k, val := range base {
			out[k] = val
		}
		if sub, key, nested := strings.Cut(path, "."); nested {
			inner := map[string]any{}
			for k, val := range base[sub].(map[string]any) {
				inner[k] = val
			}
			inner[key] = v
			out[sub] = inner
		} else {
			out[path] = v
		}
		return out
	}
	cases := []struct {
		name     string
		typ      string
		old, new map[string]any
		replaces []string
		dbr      bool
	}{
		{"pool size", tPool, pool, with(with(pool, "size", "s-8vcpu-16gb"), "name", "workers-s-8vcpu-16gb"), []string{"size"}, true},
		{"pool count", tPool, pool, with(pool, "minNodes", 4.0), nil, false},
		{"pool labels", tPool, pool, with(pool, "labels", map[string]any{"workload": "batch"}), nil, false},
		{"default pool size", tCluster, cluster, with(cluster, "nodePool.size", "s-8vcpu-16gb"), []string{"nodePool.size"}, false},
		{"default pool count", tCluster, cluster, with(cluster, "nodePool.minNodes", 3.0), nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Id: "x", Urn: urn(tc.typ, "r"), Type: tc.typ,
				OldInputs: props(t, tc.old), Olds: props(t, tc.old), News: props(t, tc.new)})
			require.NoError(t, err)
			assert.Equal(t, pulumirpc.DiffResponse_DIFF_SOME, resp.GetChanges())
			assert.Equal(t, tc.replaces, resp.GetReplaces())
			assert.Equal(t, tc.dbr, resp.GetDeleteBeforeReplace())
		})
	}
}

func TestStandinLifecycle(t *testing.T) {
	ctx := context.Background()
	p, dir := provider(t, "digitalocean", map[string]any{"token": "x"})
	vpcIn := map[string]any{"region": "nyc3", "ipRange": "10.100.0.0/16", "name": "vpc"}

	preview, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: urn(tVpc, "vpc"), Type: tVpc, Properties: props(t, vpcIn), Preview: true})
	require.NoError(t, err)
	assert.Empty(t, preview.GetId(), "a preview creates nothing")
	assert.True(t, unprops(t, preview.GetProperties())["urn"].IsComputed(), "computed outputs are unknown in a preview")

	vpc, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: urn(tVpc, "vpc"), Type: tVpc, Properties: props(t, vpcIn)})
	require.NoError(t, err)
	require.NotEmpty(t, vpc.GetId())

	// The cloud places a Droplet inside the VPC it names.
	drop, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: urn(tDroplet, "gw"), Type: tDroplet,
		Properties: props(t, map[string]any{"image": "ubuntu-24-04-x64", "size": "s-1vcpu-1gb", "vpcUuid": vpc.GetId()})})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(unprops(t, drop.GetProperties())["ipv4AddressPrivate"].StringValue(), "10.100."))

	read, err := p.Read(ctx, &pulumirpc.ReadRequest{Id: vpc.GetId(), Urn: urn(tVpc, "vpc"), Type: tVpc, Properties: vpc.GetProperties()})
	require.NoError(t, err)
	assert.Equal(t, vpc.GetId(), read.GetId())
	assert.Equal(t, "10.100.0.0/16", unprops(t, read.GetProperties())["ipRange"].StringValue())

	upd, err := p.Update(ctx, &pulumirpc.UpdateRequest{Id: vpc.GetId(), Urn: urn(tVpc, "vpc"), Type: tVpc,
		Olds: vpc.GetProperties(), News: props(t, map[string]any{"region": "nyc3", "ipRange": "10.100.0.0/16", "name": "vpc", "description": "d"})})
	require.NoError(t, err)
	assert.Equal(t, "d", unprops(t, upd.GetProperties())["description"].StringValue())
	read, err = p.Read(ctx, &pulumirpc.ReadRequest{Id: vpc.GetId(), Urn: urn(tVpc, "vpc"), Type: tVpc})
	require.NoError(t, err)
	assert.Equal(t, "d", unprops(t, read.GetProperties())["description"].StringValue(), "the update reached the cloud")

	_, err = p.Delete(ctx, &pulumirpc.DeleteRequest{Id: vpc.GetId(), Urn: urn(tVpc, "vpc"), Type: tVpc})
	require.NoError(t, err)
	read, err = p.Read(ctx, &pulumirpc.ReadRequest{Id: vpc.GetId(), Urn: urn(tVpc, "vpc"), Type: tVpc})
	require.NoError(t, err)
	assert.Empty(t, read.GetId(), "a deleted object is gone")

	// A bucket name is taken once: a second stack resource cannot have it.
	bucket := props(t, map[string]any{"name": "hybrid-logs", "region": "nyc3"})
	_, err = p.Create(ctx, &pulumirpc.CreateRequest{Urn: urn(tBucket, "a"), Type: tBucket, Properties: bucket})
	require.NoError(t, err)
	_, err = p.Create(ctx, &pulumirpc.CreateRequest{Urn: urn(tBucket, "b"), Type: tBucket, Properties: bucket})
	assert.ErrorContains(t, err, `"hybrid-logs" already exists`)

	// What the real provider marks sensitive is recorded for the state checks.
	db, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: urn(tDB, "pg"), Type: tDB,
		Properties: props(t, map[string]any{"engine": "pg", "region": "nyc3", "size": "db-s-1vcpu-2gb", "nodeCount": 2})})
	require.NoError(t, err)
	password := unprops(t, db.GetProperties())["password"]
	assert.False(t, password.IsSecret(), "the stand-in never marks outputs secret: the program must")
	sensitive, err := standin.SensitiveValues(dir)
	require.NoError(t, err)
	assert.Contains(t, sensitive, password.StringValue())
}

func TestStandinInvokes(t *testing.T) {
	ctx := context.Background()
	p, _ := provider(t, "cloudflare", map[string]any{"apiToken": "x"})
	resp, err := p.Invoke(ctx, &pulumirpc.InvokeRequest{Tok: "cloudflare:index/getZone:getZone", Args: props(t, map[string]any{"name": "example.com"})})
	require.NoError(t, err)
	assert.Len(t, unprops(t, resp.GetReturn())["zoneId"].StringValue(), 32)

	_, err = p.Invoke(ctx, &pulumirpc.InvokeRequest{Tok: "cloudflare:index/getAccounts:getAccounts", Args: props(t, nil)})
	assert.ErrorContains(t, err, "unhandled invoke")
	_, err = p.Invoke(ctx, &pulumirpc.InvokeRequest{Tok: "talos:client/getConfiguration:getConfiguration", Args: props(t, nil)})
	assert.ErrorContains(t, err, "the cloudflare stand-in cannot answer")
	_, err = p.Construct(ctx, &pulumirpc.ConstructRequest{Type: "kubernetes:yaml/v2:ConfigGroup"})
	assert.ErrorContains(t, err, "cannot construct")
}

// The CLI the tests build is the one CI and the deploy workflows pin.
func TestToolVersionsAgree(t *testing.T) {
	pinned, err := os.ReadFile(filepath.Join(root, ".pulumi-version"))
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(string(pinned)), localcloud.PulumiVersion)
	cli, err := os.ReadFile(filepath.Join(root, "tools", "pulumi", "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(cli), "github.com/pulumi/pulumi/pkg/v3 "+localcloud.PulumiVersion+"\n")
	host, err := os.ReadFile(filepath.Join(root, "tools", "language-go", "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(host), localcloud.LanguageGoModule+" "+localcloud.LanguageGoVersion+"\n")
}

// The stand-in's required inputs are the SDKs' own: each generated
// constructor refuses a missing required argument, and the catalogue must
// list exactly those, so Check fails where the real provider would.
func TestStandinRequiredInputsMatchTheSDKs(t *testing.T) {
	required := regexp.MustCompile(`invalid value for required argument '([A-Za-z]+)'`)
	// Kubernetes objects are generic: any kind is accepted (apiVersion, kind).
	for _, pkg := range []string{"digitalocean", "cloudflare", "talos"} {
		dir, err := localcloud.SDKDir(root, pkg)
		require.NoError(t, err)
		types := simcloud.Types(pkg)
		require.NotEmpty(t, types, pkg)
		for _, typ := range types {
			// digitalocean:index/vpc:Vpc -> go/digitalocean/vpc.go;
			// talos:machine/secrets:Secrets -> go/talos/machine/secrets.go.
			mid := strings.Split(typ, ":")[1]
			module, file, _ := strings.Cut(mid, "/")
			path := filepath.Join(dir, file+".go")
			if module != "index" {
				path = filepath.Join(dir, module, file+".go")
			}
			src, err := os.ReadFile(path)
			require.NoError(t, err, typ)
			var want []string
			for _, m := range required.FindAllStringSubmatch(string(src), -1) {
				want = append(want, strings.ToLower(m[1][:1])+m[1][1:])
			}
			sort.Strings(want)
			kind, _ := simcloud.Lookup(typ)
			got := slices.Sorted(slices.Values(kind.Required))
			assert.Equal(t, want, got, "%s: required inputs", typ)
		}
	}
}
