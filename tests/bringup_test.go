package tests

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/prodref"
	"github.com/hybridcloud/platform/internal/wgkey"
)

// within fails the test if fn does not return in time: a StackReference that
// waited on something never coming would hang here instead of failing. fn
// runs on another goroutine: it must not call t's methods.
func within[T any](t *testing.T, fn func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- fn() }()
	select {
	case v := <-done:
		return v
	case <-time.After(2 * time.Minute):
		t.Fatal("deadlock: the run did not finish")
		panic("unreachable")
	}
}

// run is one plan run's result, passed out of within.
type run struct {
	res *plan.Result
	err error
}

// The README's bring-up order, under mocks: both stacks exist empty; prod
// comes up first on the config origin; onprem reads prod's outputs; prod
// again takes the failover origin from onprem.
func TestBringUpOrder(t *testing.T) {
	// The operator derives the on-prem public key (wg pubkey) and puts it
	// in prod's config: prod needs nothing else from onprem.
	pub, err := wgkey.PublicKey(onpremKey)
	require.NoError(t, err)
	network := stackObject(t, config.StackProd, "network")
	network["onpremWireguardPublicKey"] = pub
	set := map[string]string{"network": toJSON(t, network)}

	// 1. prod: the onprem stack exists with no outputs yet.
	first := within(t, func() run {
		res, err := plan.Run(plan.Options{Stack: config.StackProd, ProjectDir: projectDir(t), Set: set,
			StackOutputs: map[string]map[string]any{onpremStack: {}}})
		return run{res, err}
	})
	require.NoError(t, first.err)
	fallback := stackObject(t, config.StackProd, "edge")["onpremOriginFallback"]
	assert.Equal(t, fallback, first.res.Outputs["failoverOnpremOrigin"].Value, "first pass uses the config origin")

	// 2. onprem reads prod's outputs.
	opts := onpremOpts(t, nil)
	opts.StackOutputs = map[string]map[string]any{prodStack: first.res.StackOutputs()}
	r := within(t, func() run { res, err := plan.Run(opts); return run{res, err} })
	require.NoError(t, r.err)
	res := r.res
	assert.Equal(t, pub, res.Outputs["wireguardPublicKey"].Value, "the key prod was configured with is onprem's")
	var refs []string
	for _, r := range res.Cloud.ByType(typeStackRef) {
		refs = append(refs, str(t, r.Inputs, "name"))
	}
	assert.ElementsMatch(t, []string{prodStack, onpremStack}, refs, "onprem reads prod, and its own last outputs (the nodes it applied)")
	ingress := res.Outputs["ingressAddress"]
	assert.False(t, ingress.Secret)
	addr, err := netip.ParseAddr(ingress.Value.(string))
	require.NoError(t, err)
	assert.False(t, addr.IsPrivate(), "Cloudflare cannot reach a private origin")

	// 3. prod again: the failover origin is onprem's ingress address.
	again := within(t, func() run {
		res, err := plan.Run(plan.Options{Stack: config.StackProd, ProjectDir: projectDir(t), Set: set,
			StackOutputs: map[string]map[string]any{onpremStack: res.StackOutputs()}})
		return run{res, err}
	})
	require.NoError(t, again.err)
	assert.Equal(t, ingress.Value, again.res.Outputs["failoverOnpremOrigin"].Value)
	assert.Contains(t, again.res.Outputs["failoverOnpremOriginSource"].Value, onpremStack)
}

