package localcluster

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/hybridcloud/platform/internal/config"
)

// The load-balancer loop gives LoadBalancer Services an address, as the
// cluster's own controller would: on DOKS, DigitalOcean's cloud controller
// (which creates a DO load balancer and writes its public address); on Talos,
// Cilium's LB-IPAM (which takes the address from a CiliumLoadBalancerIPPool).
// Nothing is routed to that address: there are no load balancers and no
// containers.

// DOKSLoadBalancerRange is where the simulated DO load balancers' public
// addresses come from: TEST-NET-1 (RFC 5737), never a real address.
var DOKSLoadBalancerRange = netip.MustParsePrefix("192.0.2.0/24")

// Cilium LB-IPAM behaviour, as cilium v1.20.2 operator/pkg/lbipam implements
// it (checked: lbipam.go isResponsibleForSVC, getSVCRequestedIPs, the
// io.kubernetes.service.{name,namespace} selector labels in service_store.go,
// and the allowFirstLastIPs "No" rule in lbipam.go).
const (
	ciliumIPsAnnotation      = "lbipam.cilium.io/ips"
	ciliumIPsAnnotationAlias = "io.cilium/lb-ipam-ips"
	ciliumL2Class            = "io.cilium/l2-announcer"
	ciliumServiceName        = "io.kubernetes.service.name"
	ciliumServiceNamespace   = "io.kubernetes.service.namespace"
)

type service struct {
	Metadata struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Type              string  `json:"type"`
		LoadBalancerIP    string  `json:"loadBalancerIP"`
		LoadBalancerClass *string `json:"loadBalancerClass"`
	} `json:"spec"`
	Status struct {
		LoadBalancer struct {
			Ingress []struct {
				IP string `json:"ip"`
			} `json:"ingress"`
		} `json:"loadBalancer"`
	} `json:"status"`
}

type ipPool struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Disabled          bool   `json:"disabled"`
		AllowFirstLastIPs string `json:"allowFirstLastIPs"`
		Blocks            []struct {
			Cidr  string `json:"cidr"`
			Start string `json:"start"`
			Stop  string `json:"stop"`
		} `json:"blocks"`
		ServiceSelector *labelSelector `json:"serviceSelector"`
	} `json:"spec"`
}

type labelSelector struct {
	MatchLabels      map[string]string `json:"matchLabels"`
	MatchExpressions []struct {
		Key      string   `json:"key"`
		Operator string   `json:"operator"`
		Values   []string `json:"values"`
	} `json:"matchExpressions"`
}

