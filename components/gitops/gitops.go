// Package gitops is Argo CD on one cluster and its root application: the
// app-of-apps that syncs everything else from a Git repository path, with
// automatic sync, self-heal, prune and a revision history for rollback.
//
// Each cluster runs its own Argo CD (docs/platform.md): when DigitalOcean is
// down the on-prem cluster still reconciles from Git.
package gitops

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/argcheck"
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
	// RedisSecret holds Redis's password under the key "auth". The chart
	// hard-codes both: templates/_helpers.tpl (argo-cd.redisPasswordSecretRef)
	// and templates/redis/deployment.yaml of argo-cd 10.1.1.
	RedisSecret = "argocd-redis"
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
	// RedisPassword is the password of Argo CD's Redis (a secret, stable
	// across runs): the program creates the argocd-redis Secret from it.
	RedisPassword pulumi.StringInput
	// After lists resources every child waits for, such as the
	// monitoring CRDs the chart's ServiceMonitors need.
	After []pulumi.Resource
	// ChartRepository, when set, is the one Helm repository every chart
	// comes from (platform.chartRepository); empty means upstream.
	ChartRepository string
	// PublicHost is the hostname the UI is published at behind Cloudflare
	// Access (edge.uis.argocd), or empty.
	PublicHost string
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
	if a == nil {
		return argcheck.Nil("gitops")
	}
	e := argcheck.For("gitops")
	e.Required("Namespace", a.Namespace == nil)
	e.Required("ClusterName", a.ClusterName == "")
	e.Required("Source.RepoURL", a.Source.RepoURL == "")
	e.Required("Source.Path", a.Source.Path == "")
	e.Required("Source.Revision", a.Source.Revision == "")
	if a.Source.RevisionHistoryLimit < 1 {
		e.Invalid("Source.RevisionHistoryLimit", "at least 1 (revisions kept for rollback), got %d", a.Source.RevisionHistoryLimit)
	}
	e.RequiredFor("RedisPassword", a.RedisPassword == nil, "(the argocd-redis Secret)")
	return e.Err()
}

// Type is the component's type token.
const Type = "hybrid:gitops:GitOps"

// New declares Argo CD and the root application.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*GitOps, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	g := &GitOps{}
	if err := ctx.RegisterComponentResource(Type, name, g, opts...); err != nil {
		return nil, err
	}
	// Every child is parented here and waits for args.After.
	child := pulumi.Composite(pulumi.Parent(g), pulumi.DependsOn(args.After))
	// The chart creates argocd-redis only in its redis-secret-init Job, a
	// pre-install/pre-upgrade hook that helm.sh/v4 Chart never runs; every
	// Argo CD component reads it, so the program creates it before the chart.
	redis, err := kube.Secret(ctx, RedisSecret, args.Namespace, "Opaque", pulumi.StringMap{"auth": args.RedisPassword}, child)
	if err != nil {
		return nil, err
	}
	chart, err := kube.Chart(ctx, Release, versions.ArgoCD.From(args.ChartRepository), args.Namespace, argoValues(args), child,
		pulumi.DependsOn([]pulumi.Resource{redis}))
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
	// Plain HTTP in the cluster: TLS ends at the ingress (server.insecure).
	g.ServerURL = pulumi.Sprintf("http://%s-server.%s.svc", Release, args.Namespace)
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
// helm/v4 renders the chart without hooks, and deploys no hook object at
// all (pulumi-kubernetes #3284). argo-cd's one hook is the redis-secret-init
// Job (pre-install, pre-upgrade), the only creator of the argocd-redis
// Secret that the server, repo-server, application-controller and Redis
// read. It is off here (redisSecretInit.enabled), and NewGitOps creates the
// Secret from secret config instead. The CRDs are plain templates
// (crds.install), kept on delete.
func argoValues(a *Args) map[string]any {
	var policy []string
	for _, g := range a.RBAC.PlatformAdmins.Groups {
		policy = append(policy, "g, "+g+", role:admin")
	}
	for _, g := range a.RBAC.Developers.Groups {
		policy = append(policy, "g, "+g+", role:readonly")
	}
	global := map[string]any{
		"addPrometheusAnnotations": false,
		"additionalLabels":         map[string]any{"hybrid-platform/cluster": a.ClusterName},
	}
	if a.PublicHost != "" {
		global["domain"] = a.PublicHost // the UI's external URL (argocd-cm url)
	}
	return map[string]any{
		"fullnameOverride": Release,
		"crds":             map[string]any{"install": true, "keep": true},
		"configs": map[string]any{
			// TLS ends at the ingress, which reaches the server over plain
			// HTTP: argo-cd 10.1.1 README, "SSL Termination at Ingress
			// Controller" (configs.params server.insecure: true).
			"params": map[string]any{"server.insecure": true},
			"cm": map[string]any{
				"timeout.reconciliation": "180s",
				"exec.enabled":           false,
			},
			"rbac": map[string]any{
				"policy.default": "role:readonly",
				"policy.csv":     strings.Join(policy, "\n"),
			},
		},
		"global":     global,
		"controller": map[string]any{"metrics": map[string]any{"enabled": true, "serviceMonitor": map[string]any{"enabled": true}}},
		"server":     map[string]any{"metrics": map[string]any{"enabled": true, "serviceMonitor": map[string]any{"enabled": true}}},
		"repoServer": map[string]any{"metrics": map[string]any{"enabled": true, "serviceMonitor": map[string]any{"enabled": true}}},
		"dex":        map[string]any{"enabled": false},
		// argocd-redis comes from the program (see above).
		"redisSecretInit": map[string]any{"enabled": false},
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
