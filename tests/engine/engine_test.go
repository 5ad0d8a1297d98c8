// Package engine runs the program through the real Pulumi engine: the pinned
// CLI built from the module proxy, state in a real S3 server (versitygw) and
// the stand-in provider plugins (internal/standin). Mocks prove the wiring;
// these tests prove what users meet in a real run: the state backend,
// secrets encryption in state, stack references between real stacks,
// protection at destroy, idempotent re-runs and lock contention.
//
// TestMain builds what is missing (the CLI cold: several minutes, which count
// toward go test's -timeout; reused from bin/ afterwards, and .ci/run builds it
// in an earlier step). Nothing is skipped: a tool that cannot be built fails
// the package.
package engine

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/localcloud"
	"github.com/hybridcloud/platform/internal/standin"
)

var (
	ws   *localcloud.Workspace
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
	watchSources(root)
	tc := &localcloud.Toolchain{Root: root}
	if err := tc.Ensure(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the engine tests need the pinned Pulumi CLI, the Go language host, versitygw and the stand-in plugins: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "hybrid-engine-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	s3, err := localcloud.StartS3(tc.Versitygw, filepath.Join(dir, "s3"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: start versitygw:", err)
		return 1
	}
	defer s3.Stop()
	if err := s3.Bootstrap(context.Background(), localcloud.Bucket); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: create the state bucket:", err)
		return 1
	}
	if ws, err = localcloud.NewWorkspace(tc, s3, dir); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: workspace:", err)
		return 1
	}
	code := m.Run()
	if code == 0 {
		_ = os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "engine test files kept in %s\nversitygw log:\n%s\n", dir, s3.Log())
	}
	return code
}

// watchSources opens every source and config file of the program, so that
// `go test` caches this package's result only while none of them changes
// (the program is built in a subprocess, which the test cache cannot see).
func watchSources(root string) {
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "bin", "docs", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".yaml", ".json", ".mod", ".sum":
			if f, err := os.Open(path); err == nil {
				_ = f.Close()
			}
		}
		return nil
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	return c
}

// TestEngine runs the scenario in order: each step builds on the state the
// one before left.
func TestEngine(t *testing.T) {
	steps := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"bring-up prod, onprem, prod", bringUp},
		{"no plaintext secret in state", noPlaintextSecrets},
		{"second preview, with the policy pack, shows no changes", idempotent},
		{"a config change previews as update and replace", changeIsSeen},
		{"a workload pool's new size replaces the pool, created first, not the cluster", poolResize},
		{"concurrent up refused by the lock", lockContention},
		{"destroy refused for protected resources", protectedDestroy},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			t.Fatalf("step %q failed; the later steps depend on it", s.name)
		}
	}
}

func bringUp(t *testing.T) {
	c := ctx(t)
	require.NoError(t, ws.InitStacks(c))
	who, err := ws.Pulumi(c, nil, "whoami", "--verbose")
	require.NoError(t, err)
	assert.Contains(t, who.Stdout, "Backend URL: "+ws.S3.BackendURL(localcloud.Bucket), "logged in to the local S3 backend")

	first, err := ws.Up(c, config.StackProd)
	require.NoError(t, err)
	assert.Contains(t, first.Stdout+first.Stderr, "on-prem origin",
		"the first prod run warns that the on-prem origin comes from config")
	prod, err := ws.Outputs(c, config.StackProd, false)
	require.NoError(t, err)
	assert.Contains(t, prod["failoverOnpremOriginSource"], "edge.onpremOriginFallback",
		"onprem has no outputs yet: the origin falls back to config")

	_, err = ws.Up(c, config.StackOnprem)
	require.NoError(t, err)
	onprem, err := ws.Outputs(c, config.StackOnprem, false)
	require.NoError(t, err)
	// onprem read prod's outputs through a StackReference on the S3 backend.
	assert.Equal(t, prod["registryEndpoint"], onprem["registryEndpoint"])
	require.NotEmpty(t, onprem["ingressAddress"])

	_, err = ws.Up(c, config.StackProd)
	require.NoError(t, err)
	prod, err = ws.Outputs(c, config.StackProd, false)
	require.NoError(t, err)
	// prod now reads onprem's ingress address through a StackReference.
	assert.Equal(t, "stack organization/hybrid-platform/onprem output ingressAddress", prod["failoverOnpremOriginSource"])
	assert.Equal(t, onprem["ingressAddress"], prod["failoverOnpremOrigin"])

	for _, stack := range config.Stacks {
		res := stackResources(t, stack)
		assert.Greater(t, len(res), 50, "stack %s holds its resources", stack)
	}
}