func TestOnpremStopsClearlyWhenProdIsNotReady(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(m map[string]any)
		missing []string
		invalid []string
	}{
		{name: "prod stack has no outputs", mutate: func(m map[string]any) { clear(m) }, missing: config.ProdOutputsForOnprem},
		{name: "prod lacks the registry outputs", mutate: func(m map[string]any) {
			delete(m, config.OutputRegistryServer)
			delete(m, config.OutputRegistryEndpoint)
			delete(m, config.OutputRegistryDockerConfig)
		}, missing: []string{config.OutputRegistryServer, config.OutputRegistryEndpoint, config.OutputRegistryDockerConfig}},
		{name: "gateway endpoint without a port", mutate: func(m map[string]any) { m[config.OutputGatewayEndpoint] = "198.51.100.20" },
			invalid: []string{config.OutputGatewayEndpoint}},
		{name: "gateway public key malformed", mutate: func(m map[string]any) { m[config.OutputGatewayPublicKey] = "not-a-key" },
			invalid: []string{config.OutputGatewayPublicKey}},
		{name: "prod's tunnel address disagrees with the address plan", mutate: func(m map[string]any) { m[config.OutputGatewayTunnelIP] = "10.250.0.5" },
			invalid: []string{config.OutputGatewayTunnelIP}},
		{name: "registry endpoint empty", mutate: func(m map[string]any) { m[config.OutputRegistryEndpoint] = "" },
			invalid: []string{config.OutputRegistryEndpoint}},
		{name: "route malformed", mutate: func(m map[string]any) { m[config.OutputOnpremRoutes] = []any{"10.100.0.0/16", "vpc"} },
			invalid: []string{config.OutputOnpremRoutes}},
		{name: "registry credentials for another registry", mutate: func(m map[string]any) {
			m[config.OutputRegistryDockerConfig] = `{"auths":{"ghcr.io":{"auth":"c2VjcmV0LXZhbHVl"}}}`
		}, invalid: []string{config.OutputRegistryDockerConfig}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := onpremOpts(t, nil)
			tc.mutate(opts.StackOutputs[prodStack])
			r := within(t, func() run { res, err := plan.Run(opts); return run{res, err} })
			require.Error(t, r.err)
			var perr *prodref.Error
			require.True(t, errors.As(r.err, &perr), "want a prodref.Error, got %v", r.err)
			assert.Equal(t, prodStack, perr.Stack)
			assert.Equal(t, tc.missing, perr.Missing)
			require.Len(t, perr.Invalid, len(tc.invalid))
			for i, name := range tc.invalid {
				assert.True(t, strings.HasPrefix(perr.Invalid[i], name), "%q names %s", perr.Invalid[i], name)
			}
			msg := r.err.Error()
			for _, m := range tc.missing {
				assert.Contains(t, msg, "missing output "+m)
			}
			assert.Contains(t, msg, "Bring up prod first")
			assert.Contains(t, msg, "1) pulumi up -s prod")
			assert.NotContains(t, msg, "c2VjcmV0LXZhbHVl", "registry credentials leaked into the error")
			assert.NotContains(t, msg, "cmVhZC1vbmx5OnRva2Vu", "registry credentials leaked into the error")
			// Nothing is declared from a prod stack that is not ready.
			for _, res := range r.res.Cloud.Resources() {
				assert.Equal(t, typeStackRef, res.Type, "%s declared before prod's outputs were checked", res.URN)
			}
		})
	}
}

