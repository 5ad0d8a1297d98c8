package kubelayer

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/chartcheck"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/localcloud"
	"github.com/hybridcloud/platform/internal/localcluster"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/standin"
)

// clusterOf is the local cluster a stack deploys to.
func clusterOf(t *testing.T, stack string) *localcluster.Cluster {
	t.Helper()
	for _, c := range cp.Clusters {
		if c.Stack == stack {
			return c
		}
	}
	t.Fatalf("no local cluster for stack %s", stack)
	return nil
}

// stateResource is one resource of an exported stack.
type stateResource struct {
	URN     string         `json:"urn"`
	Type    string         `json:"type"`
	Custom  bool           `json:"custom"`
	Parent  string         `json:"parent"`
	Outputs map[string]any `json:"outputs"`
}

func exportState(t *testing.T, stack string) []stateResource {
	t.Helper()
	r, err := ws.Pulumi(ctx(t, 2*time.Minute), nil, "stack", "export", "--stack", stack)
	require.NoError(t, err)
	var doc struct {
		Deployment struct {
			Resources []stateResource `json:"resources"`
		} `json:"deployment"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &doc))
	return doc.Deployment.Resources
}

// kubeObject is a Kubernetes object the real provider holds in state.
type kubeObject struct {
	APIVersion, Kind, Namespace, Name string
	InChart                           bool // a child of a helm.sh/v4 Chart
}

func (o kubeObject) String() string {
	return fmt.Sprintf("%s %s %s/%s", o.APIVersion, o.Kind, o.Namespace, o.Name)
}

// kubeObjects are the stack's Kubernetes objects in the real provider's
// state: custom resources of the kubernetes package, providers aside.
func kubeObjects(t *testing.T, stack string) []kubeObject {
	t.Helper()
	state := exportState(t, stack)
	charts := map[string]bool{}
	for _, r := range state {
		if r.Type == chartcheck.ChartType {
			charts[r.URN] = true
		}
	}
	var out []kubeObject
	for _, r := range state {
		if !r.Custom || !strings.HasPrefix(r.Type, "kubernetes:") {
			continue
		}
		o := kubeObject{InChart: charts[r.Parent]}
		o.APIVersion, _ = r.Outputs["apiVersion"].(string)
		o.Kind, _ = r.Outputs["kind"].(string)
		if meta, ok := r.Outputs["metadata"].(map[string]any); ok {
			o.Name, _ = meta["name"].(string)
			o.Namespace, _ = meta["namespace"].(string)
		}
		out = append(out, o)
	}
	return out
}

// declared renders what a stack declares, as the render test does: the
// stack's composition under the mock cloud, its charts rendered from the
// mirror by the Helm Go SDK.
func declared(t *testing.T, stack string) *chartcheck.Stack {
	t.Helper()
	res, err := plan.Run(plan.Options{Stack: stack, ProjectDir: root})
	require.NoError(t, err)
	repo, err := chartcheck.OpenRepository(filepath.Join(root, chartcheck.MirrorDir))
	require.NoError(t, err)
	s, err := chartcheck.BuildPlanned(context.Background(), res, repo)
	require.NoError(t, err)
	require.Empty(t, s.RenderErrors)
	return s
}

// Every object the program and its charts declare is in its API server, and
// the state's objects per kind are the render test's.
func objectsExist(t *testing.T) {
	for _, stack := range config.Stacks {
		t.Run(stack, func(t *testing.T) {
			c := clusterOf(t, stack)
			cx := ctx(t, 5*time.Minute)
			inState := kubeObjects(t, stack)
			require.Greater(t, len(inState), 100, "the real provider's state holds the stack's objects")
			missing := 0
			for _, o := range inState {
				ok, err := exists(cx, c, o.APIVersion, o.Kind, o.Namespace, o.Name)
				if !assert.NoError(t, err, "%s", o) || !ok {
					missing++
					t.Errorf("in state, not in the %s API server: %s", c.Kind, o)
				}
			}

			// The render test's objects, per kind, against the state's.
			s := declared(t, stack)
			want, got := map[string]int{}, map[string]int{}
			for _, r := range s.Rendered {
				for _, o := range r.Objects {
					want[o.APIVersion+" "+o.Kind]++
				}
			}
			for _, o := range inState {
				if o.InChart {
					got[o.APIVersion+" "+o.Kind]++
				}
			}
			assert.Equal(t, want, got, "chart objects per kind: the render test (want) and the real provider's state (got)")
			program := 0
			for _, o := range inState {
				if !o.InChart {
					program++
				}
			}
			assert.Equal(t, len(s.Program), program, "the program's own objects: declared under the mock cloud and in the real state")
			t.Logf("%s: %d objects in state, all in the API server (%d missing); %d from %d charts, %d the program's",
				stack, len(inState), missing, len(inState)-program, len(s.Rendered), program)
		})
	}
}

type meta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// Every workload is Ready: Deployments and StatefulSets have their replicas
// ready, DaemonSets a ready pod on each node they select, Jobs completed.
func workloadsReady(t *testing.T) {
	for _, stack := range config.Stacks {
		t.Run(stack, func(t *testing.T) {
			c := clusterOf(t, stack)
			cx := ctx(t, 2*time.Minute)
			type scaled struct {
				Metadata meta `json:"metadata"`
				Spec     struct {
					Replicas *int `json:"replicas"`
				} `json:"spec"`
				Status struct {
					ReadyReplicas          int `json:"readyReplicas"`
					DesiredNumberScheduled int `json:"desiredNumberScheduled"`
					NumberReady            int `json:"numberReady"`
					Succeeded              int `json:"succeeded"`
				} `json:"status"`
			}
			n := 0
			for _, kind := range []string{"Deployment", "StatefulSet", "DaemonSet"} {
				items, err := list[scaled](cx, c, "apps/v1", kind)
				require.NoError(t, err)
				for _, w := range items {
					n++
					where := fmt.Sprintf("%s %s/%s", kind, w.Metadata.Namespace, w.Metadata.Name)
					if kind == "DaemonSet" {
						assert.Positive(t, w.Status.DesiredNumberScheduled, "%s schedules no pod", where)
						assert.Equal(t, w.Status.DesiredNumberScheduled, w.Status.NumberReady, "%s: pods ready", where)
						continue
					}
					want := 1
					if w.Spec.Replicas != nil {
						want = *w.Spec.Replicas
					}
					assert.Equal(t, want, w.Status.ReadyReplicas, "%s: replicas ready", where)
				}
			}
			jobs, err := list[scaled](cx, c, "batch/v1", "Job")
			require.NoError(t, err)
			for _, j := range jobs {
				assert.Positive(t, j.Status.Succeeded, "Job %s/%s has not completed", j.Metadata.Namespace, j.Metadata.Name)
			}
			assert.Greater(t, n, 5, "the stack runs workloads")
			t.Logf("%s: %d workloads and %d jobs ready", stack, n, len(jobs))
		})
	}
}

// transientFailedCreate is the one FailedCreate a correct program meets: a
// controller that tries to make a pod before the chart's ServiceAccount,
// applied at the same time, exists. The controller retries; the workload is
// then Ready (workloadsReady). Anything else, Pod Security above all, is a
// defect.
const transientFailedCreate = "error looking up service account"

// Pod Security admission admitted every pod the controllers made.
func noFailedCreate(t *testing.T) {
	for _, stack := range config.Stacks {
		t.Run(stack, func(t *testing.T) {
			c := clusterOf(t, stack)
			type event struct {
				Metadata       meta   `json:"metadata"`
				Reason         string `json:"reason"`
				Message        string `json:"message"`
				InvolvedObject struct {
					Kind, Namespace, Name string
				} `json:"involvedObject"`
			}
			events, err := list[event](ctx(t, time.Minute), c, "v1", "Event")
			require.NoError(t, err)
			transient := 0
			for _, e := range events {
				if e.Reason != "FailedCreate" {
					continue
				}
				if strings.Contains(e.Message, transientFailedCreate) && !strings.Contains(e.Message, "PodSecurity") {
					transient++
					continue
				}
				t.Errorf("%s %s/%s: FailedCreate: %s", e.InvolvedObject.Kind, e.InvolvedObject.Namespace, e.InvolvedObject.Name, e.Message)
			}
			assert.NotEmpty(t, events, "the API server records events")
			t.Logf("%s: %d events, %d transient FailedCreate (service account not yet there)", stack, len(events), transient)
		})
	}
}

// The API server accepted the network policies, quotas and RBAC objects the
// program declares: each is there (objectsExist checks every object); here,
// that each kind is there at all, in the namespaces that need them.
func policiesAccepted(t *testing.T) {
	for _, stack := range config.Stacks {
		t.Run(stack, func(t *testing.T) {
			counts := map[string]int{}
			for _, o := range kubeObjects(t, stack) {
				counts[o.Kind]++
			}
			for _, kind := range []string{"NetworkPolicy", "ResourceQuota", "LimitRange", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"} {
				assert.Positive(t, counts[kind], "%s: no %s in state", stack, kind)
			}
		})
	}
}

// A second preview is the real provider's diff of what the API servers hold
// against what the program declares: no changes.
// The two stacks preview at once: each waits mostly on its provider's reads
// of the API server.
func secondPreviewClean(t *testing.T) {
	_, errs := ws.PulumiEach(ctx(t, 10*time.Minute), config.Stacks, func(stack string) []string {
		return []string{"preview", "--stack", stack, "--expect-no-changes", "--diff", "--suppress-progress"}
	})
	for i, stack := range config.Stacks {
		assert.NoError(t, errs[i], "a second preview of %s shows changes", stack)
	}
}

// previewOps runs a preview of prod with one config value changed and
// returns the step operation per resource name; the value is restored.
func previewOps(t *testing.T, key, value string) map[string]string {
	t.Helper()
	c := ctx(t, 10*time.Minute)
	restore, err := ws.ChangeConfig(c, config.StackProd, key, value)
	require.NoError(t, err)
	r, err := ws.Pulumi(c, nil, "preview", "--stack", config.StackProd, "--json")
	revertErr := restore()
	var preview struct {
		Steps []struct {
			Op  string `json:"op"`
			URN string `json:"urn"`
		} `json:"steps"`
		Diagnostics []struct {
			Severity string `json:"severity"`
			Message  string `json:"message"`
			URN      string `json:"urn"`
		} `json:"diagnostics"`
	}
	decodeErr := json.Unmarshal([]byte(r.Stdout), &preview)
	if err != nil {
		var errs []string
		for _, d := range preview.Diagnostics {
			if d.Severity == "error" {
				errs = append(errs, d.URN+": "+d.Message)
			}
		}
		t.Fatalf("preview with %s=%s failed: %v", key, value, errs)
	}
	require.NoError(t, revertErr)
	require.NoError(t, decodeErr)
	ops := map[string]string{}
	for _, st := range preview.Steps {
		name := st.URN[strings.LastIndex(st.URN, "::")+2:]
		if ops[name] == "" || st.Op == "replace" {
			ops[name] = st.Op
		}
	}
	return ops
}

// A config change to a Kubernetes object previews as the real provider's
// update: a quota value is updated in place, and nothing else changes.
func changeIsSeen(t *testing.T) {
	changed := func(ops map[string]string) map[string]string {
		out := map[string]string{}
		for name, op := range ops {
			if op != "same" && op != "read" {
				out[name] = op
			}
		}
		return out
	}
	ops := previewOps(t, "platform.apps[0].quota.pods", "61")
	assert.Equal(t, map[string]string{"shop-quota": "update"}, changed(ops), "a quota change updates that quota in place, and nothing else")
	// The stack file is back byte for byte (previewOps) and a preview writes
	// no state, so the revert needs no preview of its own.
}

// The real provider's state holds no plaintext secret: the secret config
// values, the sensitive values the stand-in clouds handed out, and the
// credentials of the local API servers that the provider used.
func noPlaintextSecrets(t *testing.T) {
	c := ctx(t, 2*time.Minute)
	secrets := map[string]string{}
	for _, stack := range config.Stacks {
		for key, v := range localcloud.SecretValues(stack) {
			secrets[v] = "config " + key
		}
	}
	fromCloud, err := standin.SensitiveValues(ws.Cloud)
	require.NoError(t, err)
	for _, v := range fromCloud {
		secrets[v] = "a value the real DigitalOcean, Cloudflare or Talos provider marks sensitive"
	}
	secrets[doksToken] = "the DOKS cluster token doctl fetched"
	talos := cp.Clusters[config.ClusterTalos]
	secrets[string(talos.AdminKey)] = "the Talos cluster's admin client key"

	text, _, err := ws.S3.StateText(c, localcloud.Bucket)
	require.NoError(t, err)
	require.Contains(t, text, "kubernetes:apps/v1:Deployment", "the search reads the real provider's state")
	var found []string
	checked := 0
	for value, origin := range secrets {
		for _, needle := range localcloud.SecretNeedles(value) {
			checked++
			if strings.Contains(text, needle) {
				found = append(found, fmt.Sprintf("%s: %.40q", origin, needle))
			}
		}
	}
	sort.Strings(found)
	assert.Empty(t, found, "plaintext secrets in the state")
	t.Logf("searched the state for %d secret values (%d strings)", len(secrets), checked)
}