func noPlaintextSecrets(t *testing.T) {
	c := ctx(t)
	secrets := map[string]string{} // value -> where it came from
	for _, stack := range config.Stacks {
		for key, v := range localcloud.SecretValues(stack) {
			secrets[v] = "config " + key
		}
		hidden, err := ws.Outputs(c, stack, false)
		require.NoError(t, err)
		shown, err := ws.Outputs(c, stack, true)
		require.NoError(t, err)
		n := 0
		for k, v := range hidden {
			if v == "[secret]" {
				n++
				secrets[jsonString(shown[k])] = "output " + stack + "." + k
			}
		}
		assert.Positive(t, n, "stack %s exports secret outputs", stack)
	}
	fromCloud, err := standin.SensitiveValues(ws.Cloud)
	require.NoError(t, err)
	assert.Greater(t, len(fromCloud), 20, "the stand-in clouds handed out sensitive values")
	for _, v := range fromCloud {
		secrets[v] = "a value the real provider marks sensitive"
	}

	text, objects, err := ws.S3.StateText(c, localcloud.Bucket)
	require.NoError(t, err)
	require.Positive(t, objects, "state objects in the bucket")

	// The search finds plaintext: public outputs are there as they are.
	prod, err := ws.Outputs(c, config.StackProd, false)
	require.NoError(t, err)
	require.Contains(t, text, prod["gatewayPublicKey"])

	checked := 0
	for value, origin := range secrets {
		for _, needle := range localcloud.SecretNeedles(value) {
			checked++
			if strings.Contains(text, needle) {
				t.Errorf("%s appears in plaintext in the state: %.60q", origin, needle)
			}
		}
	}
	t.Logf("searched %d state objects for %d secret values (%d strings)", objects, len(secrets), checked)
}