// The program reads prod through prodref: a stack that does not exist is a
// clear error, and the registry credentials are a secret whatever prod says.
func TestProdReference(t *testing.T) {
	// read runs a program that only reads prod; it returns what Read
	// returned and what the run returned.
	read := func(outputs map[string]any) (*prodref.Outputs, error, error) {
		cloud := mockcloud.New(config.Project, config.StackOnprem)
		if outputs != nil {
			cloud.SetStackOutputs(prodStack, outputs)
		}
		var out *prodref.Outputs
		var readErr error
		runErr := pulumi.RunErr(func(ctx *pulumi.Context) error {
			out, readErr = prodref.Read(ctx, prodStack, netip.MustParseAddr("10.250.0.1"))
			return readErr
		}, pulumi.WithMocks(config.Project, config.StackOnprem, cloud))
		return out, readErr, runErr
	}

	t.Run("stack does not exist", func(t *testing.T) {
		errs := within(t, func() [2]error { _, readErr, runErr := read(nil); return [2]error{readErr, runErr} })
		readErr, runErr := errs[0], errs[1]
		// The engine reports the failed read; the program's own error
		// (also logged) adds the bring-up order.
		require.Error(t, runErr)
		assert.Contains(t, runErr.Error(), "not found")
		var perr *prodref.Error
		require.True(t, errors.As(readErr, &perr), "got %v", readErr)
		assert.Error(t, perr.Err)
		assert.Contains(t, readErr.Error(), "Bring up prod first")
	})

	for _, tc := range []struct {
		name   string
		secret bool
	}{{"prod marks the credentials secret", true}, {"prod does not", false}} {
		t.Run(tc.name, func(t *testing.T) {
			outputs := prodOutputs()
			if !tc.secret {
				outputs[config.OutputRegistryDockerConfig] = dockerConfig
			}
			out, readErr, err := read(outputs)
			require.NoError(t, readErr)
			require.NoError(t, err)
			got, err := internals.UnsafeAwaitOutput(context.Background(), out.RegistryDockerConfig)
			require.NoError(t, err)
			assert.True(t, got.Secret, "registryDockerConfig must be a secret in the program")
			assert.Equal(t, dockerConfig, got.Value)
			assert.Equal(t, gatewayEndpoint, out.GatewayEndpoint.String())
			assert.Equal(t, len(onpremRoutes), len(out.OnpremRoutes))
		})
	}
}

// go run ./cmd/plan --stack onprem plans prod first and hands its outputs to
// the StackReference. Until the prod composition exports what onprem reads,
// that stops with the clear error; once it does, the onprem plan runs. The
// test checks whichever of the two the prod composition calls for.
func TestPlanOnpremPlansProdFirst(t *testing.T) {
	prod := mustRun(t, plan.Options{Stack: config.StackProd})
	var missing []string
	for _, name := range config.ProdOutputsForOnprem {
		if _, ok := prod.Outputs[name]; !ok {
			missing = append(missing, name)
		}
	}
	var out, errOut bytes.Buffer
	code := within(t, func() int { return plan.Main([]string{"--stack", "onprem"}, &out, &errOut) })
	if len(missing) == 0 {
		require.Equal(t, 0, code, errOut.String())
		assert.Contains(t, out.String(), "stack reference "+prodStack+": outputs from "+plan.SourceProdPlan)
		return
	}
	require.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "missing output "+missing[0])
	assert.Contains(t, errOut.String(), "Bring up prod first")
	assert.Contains(t, errOut.String(), plan.SourceProdPlan, "the error says where prod's outputs came from")
}

func TestPlanGivenOutputsAreNamedAsTheSource(t *testing.T) {
	res := runOnprem(t, nil)
	require.Equal(t, []plan.StackRef{{Name: prodStack, Source: plan.SourceGiven}, {Name: onpremStack, Source: plan.SourceNoPrevious}}, res.StackRefs)
	var text bytes.Buffer
	res.WriteText(&text)
	assert.Contains(t, text.String(), "stack reference "+prodStack+": outputs from "+plan.SourceGiven)
}

// A planned stack's outputs reach another stack's StackReference with their
// secrecy, as the engine hands them over.
func TestStackOutputsKeepSecrecy(t *testing.T) {
	res := &plan.Result{Outputs: map[string]plan.Output{
		"secret":  {Value: "s3cr3t", Known: true, Secret: true},
		"list":    {Value: []string{"10.100.0.0/16"}, Known: true},
		"unknown": {Known: false},
	}}
	out := res.StackOutputs()
	require.Contains(t, out, "secret")
	assert.True(t, out["secret"].(interface{ IsSecret() bool }).IsSecret())
	assert.NotContains(t, out, "unknown", "an output not known until apply is absent")
	assert.Contains(t, out, "list")
}
