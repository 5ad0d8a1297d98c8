package baseline

import (
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/kube"
)

// Role names.
const (
	DeveloperRole   = "platform-developer-readonly"
	AdminBinding    = "platform-admins"
	ClusterAdmin    = "cluster-admin"
	readOnlyBinding = "platform-developers"
)

// readOnly is what developers may get, list and watch. Secrets are
// deliberately absent: reading a Secret is reading a credential.
var readOnly = []struct {
	group     string
	resources []string
}{
	{"", []string{"pods", "pods/log", "services", "endpoints", "configmaps", "events", "persistentvolumeclaims",
		"persistentvolumes", "namespaces", "nodes", "resourcequotas", "limitranges", "serviceaccounts", "replicationcontrollers"}},
	{"apps", []string{"deployments", "replicasets", "statefulsets", "daemonsets"}},
	{"batch", []string{"jobs", "cronjobs"}},
	{"autoscaling", []string{"horizontalpodautoscalers"}},
	{"networking.k8s.io", []string{"ingresses", "ingressclasses", "networkpolicies"}},
	{"discovery.k8s.io", []string{"endpointslices"}},
	{"policy", []string{"poddisruptionbudgets"}},
	{"storage.k8s.io", []string{"storageclasses"}},
	{"metrics.k8s.io", []string{"pods", "nodes"}},
	{"argoproj.io", []string{"applications", "appprojects"}},
	{"velero.io", []string{"backups", "schedules", "restores"}},
}

func subjects(s config.Subjects) rbacv1.SubjectArray {
	var out rbacv1.SubjectArray
	for _, g := range s.Groups {
		out = append(out, rbacv1.SubjectArgs{Kind: pulumi.String("Group"), ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Name: pulumi.String(g)})
	}
	for _, u := range s.Users {
		out = append(out, rbacv1.SubjectArgs{Kind: pulumi.String("User"), ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Name: pulumi.String(u)})
	}
	return out
}

// rbac declares the read-only developer role and the two cluster-wide
// bindings: developers to it, the platform group to cluster-admin.
func rbac(ctx *pulumi.Context, r config.RBAC, opts ...pulumi.ResourceOption) error {
	var rules rbacv1.PolicyRuleArray
	for _, g := range readOnly {
		rules = append(rules, rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.StringArray{pulumi.String(g.group)},
			Resources: pulumi.ToStringArray(g.resources),
			Verbs:     pulumi.ToStringArray([]string{"get", "list", "watch"}),
		})
	}
	role, err := rbacv1.NewClusterRole(ctx, DeveloperRole, &rbacv1.ClusterRoleArgs{
		Metadata: kube.Meta(DeveloperRole, nil, nil),
		Rules:    rules,
	}, opts...)
	if err != nil {
		return err
	}
	if devs := subjects(r.Developers); len(devs) > 0 {
		_, err = rbacv1.NewClusterRoleBinding(ctx, readOnlyBinding, &rbacv1.ClusterRoleBindingArgs{
			Metadata: kube.Meta(readOnlyBinding, nil, nil),
			RoleRef: rbacv1.RoleRefArgs{
				ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"),
				Name: role.Metadata.Name().Elem(),
			},
			Subjects: devs,
		}, opts...)
		if err != nil {
			return err
		}
	}
	_, err = rbacv1.NewClusterRoleBinding(ctx, AdminBinding, &rbacv1.ClusterRoleBindingArgs{
		Metadata: kube.Meta(AdminBinding, nil, nil),
		RoleRef: rbacv1.RoleRefArgs{
			ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"), Name: pulumi.String(ClusterAdmin),
		},
		Subjects: subjects(r.PlatformAdmins),
	}, opts...)
	return err
}