func jsonString(v any) string {
	if s, ok := v.(string); ok {
		b, _ := json.Marshal(s)
		return string(b)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// idempotent previews both stacks at once, each with the policy pack: the
// pack runs in the real engine and passes, and nothing would change.
func idempotent(t *testing.T) {
	results, errs := ws.PulumiEach(ctx(t), config.Stacks, func(stack string) []string {
		return []string{"preview", "--stack", stack, "--expect-no-changes", "--suppress-progress", "--policy-pack", ws.Tools.PolicyPack}
	})
	for i, stack := range config.Stacks {
		if assert.NoError(t, errs[i], "a second preview of %s shows changes or a policy violation", stack) {
			assert.Contains(t, results[i].Stdout, "✅ hybrid-platform-guardrails@", "%s: the pack ran and passed", stack)
		}
	}
}

// changeIsSeen proves the idempotence check can fail: a new WireGuard port
// reaches the gateway's firewall (updated in place) and its cloud-init
// (the Droplet is replaced, as on DigitalOcean), and reverting it leaves
// nothing to do.
func changeIsSeen(t *testing.T) {
	c := ctx(t)
	const key = "network.wireguardPort"
	restore, err := ws.ChangeConfig(c, config.StackProd, key, "51999")
	require.NoError(t, err)
	r, err := ws.Pulumi(c, nil, "preview", "--stack", config.StackProd, "--json")
	require.NoError(t, restore(), "the stack file is restored")
	require.NoError(t, err)

	var preview struct {
		Steps []struct {
			Op          string   `json:"op"`
			URN         string   `json:"urn"`
			DiffReasons []string `json:"diffReasons"`
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &preview))
	ops := map[string]string{}
	for _, st := range preview.Steps {
		name := st.URN[strings.LastIndex(st.URN, "::")+2:]
		if ops[name] == "" || st.Op == "replace" {
			ops[name] = st.Op
		}
	}
	assert.Equal(t, "update", ops["network-gateway-fw"], "the firewall opens the new port in place: %v", ops)
	assert.Equal(t, "replace", ops["network-gateway"], "new cloud-init replaces the gateway Droplet: %v", ops)
	assert.NotContains(t, ops, "data-pg", "the database is untouched")
	// protectedDestroy's closing preview proves the revert left nothing to do.
}

// poolResize changes the Droplet size of the workload pool (doks.nodePool)
// after the bring-up and previews prod under the real engine, with the
// stand-in replacing where terraform-provider-digitalocean has ForceNew and
// asking delete-before-replace for an explicitly named pool, as the bridge
// does (internal/simcloud/catalog.go). The pool is replaced, the new one
// created under a new DigitalOcean name before the old one is deleted; the
// cluster, protected, is not replaced, and no other resource changes.
func poolResize(t *testing.T) {
	c := ctx(t)
	const key, size = "doks.nodePool.size", "s-8vcpu-16gb"
	restore, err := ws.ChangeConfig(c, config.StackProd, key, size)
	require.NoError(t, err)
	r, err := ws.Pulumi(c, nil, "preview", "--stack", config.StackProd, "--json", "--show-replacement-steps")
	require.NoError(t, restore(), "the stack file is restored")
	require.NoError(t, err, "the preview of a new pool size runs: %s", r.Stderr)

	type state struct {
		Inputs map[string]any `json:"inputs"`
	}
	var preview struct {
		Steps []struct {
			Op             string   `json:"op"`
			URN            string   `json:"urn"`
			ReplaceReasons []string `json:"replaceReasons"`
			OldState       *state   `json:"oldState"`
			NewState       *state   `json:"newState"`
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &preview))
	const tCluster, tPool = "digitalocean:index/kubernetesCluster:KubernetesCluster", "digitalocean:index/kubernetesNodePool:KubernetesNodePool"
	var poolOps, clusterOps, others []string
	var oldName, newName any
	for _, st := range preview.Steps {
		switch {
		// The type is the URN's last type, after "$" under a parent.
		case strings.Contains(st.URN, tPool+"::"):
			poolOps = append(poolOps, st.Op)
			if st.OldState != nil && oldName == nil {
				oldName = st.OldState.Inputs["name"]
			}
			if st.Op == "create-replacement" {
				assert.Contains(t, st.ReplaceReasons, "size", "the size replaces the pool")
				require.NotNil(t, st.NewState)
				newName = st.NewState.Inputs["name"]
				assert.Equal(t, size, st.NewState.Inputs["size"])
			}
		case strings.Contains(st.URN, tCluster+"::"):
			clusterOps = append(clusterOps, st.Op)
		// A read (the StackReference to onprem) changes nothing.
		case st.Op != "same" && st.Op != "read" && !strings.HasSuffix(st.URN, "::pulumi:pulumi:Stack::hybrid-platform-prod"):
			others = append(others, st.Op+" "+st.URN)
		}
	}
	// Create-before-delete: create-replacement, the logical replace, and
	// delete-replaced last; delete-before-replace would start with the delete.
	assert.Equal(t, []string{"create-replacement", "replace", "delete-replaced"}, poolOps, "the pool's steps, in order")
	require.NotNil(t, oldName, "the old pool's name is in the preview")
	require.NotNil(t, newName, "the new pool's name is in the preview")
	assert.NotEqual(t, oldName, newName, "the new pool exists beside the old one: their DigitalOcean names differ")
	for _, op := range clusterOps {
		assert.NotContains(t, []string{"replace", "create-replacement", "delete-replaced"}, op, "the cluster is not replaced")
	}
	assert.Empty(t, others, "nothing but the pool changes")
	// protectedDestroy's closing preview proves the revert left nothing to do.
}

func protectedDestroy(t *testing.T) {
	c := ctx(t)
	before := stackResources(t, config.StackProd)
	r, err := ws.Pulumi(c, nil, "destroy", "--yes", "--stack", config.StackProd, "--suppress-progress")
	require.Error(t, err, "destroy of prod must be refused")
	assert.Contains(t, r.Stdout+r.Stderr, "protected")
	after := stackResources(t, config.StackProd)
	assert.Equal(t, before, after, "a refused destroy leaves every resource in place")
	// One preview closes the three steps that ran since the last one: the
	// reverted config change, the up that held the lock and this destroy
	// left nothing to do.
	_, err = ws.Pulumi(c, nil, "preview", "--stack", config.StackProd, "--expect-no-changes", "--suppress-progress")
	assert.NoError(t, err, "after the reverted change, the locked up and the refused destroy, prod previews no changes")
}

func lockContention(t *testing.T) {
	c := ctx(t)
	before := stackResources(t, config.StackProd)
	type result struct {
		r   localcloud.Result
		err error
	}
	first := make(chan result, 1)
	go func() {
		r, err := ws.Up(c, config.StackProd)
		first <- result{r, err}
	}()
	// Start the second run once the first holds the lock.
	deadline := time.Now().Add(time.Minute)
	for {
		locks, err := ws.S3.Objects(c, localcloud.Bucket, ".pulumi/locks/")
		require.NoError(t, err)
		if len(locks) > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the first up never took the lock")
		time.Sleep(20 * time.Millisecond)
	}
	second, err := ws.Up(c, config.StackProd)
	require.Error(t, err, "a second concurrent up must be refused")
	assert.Contains(t, second.Stderr+second.Stdout, "locked")
	one := <-first
	require.NoError(t, one.err, "the run holding the lock completes")

	locks, err := ws.S3.Objects(c, localcloud.Bucket, ".pulumi/locks/")
	require.NoError(t, err)
	assert.Empty(t, locks, "the lock is released")
	assert.Equal(t, before, stackResources(t, config.StackProd), "the state is intact")
}

// stackResources returns the sorted URNs in a stack's state, from pulumi stack export.
func stackResources(t *testing.T, stack string) []string {
	r, err := ws.Pulumi(ctx(t), nil, "stack", "export", "--stack", stack)
	require.NoError(t, err)
	var dep struct {
		Deployment struct {
			Resources []struct {
				URN string `json:"urn"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &dep))
	var out []string
	for _, res := range dep.Deployment.Resources {
		out = append(out, res.URN)
	}
	sort.Strings(out) // an update may store them in another order
	return out
}
