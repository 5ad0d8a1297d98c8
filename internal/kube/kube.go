// Package kube holds the small helpers the platform components share to
// declare Kubernetes objects: pinned helm/v4 charts, object metadata, custom
// resources and secrets. It imports only the lean Kubernetes SDK packages
// (helm/v4, meta/v1, core/v1, apiextensions): never kubernetes/yaml or
// helm/v3, which pull in every API group.
package kube

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/versions"
)

// ManagedBy labels every object the platform layer declares directly.
var ManagedBy = map[string]string{"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "hybrid-platform"}

// Meta returns object metadata with the managed-by labels plus extra labels.
// namespace may be nil for cluster-scoped objects.
func Meta(name string, namespace pulumi.StringInput, labels map[string]string) *metav1.ObjectMetaArgs {
	all := pulumi.StringMap{}
	for k, v := range ManagedBy {
		all[k] = pulumi.String(v)
	}
	for k, v := range labels {
		all[k] = pulumi.String(v)
	}
	m := &metav1.ObjectMetaArgs{Name: pulumi.String(name), Labels: all}
	if namespace != nil {
		m.Namespace = namespace
	}
	return m
}

// Chart installs a pinned chart with helm/v4 Chart (rendered by Pulumi, no
// Helm hooks run: docs/decisions/helm-v4-chart.md says what each chart
// needs instead). The release name is the resource name. Values are plain
// Go data; Pulumi outputs inside them are resolved, and the chart waits on
// them. Pass the pin through versions.Chart.From(platform.chartRepository)
// so that an air-gapped site's repository replaces the upstream one.
func Chart(ctx *pulumi.Context, name string, c versions.Chart, namespace pulumi.StringInput, values map[string]any,
	opts ...pulumi.ResourceOption) (*helmv4.Chart, error) {
	return helmv4.NewChart(ctx, name, &helmv4.ChartArgs{
		Chart:          pulumi.String(c.Name),
		Version:        pulumi.String(c.Version),
		RepositoryOpts: &helmv4.RepositoryOptsArgs{Repo: pulumi.String(c.Repo)},
		Name:           pulumi.String(name),
		Namespace:      namespace,
		Values:         pulumi.ToMap(values),
	}, opts...)
}

// CustomResource declares an object of a CRD-defined kind; fields are the
// top-level fields other than apiVersion, kind and metadata (usually spec).
func CustomResource(ctx *pulumi.Context, name, apiVersion, kind string, meta *metav1.ObjectMetaArgs, fields map[string]any,
	opts ...pulumi.ResourceOption) (*apiextensions.CustomResource, error) {
	return apiextensions.NewCustomResource(ctx, name, &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(apiVersion),
		Kind:        pulumi.String(kind),
		Metadata:    meta,
		OtherFields: fields,
	}, opts...)
}

// Secret declares an Opaque (or typed) Secret whose values are Pulumi
// secrets, whatever their source marked them.
func Secret(ctx *pulumi.Context, name string, namespace pulumi.StringInput, typ string, data pulumi.StringMap,
	opts ...pulumi.ResourceOption) (*corev1.Secret, error) {
	return corev1.NewSecret(ctx, name, &corev1.SecretArgs{
		Metadata:   Meta(name, namespace, nil),
		Type:       pulumi.String(typ),
		StringData: pulumi.ToSecret(data).(pulumi.StringMapOutput),
	}, opts...)
}

// Strings converts a Go string slice to chart-value data.
func Strings(in []string) []any {
	out := make([]any, len(in))
	for i, s := range in {
		out[i] = s
	}
	return out
}
