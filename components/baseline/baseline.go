// Package baseline is the security baseline of a cluster: namespaces with
// Pod Security labels, default-deny NetworkPolicies with the flows that must
// work, RBAC for developers and platform admins, quotas and limit ranges per
// application namespace, and metrics-server where the cluster lacks it.
package baseline

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/argcheck"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/kube"
)

// Pod Security levels.
const (
	LevelPrivileged = "privileged"
	LevelBaseline   = "baseline"
	LevelRestricted = "restricted"
)

// NamespaceSpec is a platform namespace and the Pod Security level it
// enforces. Reason says why a namespace needs more than restricted.
type NamespaceSpec struct {
	Name        string
	PodSecurity string
	Reason      string
}

// Peer selects pods in another namespace by label.
type Peer struct {
	Namespace string
	Labels    map[string]string
}

// Args configures the baseline.
type Args struct {
	// Platform namespaces (monitoring, argocd, ...) with their levels.
	Platform []NamespaceSpec
	// Apps are the application namespaces: default-deny, quota, limits.
	Apps []config.AppNamespace
	RBAC config.RBAC
	// IngressController and Prometheus are the pods allowed into every
	// application namespace.
	IngressController Peer
	Prometheus        Peer
	MetricsServer     config.MetricsServer
	// SpacesHosts are the app bucket's Spaces endpoint names, opened to the
	// application namespaces with appBucket; required when one has it.
	SpacesHosts pulumi.StringArrayInput
	// ChartRepository, when set, is the one Helm repository every chart
	// comes from (platform.chartRepository); empty means upstream.
	ChartRepository string
	// After lists resources everything here waits for (e.g. the CNI): the
	// namespaces wait, and all namespaced objects wait for their namespace.
	After []pulumi.Resource
}

// Baseline is the security baseline component.
type Baseline struct {
	pulumi.ResourceState

	// NamespaceNames lists every namespace the baseline declares.
	NamespaceNames pulumi.StringArrayOutput `pulumi:"namespaceNames"`
	// AppNamespaces lists the application namespaces.
	AppNamespaces pulumi.StringArrayOutput `pulumi:"appNamespaces"`

	namespaces map[string]*corev1.Namespace
}

// Namespace returns the name of a declared namespace as an output that
// depends on it, so that whatever is placed in it waits for it.
func (b *Baseline) Namespace(name string) pulumi.StringOutput {
	ns, ok := b.namespaces[name]
	if !ok {
		panic("baseline: namespace " + name + " was not declared")
	}
	return ns.Metadata.Name().Elem()
}

func (a *Args) check() error {
	if a == nil {
		return argcheck.Nil("baseline")
	}
	e := argcheck.For("baseline")
	seen := map[string]bool{}
	for i, ns := range a.Platform {
		field := fmt.Sprintf("Platform[%d]", i)
		e.Required(field+".Name", ns.Name == "")
		e.OneOf(field+".PodSecurity", ns.PodSecurity, LevelPrivileged, LevelBaseline, LevelRestricted)
		below := ns.PodSecurity == LevelPrivileged || ns.PodSecurity == LevelBaseline
		e.RequiredFor(field+".Reason", below && ns.Reason == "", "for a "+ns.PodSecurity+" namespace")
		if seen[ns.Name] {
			e.Invalid(field+".Name", "namespace %q declared twice", ns.Name)
		}
		seen[ns.Name] = true
	}
	for i, app := range a.Apps {
		if seen[app.Name] {
			e.Invalid(fmt.Sprintf("Apps[%d].Name", i), "namespace %q collides with another namespace", app.Name)
		}
		seen[app.Name] = true
	}
	for _, app := range a.Apps {
		if app.AppBucket && a.SpacesHosts == nil {
			e.RequiredFor("SpacesHosts", true, "for app namespace "+app.Name+", which has appBucket")
			break
		}
	}
	e.Required("IngressController.Namespace", a.IngressController.Namespace == "")
	e.Required("Prometheus.Namespace", a.Prometheus.Namespace == "")
	return e.Err()
}

// Type is the component's type token; OldType the one it had, which
// existing stacks hold.
const (
	Type    = "hybrid:baseline:Baseline"
	OldType = "hybrid:platform:Baseline"
)

// New declares the security baseline.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Baseline, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	b := &Baseline{namespaces: map[string]*corev1.Namespace{}}
	opts = append(opts, pulumi.Aliases([]pulumi.Alias{{Type: pulumi.String(OldType)}}))
	if err := ctx.RegisterComponentResource(Type, name, b, opts...); err != nil {
		return nil, err
	}
	parent := []pulumi.ResourceOption{pulumi.Parent(b), pulumi.DependsOn(args.After)}

	var all, apps pulumi.StringArray
	for _, ns := range args.Platform {
		n, err := newNamespace(ctx, ns.Name, ns.PodSecurity, ns.PodSecurity, ns.Reason, map[string]string{"hybrid-platform/tier": "platform"}, parent...)
		if err != nil {
			return nil, err
		}
		b.namespaces[ns.Name] = n
		all = append(all, n.Metadata.Name().Elem())
	}
	for _, app := range args.Apps {
		// Workloads are warned and audited against restricted even where the
		// namespace enforces baseline, so that drift shows.
		n, err := newNamespace(ctx, app.Name, app.PodSecurity, LevelRestricted, "", map[string]string{"hybrid-platform/tier": "app"}, parent...)
		if err != nil {
			return nil, err
		}
		b.namespaces[app.Name] = n
		nsName := n.Metadata.Name().Elem()
		all = append(all, nsName)
		apps = append(apps, nsName)
		if err := networkPolicies(ctx, app, nsName, args, parent...); err != nil {
			return nil, err
		}
		if err := spacesEgress(ctx, app, nsName, args.SpacesHosts, parent...); err != nil {
			return nil, err
		}
		if err := quota(ctx, app, nsName, parent...); err != nil {
			return nil, err
		}
	}
	if err := rbac(ctx, args.RBAC, parent...); err != nil {
		return nil, err
	}
	if args.MetricsServer.Install {
		if err := metricsServer(ctx, args.MetricsServer, args.ChartRepository, parent...); err != nil {
			return nil, err
		}
	}
	b.NamespaceNames = all.ToStringArrayOutput()
	b.AppNamespaces = apps.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(b, pulumi.Map{
		"namespaceNames": b.NamespaceNames,
		"appNamespaces":  b.AppNamespaces,
	}); err != nil {
		return nil, err
	}
	return b, nil
}

// newNamespace declares a namespace with Pod Security Admission labels; a
// reason for a level below restricted is kept as an annotation.
func newNamespace(ctx *pulumi.Context, name, enforce, warn, reason string, labels map[string]string, opts ...pulumi.ResourceOption) (*corev1.Namespace, error) {
	l := map[string]string{
		"pod-security.kubernetes.io/enforce":         enforce,
		"pod-security.kubernetes.io/enforce-version": "latest",
		"pod-security.kubernetes.io/warn":            warn,
		"pod-security.kubernetes.io/audit":           warn,
	}
	for k, v := range labels {
		l[k] = v
	}
	meta := kube.Meta(name, nil, l)
	if reason != "" {
		meta.Annotations = pulumi.StringMap{"hybrid-platform/pod-security-reason": pulumi.String(reason)}
	}
	return corev1.NewNamespace(ctx, "ns-"+name, &corev1.NamespaceArgs{Metadata: meta}, opts...)
}
