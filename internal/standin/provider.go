// Package standin serves the simulated clouds as Pulumi provider plugins, so
// that the real Pulumi engine can run this program with no cloud account. One
// binary answers for each package the program uses (digitalocean,
// cloudflare, talos, kubernetes); it is installed under each plugin name and
// tells which one it is from its file name.
//
// It is a small, honest simulator, not the cloud: Check rejects a missing
// required input, Create returns a stable id and the computed outputs the
// program reads (the same ones internal/mockcloud returns), Diff reports real
// changes and the replacements the real provider would make, Update, Read and
// Delete work against a file-backed store, and the invokes the program makes
// are answered. It talks to no network.
package standin

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/hybridcloud/platform/internal/localcluster"
	"github.com/hybridcloud/platform/internal/simcloud"
)

// Packages are the plugin names the stand-in serves.
var Packages = []string{"cloudflare", "digitalocean", "kubernetes", "talos"}

// credentials names, per package, the provider config keys and environment
// variables of which one must be set, as the real provider needs a credential
// before it can reach its API. An empty list means none is needed (Talos
// authenticates with the client configuration each resource carries).
var credentials = map[string]struct{ config, env []string }{
	"digitalocean": {[]string{"token"}, []string{"DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"}},
	"cloudflare":   {[]string{"apiToken", "apiKey"}, []string{"CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY"}},
	"kubernetes":   {[]string{"kubeconfig"}, []string{"KUBECONFIG"}},
	"talos":        {},
}

// Provider is one stand-in provider plugin.
type Provider struct {
	pulumirpc.UnimplementedResourceProviderServer

	pkg, version string
	store        *Store
	engine       *grpc.ClientConn // for Construct; nil in unit use
	scope        string           // the Kubernetes cluster this instance talks to
	// access is how to reach the local API servers (access.go); nil when
	// the stand-in invents endpoints.
	access map[string]localcluster.Access
}

// New returns the provider for one package. engine is the connection to the
// Pulumi engine (used to construct component resources); it may be nil.
func New(pkg, version string, store *Store, engine *grpc.ClientConn) (*Provider, error) {
	if !slices.Contains(Packages, pkg) {
		return nil, fmt.Errorf("stand-in: no simulated cloud for package %q (have %s)", pkg, strings.Join(Packages, ", "))
	}
	access, err := loadAccess()
	if err != nil {
		return nil, err
	}
	return &Provider{pkg: pkg, version: version, store: store, engine: engine, access: access}, nil
}

var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, opts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, opts)
}

// GetPluginInfo reports the version this plugin was installed as.
func (p *Provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: p.version}, nil
}

