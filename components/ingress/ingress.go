// Package ingress is the ingress controller of one cluster, the first hop
// of the request path Cloudflare -> ingress -> service -> pod. Traefik
// terminates TLS with the Cloudflare Origin CA certificate (so Cloudflare
// can run in strict mode) and routes standard Ingress objects.
//
// The LoadBalancer Service is declared here, not by the chart, so that its
// address can be read and exported: it is the failover origin. On DOKS a
// DigitalOcean load balancer fronts it and admits only Cloudflare; on Talos
// Cilium LB-IPAM assigns the configured address and announces it on the LAN
// with ARP (L2 announcements), and the on-prem router forwards 443 to it.
package ingress

import (
	"net/netip"
	"slices"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/argcheck"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/kube"
	"github.com/hybridcloud/platform/internal/versions"
)

// Names fixed by this component.
const (
	Release       = "traefik"
	ServiceName   = "traefik-lb"
	TLSSecretName = "origin-tls"
	ClassName     = "traefik"
	// ServiceLabel marks the Service the Cilium pool and policy serve.
	ServiceLabel = "hybrid-platform/ingress"
	// CiliumLBIPAMAnnotation asks Cilium LB-IPAM for a specific address.
	CiliumLBIPAMAnnotation = "lbipam.cilium.io/ips"
	// CiliumPoolAPI is CiliumLoadBalancerIPPool's API version (v2 since
	// Cilium 1.18); CiliumL2PolicyAPI is CiliumL2AnnouncementPolicy's.
	CiliumPoolAPI     = "cilium.io/v2"
	CiliumL2PolicyAPI = "cilium.io/v2alpha1"
)

// PodLabels select the controller's pods (the chart's labels, with the
// instance label pinned by instanceLabelOverride).
var PodLabels = map[string]string{"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": Release}

// Args configures the ingress controller.
type Args struct {
	// Kind is config.ClusterDOKS or config.ClusterTalos.
	Kind string
	// ClusterName names the DO load balancer.
	ClusterName string
	// Namespace is where the controller runs; pass the namespace's output.
	Namespace pulumi.StringInput
	Settings  config.Ingress
	// OriginCertificate and OriginKey are the PEM Origin CA certificate and
	// its key (secrets from config: stable across runs).
	OriginCertificate pulumi.StringInput
	OriginKey         pulumi.StringInput
	// PublicAddress is the address Cloudflare reaches the origin at when it
	// differs from the load balancer's (Talos: the router's public IP that
	// forwards 443). Empty on DOKS: the load balancer IP is public.
	PublicAddress string
	// L2Interfaces are the node NICs Cilium announces the address on (Talos).
	L2Interfaces []string
	// After lists resources every child waits for, such as the
	// monitoring CRDs the chart's ServiceMonitors need.
	After []pulumi.Resource
	// ChartRepository, when set, is the one Helm repository every chart
	// comes from (platform.chartRepository); empty means upstream.
	ChartRepository string
	// Routes publish platform UIs (edge.uis) through the controller.
	Routes []Route
}

// Ingress is the ingress component.
type Ingress struct {
	pulumi.ResourceState

	// LoadBalancerAddress is the Service's load-balancer IP.
	LoadBalancerAddress pulumi.StringOutput `pulumi:"loadBalancerAddress"`
	// PublicAddress is the origin address for Cloudflare.
	PublicAddress pulumi.StringOutput `pulumi:"publicAddress"`
	// ClassName is the IngressClass apps use.
	ClassName pulumi.StringOutput `pulumi:"className"`
}

func (a *Args) check() error {
	if a == nil {
		return argcheck.Nil("ingress")
	}
	e := argcheck.For("ingress")
	e.OneOf("Kind", a.Kind, config.ClusterDOKS, config.ClusterTalos)
	switch a.Kind {
	case config.ClusterDOKS:
		e.RequiredFor("Settings.CloudflareCidrs", len(a.Settings.CloudflareCidrs) == 0, "on DOKS, for the load balancer's source allow-list")
	case config.ClusterTalos:
		e.RequiredFor("Settings.LoadBalancerIP", !a.Settings.LoadBalancerIP.IsValid(), "on Talos")
		e.RequiredFor("PublicAddress", a.PublicAddress == "", "on Talos")
		e.RequiredFor("L2Interfaces", len(a.L2Interfaces) == 0, "on Talos, to announce the load-balancer IP on")
	}
	e.Required("ClusterName", a.ClusterName == "")
	e.Required("Namespace", a.Namespace == nil)
	e.Required("OriginCertificate", a.OriginCertificate == nil)
	e.Required("OriginKey", a.OriginKey == nil)
	if a.Settings.Replicas < 1 {
		e.Invalid("Settings.Replicas", "at least 1, got %d", a.Settings.Replicas)
	}
	return e.Err()
}

