package ingress

import (
	"fmt"

	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/kube"
)

// Route publishes one in-cluster UI at a public hostname. The hostname is
// gated by Cloudflare Access at the edge (components/failover); the route is
// only reachable through Cloudflare (the DO load balancer admits only
// Cloudflare's ranges; on-prem, the router forwards 443 of the public
// address).
type Route struct {
	Name      string // e.g. grafana
	Host      string
	Namespace pulumi.StringInput
	Service   string
	Port      int
}

// Traefik's annotations for a standard Ingress (traefik chart 41.3.0,
// Traefik v3 kubernetesIngress provider): serve the route on the websecure
// entry point only, with TLS (the default TLS store holds the origin
// certificate). unverified: the annotation keys are Traefik's documented
// router annotations; the render test renders the chart, not these objects.
var routeAnnotations = map[string]string{
	"traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
	"traefik.ingress.kubernetes.io/router.tls":         "true",
}

func routes(ctx *pulumi.Context, rs []Route, opts ...pulumi.ResourceOption) error {
	for _, r := range rs {
		if r.Name == "" || r.Host == "" || r.Namespace == nil || r.Service == "" || r.Port < 1 {
			return fmt.Errorf("ingress: route %q needs a name, host, namespace, service and port", r.Name)
		}
		meta := kube.Meta(r.Name, r.Namespace, map[string]string{"hybrid-platform/published-ui": r.Name})
		meta.Annotations = pulumi.ToStringMap(routeAnnotations)
		if _, err := networkingv1.NewIngress(ctx, "ui-"+r.Name, &networkingv1.IngressArgs{
			Metadata: meta,
			Spec: &networkingv1.IngressSpecArgs{
				IngressClassName: pulumi.String(ClassName),
				Rules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{
					Host: pulumi.String(r.Host),
					Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{networkingv1.HTTPIngressPathArgs{
						Path: pulumi.String("/"), PathType: pulumi.String("Prefix"),
						Backend: networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
							Name: pulumi.String(r.Service),
							Port: &networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(r.Port)},
						}},
					}}},
				}},
			},
		}, opts...); err != nil {
			return err
		}
	}
	return nil
}