// GetSchema returns a minimal schema: the program is written against the
// real SDKs, so the engine needs no more.
func (p *Provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q,"version":%q}`, p.pkg, p.version)}, nil
}

// CheckConfig accepts the provider configuration as given.
func (p *Provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// DiffConfig reports a changed configuration. Only a new Kubernetes
// clusterIdentifier replaces the provider (and so every object it manages);
// a rotated token or kubeconfig is an in-place update.
func (p *Provider) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	kind := simcloud.Kind{}
	if p.pkg == "kubernetes" {
		kind.Replace = []string{"clusterIdentifier"}
	}
	return diffResponse(kind.Changes(olds, news)), nil
}

// Configure checks that a credential is present and, for Kubernetes, notes
// which cluster this provider instance talks to.
func (p *Provider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	cred := credentials[p.pkg]
	found := len(cred.config) == 0
	value := ""
	for _, k := range cred.config {
		if v := args[resource.PropertyKey(k)]; v.ContainsUnknowns() {
			// A preview before the cluster exists: nothing will be stored.
			p.scope = "(unknown)"
			return &pulumirpc.ConfigureResponse{AcceptSecrets: true, AcceptResources: true, SupportsPreview: true}, nil
		}
		if v := simcloud.String(args, k); v != "" {
			found, value = true, v
		}
	}
	for _, e := range cred.env {
		if v := os.Getenv(e); v != "" && !found {
			found, value = true, v
			if p.pkg == "kubernetes" {
				if b, err := os.ReadFile(v); err == nil {
					value = string(b)
				}
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: no credentials: set provider config %s or one of %s",
			p.pkg, strings.Join(cred.config, "/"), strings.Join(cred.env, ", "))
	}
	if p.pkg == "kubernetes" {
		p.scope = clusterServer(value)
		if p.scope == "" {
			return nil, fmt.Errorf("kubernetes: the kubeconfig names no cluster server")
		}
	}
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, AcceptResources: true, SupportsPreview: true}, nil
}

var serverLine = regexp.MustCompile(`(?m)^\s*server:\s*"?([^"\s]+)`)

// clusterServer returns the API server URL a kubeconfig points at.
func clusterServer(kubeconfig string) string {
	if m := serverLine.FindStringSubmatch(kubeconfig); m != nil {
		return m[1]
	}
	return ""
}

// Check validates a resource's inputs: the type must be one the simulated
// cloud knows, and every required input must be present. A Kubernetes object
// without a name gets one derived from its URN (kept across updates).
func (p *Provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	typ := typeOf(req.GetType(), req.GetUrn())
	kind, ok := simcloud.Lookup(typ)
	if !ok || !strings.HasPrefix(typ, p.pkg+":") {
		return nil, fmt.Errorf("the %s stand-in does not simulate %s", p.pkg, typ)
	}
	var failures []*pulumirpc.CheckFailure
	for _, key := range kind.Missing(news) {
		failures = append(failures, &pulumirpc.CheckFailure{
			Property: key, Reason: fmt.Sprintf("missing required property %q", key)})
	}
	if p.pkg == "kubernetes" {
		olds, err := unmarshal(req.GetOlds())
		if err != nil {
			return nil, err
		}
		autoname(news, olds, req.GetUrn())
	}
	inputs, err := marshal(news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

// Diff compares the old inputs with the new ones.
func (p *Provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	oldStruct := req.GetOldInputs()
	if oldStruct == nil {
		oldStruct = req.GetOlds()
	}
	olds, err := unmarshal(oldStruct)
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	kind, _ := simcloud.Lookup(typeOf(req.GetType(), req.GetUrn()))
	resp := diffResponse(kind.Changes(olds, news))
	if n, ok := news[resource.PropertyKey(kind.AutoNamed)]; ok && kind.AutoNamed != "" && !n.IsNull() {
		resp.DeleteBeforeReplace = len(resp.GetReplaces()) > 0
	}
	return resp, nil
}

func diffResponse(changed, replace []string) *pulumirpc.DiffResponse {
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}
	if len(changed) > 0 || len(replace) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		resp.Diffs = changed
		resp.Replaces = replace
	}
	return resp
}

// Create makes the object in the simulated cloud. In a preview nothing is
// made: the outputs the cloud would compute are reported unknown.
func (p *Provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	inputs, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	typ := typeOf(req.GetType(), req.GetUrn())
	id, outputs := p.compute(typ, req.GetUrn(), inputs)
	if req.GetPreview() {
		for k, v := range outputs {
			if _, given := inputs[k]; !given {
				outputs[k] = resource.MakeComputed(v)
			}
		}
		id = ""
	} else if err := p.store.Put(p.scope, entry(typ, req.GetUrn(), id, outputs)); err != nil {
		return nil, err
	}
	props, err := marshal(outputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// Update changes the object in place; its id stays.
func (p *Provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	typ := typeOf(req.GetType(), req.GetUrn())
	_, outputs := p.compute(typ, req.GetUrn(), news)
	if !req.GetPreview() {
		if err := p.store.Put(p.scope, entry(typ, req.GetUrn(), req.GetId(), outputs)); err != nil {
			return nil, err
		}
	}
	props, err := marshal(outputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

// Read returns the object as the cloud holds it, or no id when it is gone.
// Values the engine holds as secret stay secret.
func (p *Provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	typ := typeOf(req.GetType(), req.GetUrn())
	e, err := p.store.Get(p.scope, typ, req.GetId())
	if err != nil {
		return nil, err
	}
	if e == nil {
		return &pulumirpc.ReadResponse{}, nil
	}
	known, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	outputs := resource.NewPropertyMapFromMap(e.Outputs)
	for k, v := range outputs {
		if known[k].IsSecret() {
			outputs[k] = resource.MakeSecret(v)
		}
	}
	props, err := marshal(outputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: e.ID, Properties: props, Inputs: req.GetInputs()}, nil
}

// Delete removes the object from the simulated cloud.
func (p *Provider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, p.store.Delete(p.scope, typeOf(req.GetType(), req.GetUrn()), req.GetId())
}

// Invoke answers the functions the program calls.
func (p *Provider) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	if !strings.HasPrefix(req.GetTok(), p.pkg+":") {
		return nil, fmt.Errorf("the %s stand-in cannot answer %s", p.pkg, req.GetTok())
	}
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	out, err := simcloud.InvokeIn(req.GetTok(), args, p.find)
	if err != nil {
		return nil, err
	}
	ret, err := marshal(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: ret}, nil
}

// Cancel has nothing to stop: every call returns promptly.
func (p *Provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// compute returns the id and outputs the cloud gives an object.
func (p *Provider) compute(typ, urn string, inputs resource.PropertyMap) (string, resource.PropertyMap) {
	id, outputs := simcloud.Compute(simcloud.Object{
		Type: typ, URN: urn, Name: resource.URN(urn).Name(), Custom: true, Inputs: inputs,
	}, p.vpcRange)
	if p.pkg == "kubernetes" {
		id = kubernetesID(inputs)
	}
	withAccess(typ, outputs, p.access)
	return id, outputs
}

// find looks an object of the simulated cloud up by type and an output's
// value, for the data sources that read existing objects.
func (p *Provider) find(typ, key, value string) (string, resource.PropertyMap, bool) {
	e, err := p.store.FindBy(typ, key, value)
	if err != nil || e == nil {
		return "", nil, false
	}
	return e.ID, resource.NewPropertyMapFromMap(e.Outputs), true
}

// vpcRange finds a VPC the simulated cloud holds.
func (p *Provider) vpcRange(id string) (string, bool) {
	e, err := p.store.Find("digitalocean:index/vpc:Vpc", id)
	if err != nil || e == nil {
		return "", false
	}
	r, ok := e.Outputs["ipRange"].(string)
	return r, ok
}

func typeOf(typ, urn string) string {
	if typ != "" {
		return typ
	}
	return string(resource.URN(urn).Type())
}
