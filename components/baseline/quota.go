package baseline

import (
	"strconv"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/kube"
)

// quota caps an application namespace (ResourceQuota) and gives its
// containers defaults and a ceiling (LimitRange), so that a pod without
// resources still fits the quota and HPA has requests to scale on.
func quota(ctx *pulumi.Context, app config.AppNamespace, ns pulumi.StringInput, opts ...pulumi.ResourceOption) error {
	q, l := app.Quota, app.Limits
	_, err := corev1.NewResourceQuota(ctx, app.Name+"-quota", &corev1.ResourceQuotaArgs{
		Metadata: kube.Meta("quota", ns, nil),
		Spec: &corev1.ResourceQuotaSpecArgs{Hard: pulumi.StringMap{
			"requests.cpu":           pulumi.String(q.RequestsCPU),
			"requests.memory":        pulumi.String(q.RequestsMemory),
			"limits.cpu":             pulumi.String(q.LimitsCPU),
			"limits.memory":          pulumi.String(q.LimitsMemory),
			"requests.storage":       pulumi.String(q.RequestsStorage),
			"pods":                   pulumi.String(strconv.Itoa(q.Pods)),
			"persistentvolumeclaims": pulumi.String(strconv.Itoa(q.PersistentVolumeClaims)),
		}},
	}, opts...)
	if err != nil {
		return err
	}
	_, err = corev1.NewLimitRange(ctx, app.Name+"-limits", &corev1.LimitRangeArgs{
		Metadata: kube.Meta("limits", ns, nil),
		Spec: &corev1.LimitRangeSpecArgs{Limits: corev1.LimitRangeItemArray{corev1.LimitRangeItemArgs{
			Type:           pulumi.String("Container"),
			DefaultRequest: pulumi.StringMap{"cpu": pulumi.String(l.DefaultRequestCPU), "memory": pulumi.String(l.DefaultRequestMemory)},
			Default:        pulumi.StringMap{"cpu": pulumi.String(l.DefaultCPU), "memory": pulumi.String(l.DefaultMemory)},
			Max:            pulumi.StringMap{"cpu": pulumi.String(l.MaxCPU), "memory": pulumi.String(l.MaxMemory)},
		}}},
	}, opts...)
	return err
}