// matches applies Kubernetes label-selector semantics; a nil selector
// matches everything.
func (s *labelSelector) matches(labels map[string]string) bool {
	if s == nil {
		return true
	}
	for k, v := range s.MatchLabels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, e := range s.MatchExpressions {
		v, ok := labels[e.Key]
		switch e.Operator {
		case "In":
			if !ok || !slices.Contains(e.Values, v) {
				return false
			}
		case "NotIn":
			if ok && slices.Contains(e.Values, v) {
				return false
			}
		case "Exists":
			if !ok {
				return false
			}
		case "DoesNotExist":
			if ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// ipRange is one block of a pool, first to last address inclusive.
type ipRange struct{ first, last netip.Addr }

func (r ipRange) contains(a netip.Addr) bool {
	return r.first.Compare(a) <= 0 && a.Compare(r.last) <= 0
}

func (p *ipPool) ranges() []ipRange {
	var out []ipRange
	for _, b := range p.Spec.Blocks {
		if b.Cidr != "" {
			pfx, err := netip.ParsePrefix(b.Cidr)
			if err != nil || !pfx.Addr().Is4() {
				continue
			}
			pfx = pfx.Masked()
			first := pfx.Addr()
			last := lastAddr(pfx)
			if p.Spec.AllowFirstLastIPs == "No" {
				first, last = first.Next(), last.Prev()
			}
			if first.IsValid() && last.IsValid() && first.Compare(last) <= 0 {
				out = append(out, ipRange{first, last})
			}
			continue
		}
		first, err1 := netip.ParseAddr(b.Start)
		last, err2 := netip.ParseAddr(b.Stop)
		if b.Stop == "" {
			last, err2 = first, nil
		}
		if err1 == nil && err2 == nil && first.Compare(last) <= 0 {
			out = append(out, ipRange{first, last})
		}
	}
	return out
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := 32 - p.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= uint32((uint64(1) << host) - 1)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// The collections the load-balancer loop reads.
const (
	servicesPath    = "/api/v1/services"
	ciliumPoolsPath = "/apis/cilium.io/v2/ciliumloadbalancerippools"
)

// loadBalancerCollections are what assignAddresses reads: the Services and,
// on Talos, Cilium's address pools (a pool added later serves a Service
// that waited for it).
func (c *Cluster) loadBalancerCollections() []string {
	if c.Kind == config.ClusterTalos {
		return []string{servicesPath, ciliumPoolsPath}
	}
	return []string{servicesPath}
}

// assignAddresses gives every LoadBalancer Service this cluster's
// controller is responsible for, and that has no address yet, one.
func (c *Cluster) assignAddresses(ctx context.Context) error {
	var list struct{ Items []service }
	if err := c.Client.Get(ctx, servicesPath, &list); err != nil {
		return err
	}
	used := map[netip.Addr]bool{}
	var pending []service
	for _, s := range list.Items {
		if s.Spec.Type != "LoadBalancer" {
			continue
		}
		if len(s.Status.LoadBalancer.Ingress) > 0 {
			for _, in := range s.Status.LoadBalancer.Ingress {
				if a, err := netip.ParseAddr(in.IP); err == nil {
					used[a] = true
				}
			}
			continue
		}
		pending = append(pending, s)
	}
	sort.Slice(pending, func(i, j int) bool {
		return pending[i].Metadata.Namespace+"/"+pending[i].Metadata.Name < pending[j].Metadata.Namespace+"/"+pending[j].Metadata.Name
	})
	var pools []ipPool
	if c.Kind == config.ClusterTalos && len(pending) > 0 {
		var pl struct{ Items []ipPool }
		if err := c.Client.Get(ctx, ciliumPoolsPath, &pl); err != nil {
			return err
		}
		pools = pl.Items
	}
	for _, s := range pending {
		var ip netip.Addr
		if c.Kind == config.ClusterTalos {
			ip = ciliumAddress(s, pools, used)
		} else {
			ip = doAddress(s, used)
		}
		if !ip.IsValid() {
			continue // as the real controller: no address it may give
		}
		used[ip] = true
		patch := map[string]any{"status": map[string]any{"loadBalancer": map[string]any{
			"ingress": []map[string]string{{"ip": ip.String()}},
		}}}
		path := fmt.Sprintf("/api/v1/namespaces/%s/services/%s/status", s.Metadata.Namespace, s.Metadata.Name)
		if err := c.Client.Do(ctx, http.MethodPatch, path, patch, nil, "application/merge-patch+json"); err != nil {
			return fmt.Errorf("service %s/%s: %w", s.Metadata.Namespace, s.Metadata.Name, err)
		}
		c.logf("service %s/%s: load balancer address %s", s.Metadata.Namespace, s.Metadata.Name, ip)
	}
	return nil
}

// doAddress is the next free address of DOKSLoadBalancerRange for a Service
// of the default class; a Service that names another class is another
// controller's (the Kubernetes cloud-provider service controller's rule).
func doAddress(s service, used map[netip.Addr]bool) netip.Addr {
	if s.Spec.LoadBalancerClass != nil {
		return netip.Addr{}
	}
	for a := DOKSLoadBalancerRange.Addr().Next(); DOKSLoadBalancerRange.Contains(a); a = a.Next() {
		if !used[a] {
			return a
		}
	}
	return netip.Addr{}
}

// ciliumAddress is the address LB-IPAM would give: the requested one
// (spec.loadBalancerIP or the lbipam.cilium.io/ips annotation) when an
// enabled pool that selects the Service holds it, else the first free
// address of such a pool.
func ciliumAddress(s service, pools []ipPool, used map[netip.Addr]bool) netip.Addr {
	if cls := s.Spec.LoadBalancerClass; cls != nil && *cls != ciliumL2Class {
		return netip.Addr{}
	}
	labels := map[string]string{}
	for k, v := range s.Metadata.Labels {
		labels[k] = v
	}
	labels[ciliumServiceName], labels[ciliumServiceNamespace] = s.Metadata.Name, s.Metadata.Namespace
	var ranges []ipRange
	for _, p := range pools {
		if !p.Spec.Disabled && p.Spec.ServiceSelector.matches(labels) {
			ranges = append(ranges, p.ranges()...)
		}
	}
	var requested []netip.Addr
	if a, err := netip.ParseAddr(s.Spec.LoadBalancerIP); err == nil {
		requested = append(requested, a)
	}
	ann := s.Metadata.Annotations[ciliumIPsAnnotation]
	if ann == "" {
		ann = s.Metadata.Annotations[ciliumIPsAnnotationAlias]
	}
	for _, f := range strings.Split(ann, ",") {
		if a, err := netip.ParseAddr(strings.TrimSpace(f)); err == nil {
			requested = append(requested, a)
		}
	}
	if len(requested) > 0 {
		for _, a := range requested {
			for _, r := range ranges {
				if r.contains(a) && !used[a] {
					return a
				}
			}
		}
		return netip.Addr{}
	}
	for _, r := range ranges {
		for a := r.first; a.IsValid() && r.contains(a); a = a.Next() {
			if !used[a] {
				return a
			}
		}
	}
	return netip.Addr{}
}
