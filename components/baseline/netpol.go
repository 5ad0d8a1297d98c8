package baseline

import (
	"fmt"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/kube"
)

// DNS is where cluster DNS runs on both DOKS and Talos (CoreDNS).
var DNS = Peer{Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}}

// DefaultDenyName is the name of the policy that denies all traffic in an
// application namespace; the other policies open the flows that must work.
const DefaultDenyName = "default-deny"

func selector(labels map[string]string) *metav1.LabelSelectorArgs {
	m := pulumi.StringMap{}
	for k, v := range labels {
		m[k] = pulumi.String(v)
	}
	return &metav1.LabelSelectorArgs{MatchLabels: m}
}

// peer selects labelled pods in a namespace, by the namespace's immutable
// kubernetes.io/metadata.name label.
func peer(p Peer) networkingv1.NetworkPolicyPeerArgs {
	return networkingv1.NetworkPolicyPeerArgs{
		NamespaceSelector: selector(map[string]string{"kubernetes.io/metadata.name": p.Namespace}),
		PodSelector:       selector(p.Labels),
	}
}

// networkPolicies makes an application namespace default-deny, then allows
// DNS, traffic within the namespace, the ingress controller in, Prometheus
// scraping in, and the configured egress destinations.
func networkPolicies(ctx *pulumi.Context, app config.AppNamespace, ns pulumi.StringInput, args *Args, opts ...pulumi.ResourceOption) error {
	all := &metav1.LabelSelectorArgs{}
	type policy struct {
		name    string
		types   []string
		ingress networkingv1.NetworkPolicyIngressRuleArray
		egress  networkingv1.NetworkPolicyEgressRuleArray
	}
	policies := []policy{
		{name: DefaultDenyName, types: []string{"Ingress", "Egress"}},
		{name: "allow-dns", types: []string{"Egress"}, egress: networkingv1.NetworkPolicyEgressRuleArray{
			networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{peer(DNS)},
				Ports: networkingv1.NetworkPolicyPortArray{
					networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("UDP"), Port: pulumi.Int(53)},
					networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(53)},
				},
			},
		}},
		{name: "allow-same-namespace", types: []string{"Ingress", "Egress"},
			ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
				From: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{PodSelector: all}},
			}},
			egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{PodSelector: all}},
			}},
		},
		{name: "allow-from-ingress", types: []string{"Ingress"}, ingress: networkingv1.NetworkPolicyIngressRuleArray{
			networkingv1.NetworkPolicyIngressRuleArgs{From: networkingv1.NetworkPolicyPeerArray{peer(args.IngressController)}},
		}},
		{name: "allow-prometheus-scrape", types: []string{"Ingress"}, ingress: networkingv1.NetworkPolicyIngressRuleArray{
			networkingv1.NetworkPolicyIngressRuleArgs{From: networkingv1.NetworkPolicyPeerArray{peer(args.Prometheus)}},
		}},
	}
	if len(app.Egress) > 0 {
		var rules networkingv1.NetworkPolicyEgressRuleArray
		for _, e := range app.Egress {
			var ports networkingv1.NetworkPolicyPortArray
			for _, p := range e.Ports {
				ports = append(ports, networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(p)})
			}
			rules = append(rules, networkingv1.NetworkPolicyEgressRuleArgs{
				To:    networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(e.CIDR.String())}}},
				Ports: ports,
			})
		}
		policies = append(policies, policy{name: "allow-egress", types: []string{"Egress"}, egress: rules})
	}
	for _, p := range policies {
		_, err := networkingv1.NewNetworkPolicy(ctx, fmt.Sprintf("%s-%s", app.Name, p.name), &networkingv1.NetworkPolicyArgs{
			Metadata: kube.Meta(p.name, ns, nil),
			Spec: &networkingv1.NetworkPolicySpecArgs{
				PodSelector: all,
				PolicyTypes: pulumi.ToStringArray(p.types),
				Ingress:     p.ingress,
				Egress:      p.egress,
			},
		}, opts...)
		if err != nil {
			return err
		}
	}
	return nil
}
