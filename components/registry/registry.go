// Package registry is the PullSecret component: application namespaces on
// the Talos cluster, each with a pull secret for the DO container registry.
// The credentials are read-only and come from the prod stack.
package registry

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/argcheck"
)

// PullSecret is the registry pull secret in each application namespace.
type PullSecret struct {
	pulumi.ResourceState

	// Name is the Secret's name: workloads list it in imagePullSecrets.
	Name pulumi.StringOutput `pulumi:"name"`
	// Namespaces holds a copy of the secret each.
	Namespaces pulumi.StringArrayOutput `pulumi:"namespaces"`
}

// Args configures a PullSecret.
type Args struct {
	Provider *kubernetes.Provider
	// SecretName is the Secret's name in every namespace.
	SecretName string
	// Namespaces are created by this component.
	Namespaces []string
	// Namespace resolves a namespace name to the output of the namespace
	// resource that holds it (the platform baseline creates them), so each
	// Secret waits for its namespace.
	Namespace func(name string) pulumi.StringOutput
	// DockerConfig is the .dockerconfigjson document (secret).
	DockerConfig pulumi.StringInput
}

func (a *Args) check() error {
	if a == nil {
		return argcheck.Nil("registry")
	}
	e := argcheck.For("registry")
	e.Required("Provider", a.Provider == nil)
	e.Required("SecretName", a.SecretName == "")
	e.RequiredFor("Namespaces", len(a.Namespaces) == 0, "(at least one)")
	e.Required("Namespace", a.Namespace == nil)
	e.Required("DockerConfig", a.DockerConfig == nil)
	return e.Err()
}

// Type is the component's type token.
const Type = "hybrid:registry:PullSecret"

// New declares the namespaces and their pull secrets.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*PullSecret, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	p := &PullSecret{}
	if err := ctx.RegisterComponentResource(Type, name, p, opts...); err != nil {
		return nil, err
	}
	k8s := []pulumi.ResourceOption{pulumi.Parent(p), pulumi.Provider(args.Provider)}
	docker := pulumi.ToSecret(args.DockerConfig).(pulumi.StringOutput)
	var namespaces pulumi.StringArray
	for _, n := range args.Namespaces {
		ns := args.Namespace(n)
		_, err := corev1.NewSecret(ctx, n+"-"+args.SecretName, &corev1.SecretArgs{
			Metadata: metav1.ObjectMetaArgs{
				Name:      pulumi.String(args.SecretName),
				Namespace: ns,
			},
			Type:       pulumi.String("kubernetes.io/dockerconfigjson"),
			StringData: pulumi.StringMap{".dockerconfigjson": docker},
		}, k8s...)
		if err != nil {
			return nil, err
		}
		namespaces = append(namespaces, ns)
	}
	p.Name = pulumi.String(args.SecretName).ToStringOutput()
	p.Namespaces = namespaces.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(p, pulumi.Map{"name": p.Name, "namespaces": p.Namespaces}); err != nil {
		return nil, err
	}
	return p, nil
}
