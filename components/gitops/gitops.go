// Package gitops is Argo CD on one cluster and its root application: the
// app-of-apps that syncs everything else from a Git repository path, with
// automatic sync, self-heal, prune and a revision history for rollback.
//
// Each cluster runs its own Argo CD (see the README): when DigitalOcean is
// down the on-prem cluster still reconciles from Git.
package gitops

import (
	"errors"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/kube"
	"github.com/hybridcloud/platform/internal/versions"
)

// Names fixed by this component.
const (
	Release         = "argocd"
	RootApplication = "root"
	// ApplicationAPI is the API version of Argo CD's Application kind.
	ApplicationAPI = "argoproj.io/v1alpha1"
	// InClusterServer is how Argo CD names the cluster it runs in.
	InClusterServer = "https://kubernetes.default.svc"
)

// Args configures Argo CD.
type Args struct {
	// Namespace is where Argo CD runs; pass the namespace's output.
	Namespace pulumi.StringInput
	// ClusterName names this cluster in the UI and in notifications.
	ClusterName string
	Source      config.GitOps
	// RBAC maps the platform's groups onto Argo CD roles (effective once
	// Argo CD has SSO that sends groups).
	RBAC config.RBAC
	// After lists resources every child waits for, such as the
	// observability operator whose CRDs the chart's ServiceMonitors need.
	After []pulumi.Resource
}

// GitOps is the Argo CD component.
type GitOps struct {
	pulumi.ResourceState

	// RootApplication is the name of the app-of-apps.
	RootApplication pulumi.StringOutput `pulumi:"rootApplication"`
	// ServerURL is the in-cluster Argo CD API/UI address.
	ServerURL pulumi.StringOutput `pulumi:"serverUrl"`
}

func (a *Args) check() error {
	if a == nil || a.Namespace == nil || a.ClusterName == "" {
		return errors.New("gitops: namespace and cluster name are required")
	}
	if a.Source.RepoURL == "" || a.Source.Path == "" || a.Source.Revision == "" || a.Source.RevisionHistoryLimit < 1 {
		return errors.New("gitops: repository URL, path, revision and a revision history limit are required")
	}
	return nil
}

// NewGitOps declares Argo CD and the root application.
func NewGitOps(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*GitOps, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	g := &GitOps{}
	if err := ctx.RegisterComponentResource("hybrid:gitops:GitOps", name, g, opts...); err != nil {
		return nil, err
	}
	// Every child is parented here and waits for args.After.
	child := pulumi.Composite(pulumi.Parent(g), pulumi.DependsOn(args.After))
	chart, err := kube.Chart(ctx, Release, versions.ArgoCD, args.Namespace, argoValues(args), child)
	if err != nil {
		return nil, err
	}
	root, err := kube.CustomResource(ctx, "root-application", ApplicationAPI, "Application",
		kube.Meta(RootApplication, args.Namespace, nil), map[string]any{"spec": rootSpec(args)},
		child, pulumi.DependsOn([]pulumi.Resource{chart})) // the Application CRD comes with the chart
	if err != nil {
		return nil, err
	}
	g.RootApplication = root.Metadata.Name().Elem()
	g.ServerURL = pulumi.Sprintf("https://%s-server.%s.svc", Release, args.Namespace)
	if err := ctx.RegisterResourceOutputs(g, pulumi.Map{
		"rootApplication": g.RootApplication,
		"serverUrl":       g.ServerURL,
	}); err != nil {
		return nil, err
	}
	return g, nil
}

// argoValues are the argo-cd chart values.
//
// helm/v4 renders the chart without running hooks. argo-cd has one: the
// redis-secret-init Job (pre-install) that creates the Redis password
// Secret. Rendered as a plain Job it still runs once, before Redis can start
// (Redis waits for the Secret), and it is idempotent when a chart upgrade
// replaces it. The CRDs are plain templates (crds.install) kept on delete.
func argoValues(a *Args) map[string]any {
	var policy []string
	for _, g := range a.RBAC.PlatformAdmins.Groups {
		policy = append(policy, "g, "+g+", role:admin")
	}
	for _, g := range a.RBAC.Developers.Groups {
		policy = append(policy, "g, "+g+", role:readonly")
	}
	return map[string]any{
		"fullnameOverride": Release,
		"crds":             map[string]any{"install": true, "keep": true},
		"configs": map[string]any{
			"cm": map[string]any{
				"timeout.reconciliation": "180s",
				"exec.enabled":           false,
			},
			"rbac": map[string]any{
				"policy.default": "role:readonly",
				"policy.csv":     strings.Join(policy, "\n"),
			},
		},
		"global": map[string]any{
			"addPrometheusAnnotations": false,
			"additionalLabels":         map[string]any{"hybrid-platform/cluster": a.ClusterName},
		},
		"controller": map[string]any{"metrics": map[string]any{"enabled": true, "serviceMonitor": map[string]any{"enabled": true}}},
		"server":     map[string]any{"metrics": map[string]any{"enabled": true, "serviceMonitor": map[string]any{"enabled": true}}},
		"repoServer": map[string]any{"metrics": map[string]any{"enabled": true, "serviceMonitor": map[string]any{"enabled": true}}},
		"dex":        map[string]any{"enabled": false},
	}
}

// rootSpec is the app-of-apps: automated sync with prune and self-heal, and
// revisionHistoryLimit synced revisions kept for argocd app rollback.
// There is no resources finalizer: deleting the root application (or this
// stack) must not cascade into deleting every workload it created.
func rootSpec(a *Args) map[string]any {
	return map[string]any{
		"project": "default",
		"source": map[string]any{
			"repoURL":        a.Source.RepoURL,
			"path":           a.Source.Path,
			"targetRevision": a.Source.Revision,
		},
		"destination": map[string]any{
			"server":    InClusterServer,
			"namespace": a.Namespace,
		},
		"revisionHistoryLimit": a.Source.RevisionHistoryLimit,
		"syncPolicy": map[string]any{
			"automated": map[string]any{"prune": true, "selfHeal": true, "allowEmpty": false},
			"syncOptions": []any{
				"PrunePropagationPolicy=foreground",
				"PruneLast=true",
			},
			"retry": map[string]any{
				"limit":   5,
				"backoff": map[string]any{"duration": "10s", "factor": 2, "maxDuration": "3m"},
			},
		},
	}
}
