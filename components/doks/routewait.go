package doks

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/clusterapi"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/versions"
)

// RouteCRDWaitJob names the Job that waits for the routing agent's Route CRD.
const RouteCRDWaitJob = "route-crd-wait"

// routeAPI is the Route kind the DOKS routing agent serves (internal/clusterapi).
func routeAPI() (clusterapi.API, error) {
	for _, a := range clusterapi.For(config.ClusterDOKS) {
		if a.Kind == "Route" {
			return a, nil
		}
	}
	return clusterapi.API{}, fmt.Errorf("doks: internal/clusterapi lists no Route kind for DOKS")
}

// RouteCRDName is the name of the Route CustomResourceDefinition: plural and
// group. unverified: the plural "routes" follows the Kubernetes convention
// (lowercase kind plus s); DigitalOcean does not publish the CRD, and a
// cluster settles it with `kubectl get crd | grep doks`.
func RouteCRDName(a clusterapi.API) string {
	group := a.APIVersion[:strings.LastIndex(a.APIVersion, "/")]
	return strings.ToLower(a.Kind) + "s." + group
}

// newRouteCRDWait waits, inside the cluster, until the Route CRD exists and
// is established. The routing agent installs it some time after the cluster
// is created, so on a first `up` a Route declared at once fails with "no
// matches for kind Route". The Job's init container waits for the CRD to be
// created, its container for the Established condition; pulumi-kubernetes
// awaits a Job until it is Complete (checked: pulumi-kubernetes provider
// pkg/await/job.go, default 10 minutes, raised here by CustomTimeouts).
// Objects of the kind depend on the returned Job.
func newRouteCRDWait(ctx *pulumi.Context, name string, provider *kubernetes.Provider, parent pulumi.ResourceOption) (pulumi.Resource, error) {
	api, err := routeAPI()
	if err != nil {
		return nil, err
	}
	crd := "crd/" + RouteCRDName(api)
	opts := []pulumi.ResourceOption{parent, pulumi.Provider(provider)}
	meta := &metav1.ObjectMetaArgs{Name: pulumi.String(RouteCRDWaitJob), Namespace: pulumi.String("kube-system")}
	sa, err := corev1.NewServiceAccount(ctx, name+"-route-crd-wait", &corev1.ServiceAccountArgs{Metadata: meta}, opts...)
	if err != nil {
		return nil, err
	}
	// kubectl wait gets, lists and watches the CRD, nothing else.
	role, err := rbacv1.NewClusterRole(ctx, name+"-route-crd-wait", &rbacv1.ClusterRoleArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(RouteCRDWaitJob)},
		Rules: rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.StringArray{pulumi.String("apiextensions.k8s.io")},
			Resources: pulumi.StringArray{pulumi.String("customresourcedefinitions")},
			Verbs:     pulumi.ToStringArray([]string{"get", "list", "watch"}),
		}},
	}, opts...)
	if err != nil {
		return nil, err
	}
	binding, err := rbacv1.NewClusterRoleBinding(ctx, name+"-route-crd-wait", &rbacv1.ClusterRoleBindingArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(RouteCRDWaitJob)},
		RoleRef: rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"),
			Name: role.Metadata.Name().Elem()},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{Kind: pulumi.String("ServiceAccount"),
			Name: sa.Metadata.Name().Elem(), Namespace: pulumi.String("kube-system")}},
	}, opts...)
	if err != nil {
		return nil, err
	}
	kubectl := func(cname string, args ...string) corev1.ContainerArgs {
		return corev1.ContainerArgs{
			Name:  pulumi.String(cname),
			Image: pulumi.String(versions.Kubectl.Ref()),
			Args:  pulumi.ToStringArray(args),
			SecurityContext: &corev1.SecurityContextArgs{
				RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(65534),
				AllowPrivilegeEscalation: pulumi.Bool(false), ReadOnlyRootFilesystem: pulumi.Bool(true),
				Capabilities:   &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
				SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
			},
			Resources: &corev1.ResourceRequirementsArgs{
				Requests: pulumi.StringMap{"cpu": pulumi.String("10m"), "memory": pulumi.String("32Mi")},
				Limits:   pulumi.StringMap{"memory": pulumi.String("64Mi")},
			},
		}
	}
	return batchv1.NewJob(ctx, name+"-route-crd-wait", &batchv1.JobArgs{
		Metadata: meta,
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(3),
			ActiveDeadlineSeconds: pulumi.Int(20 * 60),
			Template: &corev1.PodTemplateSpecArgs{
				Spec: &corev1.PodSpecArgs{
					ServiceAccountName: sa.Metadata.Name().Elem(),
					RestartPolicy:      pulumi.String("Never"),
					InitContainers: corev1.ContainerArray{
						kubectl("created", "wait", "--for=create", crd, "--timeout=15m"),
					},
					Containers: corev1.ContainerArray{
						kubectl("established", "wait", "--for=condition=Established", crd, "--timeout=2m"),
					},
				},
			},
		},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{binding}),
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "25m", Update: "25m"}))...)
}