// Type is the component's type token.
const Type = "hybrid:ingress:Ingress"

// New declares the origin TLS Secret, the controller, its
// LoadBalancer Service and, on Talos, the Cilium address pool and L2 policy.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Ingress, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	in := &Ingress{}
	if err := ctx.RegisterComponentResource(Type, name, in, opts...); err != nil {
		return nil, err
	}
	// Every child is parented here and waits for args.After.
	child := pulumi.Composite(pulumi.Parent(in), pulumi.DependsOn(args.After))
	tls, err := kube.Secret(ctx, TLSSecretName, args.Namespace, "kubernetes.io/tls", pulumi.StringMap{
		"tls.crt": args.OriginCertificate,
		"tls.key": args.OriginKey,
	}, child)
	if err != nil {
		return nil, err
	}
	chart, err := kube.Chart(ctx, Release, versions.Traefik.From(args.ChartRepository), args.Namespace, traefikValues(args), child,
		pulumi.DependsOn([]pulumi.Resource{tls}))
	if err != nil {
		return nil, err
	}
	deps := []pulumi.Resource{chart}
	if args.Kind == config.ClusterTalos {
		l2, err := ciliumAnnouncement(ctx, args, child)
		if err != nil {
			return nil, err
		}
		deps = append(deps, l2...)
	}
	svc, err := corev1.NewService(ctx, ServiceName, serviceArgs(args), child, pulumi.DependsOn(deps))
	if err != nil {
		return nil, err
	}
	// The routes need the IngressClass the chart creates.
	if err := routes(ctx, args.Routes, child, pulumi.DependsOn([]pulumi.Resource{chart})); err != nil {
		return nil, err
	}
	ingresses := svc.Status.LoadBalancer().Ingress()
	in.LoadBalancerAddress = ingresses.Index(pulumi.Int(0)).Ip().Elem()
	if args.PublicAddress != "" {
		in.PublicAddress = pulumi.String(args.PublicAddress).ToStringOutput()
	} else {
		in.PublicAddress = in.LoadBalancerAddress
	}
	in.ClassName = pulumi.String(ClassName).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(in, pulumi.Map{
		"loadBalancerAddress": in.LoadBalancerAddress,
		"publicAddress":       in.PublicAddress,
		"className":           in.ClassName,
	}); err != nil {
		return nil, err
	}
	return in, nil
}

// serviceArgs is the LoadBalancer Service for TCP 443 only: Cloudflare
// always connects over HTTPS in strict mode, so plain HTTP is not exposed.
func serviceArgs(a *Args) *corev1.ServiceArgs {
	annotations := map[string]string{}
	spec := &corev1.ServiceSpecArgs{
		Type:                  pulumi.String("LoadBalancer"),
		Selector:              pulumi.ToStringMap(PodLabels),
		ExternalTrafficPolicy: pulumi.String("Cluster"),
		Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
			Name: pulumi.String("websecure"), Protocol: pulumi.String("TCP"),
			Port: pulumi.Int(443), TargetPort: pulumi.String("websecure"),
		}},
	}
	switch a.Kind {
	case config.ClusterDOKS:
		// TCP passthrough: Traefik, not the DO load balancer, terminates
		// TLS with the origin certificate. The source ranges become the load
		// balancer's firewall: only Cloudflare's edge may connect.
		annotations["service.beta.kubernetes.io/do-loadbalancer-name"] = a.ClusterName + "-ingress"
		annotations["service.beta.kubernetes.io/do-loadbalancer-protocol"] = "tcp"
		annotations["service.beta.kubernetes.io/do-loadbalancer-healthcheck-protocol"] = "tcp"
		spec.LoadBalancerSourceRanges = pulumi.ToStringArray(config.Strings(a.Settings.CloudflareCidrs))
	case config.ClusterTalos:
		annotations[CiliumLBIPAMAnnotation] = a.Settings.LoadBalancerIP.String()
	}
	meta := kube.Meta(ServiceName, a.Namespace, map[string]string{ServiceLabel: "true"})
	meta.Annotations = pulumi.ToStringMap(annotations)
	return &corev1.ServiceArgs{Metadata: meta, Spec: spec}
}

// ciliumAnnouncement declares the one-address pool the ingress Service draws
// from and the policy that answers ARP for it from the worker nodes.
func ciliumAnnouncement(ctx *pulumi.Context, a *Args, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	selector := map[string]any{"matchLabels": map[string]any{ServiceLabel: "true"}}
	pool, err := kube.CustomResource(ctx, "ingress-pool", CiliumPoolAPI, "CiliumLoadBalancerIPPool",
		kube.Meta("ingress", nil, nil), map[string]any{"spec": map[string]any{
			"blocks":          []any{map[string]any{"cidr": netip.PrefixFrom(a.Settings.LoadBalancerIP, 32).String()}},
			"serviceSelector": selector,
		}}, opts...)
	if err != nil {
		return nil, err
	}
	var ifaces []string
	for _, i := range a.L2Interfaces {
		if re := "^" + i + "$"; !slices.Contains(ifaces, re) {
			ifaces = append(ifaces, re)
		}
	}
	policy, err := kube.CustomResource(ctx, "ingress-l2", CiliumL2PolicyAPI, "CiliumL2AnnouncementPolicy",
		kube.Meta("ingress", nil, nil), map[string]any{"spec": map[string]any{
			"serviceSelector": selector,
			// Workers carry the traffic; control-plane nodes keep the VIP.
			"nodeSelector": map[string]any{"matchExpressions": []any{map[string]any{
				"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist",
			}}},
			"interfaces":      kube.Strings(ifaces),
			"loadBalancerIPs": true,
			"externalIPs":     false,
		}}, opts...)
	if err != nil {
		return nil, err
	}
	return []pulumi.Resource{pool, policy}, nil
}

// traefikValues are the traefik chart values. The chart has no Helm hooks;
// its CRDs come from crds/, which helm/v4 installs.
func traefikValues(a *Args) map[string]any {
	return map[string]any{
		"instanceLabelOverride": Release,
		"deployment":            map[string]any{"replicas": a.Settings.Replicas},
		"podDisruptionBudget":   map[string]any{"enabled": true, "minAvailable": 1},
		"service":               map[string]any{"enabled": false}, // declared by this component
		"ingressClass":          map[string]any{"enabled": true, "isDefaultClass": true, "name": ClassName},
		"providers": map[string]any{
			"kubernetesCRD": map[string]any{"enabled": true},
			"kubernetesIngress": map[string]any{
				"enabled": true,
				// Ingress status shows the load balancer's address.
				"publishedService": map[string]any{"enabled": true, "pathOverride": pulumi.Sprintf("%s/%s", a.Namespace, ServiceName)},
			},
		},
		"ports": map[string]any{
			"websecure": map[string]any{
				// The entry point's TLS block is ports.<name>.http.tls in
				// traefik 41.x; its values.schema.json rejects any other key
				// (additionalProperties: false), ports.websecure.tls included.
				"http": map[string]any{"tls": map[string]any{"enabled": true}},
				// Cloudflare's X-Forwarded-For carries the client address.
				"forwardedHeaders": map[string]any{"trustedIPs": kube.Strings(config.Strings(a.Settings.CloudflareCidrs))},
			},
		},
		// Every TLS connection without a more specific certificate gets the
		// origin certificate; TLS 1.2 is the floor, as on Cloudflare's side.
		"tlsStore":   map[string]any{"default": map[string]any{"defaultCertificate": map[string]any{"secretName": TLSSecretName}}},
		"tlsOptions": map[string]any{"default": map[string]any{"minVersion": "VersionTLS12"}},
		"podSecurityContext": map[string]any{
			"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
			"seccompProfile": map[string]any{"type": "RuntimeDefault"},
		},
		"metrics": map[string]any{"prometheus": map[string]any{
			"service":        map[string]any{"enabled": true},
			"serviceMonitor": map[string]any{"enabled": true},
		}},
		"global": map[string]any{"checkNewVersion": false, "sendAnonymousUsage": false},
	}
}
