// Package cost estimates a stack's monthly bill from the resources the mock
// cloud recorded and a price list kept as data (prices.json, with its date
// and source), never as constants in the logic.
package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/hybridcloud/platform/components/doks"
	"github.com/hybridcloud/platform/internal/mockcloud"
)

//go:embed prices.json
var pricesJSON []byte

// Prices is the price list.
type Prices struct {
	AsOf                      string             `json:"asOf"`
	Currency                  string             `json:"currency"`
	Source                    string             `json:"source"`
	HoursPerMonth             float64            `json:"hoursPerMonth"`
	Droplet                   map[string]float64 `json:"droplet"`
	DoksHAControlPlane        float64            `json:"doksHaControlPlane"`
	Database                  map[string]float64 `json:"database"`
	SpacesSubscription        float64            `json:"spacesSubscription"`
	RegistryTier              map[string]float64 `json:"registryTier"`
	LoadBalancer              float64            `json:"loadBalancer"`
	ReservedIPAssigned        float64            `json:"reservedIpAssigned"`
	VolumePerGiB              float64            `json:"volumePerGiB"`
	CloudflareLoadBalancer    float64            `json:"cloudflareLoadBalancer"`
	CloudflareExtraOrigin     float64            `json:"cloudflareExtraOrigin"`
	CloudflareIncludedOrigins int                `json:"cloudflareIncludedOrigins"`
	// CloudflareZonePlan prices the zone's plan (edge.zonePlan), which the
	// load balancer's monitor limits depend on; CloudflareZonePlanNote says
	// how far the prices are verified.
	CloudflareZonePlan         map[string]float64 `json:"cloudflareZonePlan"`
	CloudflareZonePlanNote     string             `json:"cloudflareZonePlanNote"`
	ManagedControlPlaneCompare struct {
		Name    string  `json:"name"`
		PerHour float64 `json:"perHour"`
	} `json:"managedControlPlaneComparison"`
}

// LoadPrices parses the embedded price list.
func LoadPrices() (*Prices, error) {
	var p Prices
	if err := json.Unmarshal(pricesJSON, &p); err != nil {
		return nil, fmt.Errorf("prices.json: %w", err)
	}
	return &p, nil
}

// Line is one billable item.
type Line struct {
	URN       string  `json:"urn"`
	Item      string  `json:"item"`
	Quantity  float64 `json:"quantity"`
	UnitPrice float64 `json:"unitPrice"`
	// Monthly is quantity x unit price at the minimum node counts;
	// MonthlyMax at full autoscale.
	Monthly    float64 `json:"monthly"`
	MonthlyMax float64 `json:"monthlyMax"`
}

// Estimate is a stack's monthly cost.
type Estimate struct {
	Currency string  `json:"currency"`
	AsOf     string  `json:"pricesAsOf"`
	Source   string  `json:"pricesSource"`
	Lines    []Line  `json:"lines"`
	Total    float64 `json:"total"`
	TotalMax float64 `json:"totalMax"`
	// ManagedControlPlaneDelta is what the same topology would cost more per month
	// on a managed control plane that charges for itself (e.g. EKS).
	ManagedControlPlaneDelta float64 `json:"managedControlPlaneDelta"`
	ManagedControlPlane      string  `json:"managedControlPlaneName"`
}

// Estimate prices every billable resource, and the Cloudflare zone's plan
// (zonePlan, edge.zonePlan; empty when the stack has no edge) with the load
// balancer. A size or plan with no price is an error, so the price list
// cannot silently fall behind the configuration.
func (p *Prices) Estimate(rs []*mockcloud.Resource, zonePlan string) (*Estimate, error) {
	e := &Estimate{Currency: p.Currency, AsOf: p.AsOf, Source: p.Source, Lines: []Line{}}
	add := func(r *mockcloud.Resource, item string, qty, qtyMax, unit float64) {
		e.Lines = append(e.Lines, Line{URN: r.URN, Item: item, Quantity: qty, UnitPrice: unit, Monthly: qty * unit, MonthlyMax: qtyMax * unit})
	}
	price := func(table map[string]float64, kind, key string) (float64, error) {
		v, ok := table[key]
		if !ok {
			return 0, fmt.Errorf("cost: no %s price for %q in prices.json (as of %s): add it", kind, key, p.AsOf)
		}
		return v, nil
	}
	spaces, clusters := false, 0
	for _, r := range rs {
		in := func(k string) resource.PropertyValue { return r.Inputs[resource.PropertyKey(k)] }
		switch r.Type {
		case "digitalocean:index/kubernetesCluster:KubernetesCluster":
			clusters++
			pool := in("nodePool").ObjectValue()
			unit, err := price(p.Droplet, "droplet", pool["size"].StringValue())
			if err != nil {
				return nil, err
			}
			add(r, "DOKS default pool ("+pool["size"].StringValue()+")", pool["minNodes"].NumberValue(), pool["maxNodes"].NumberValue(), unit)
			if v := in("ha"); v.IsBool() && v.BoolValue() {
				add(r, "DOKS HA control plane", 1, 1, p.DoksHAControlPlane)
			}
		case "digitalocean:index/kubernetesNodePool:KubernetesNodePool":
			unit, err := price(p.Droplet, "droplet", in("size").StringValue())
			if err != nil {
				return nil, err
			}
			add(r, "DOKS pool "+in("name").StringValue()+" ("+in("size").StringValue()+")", in("minNodes").NumberValue(), in("maxNodes").NumberValue(), unit)
		case "digitalocean:index/droplet:Droplet":
			unit, err := price(p.Droplet, "droplet", in("size").StringValue())
			if err != nil {
				return nil, err
			}
			add(r, "Droplet "+in("name").StringValue()+" ("+in("size").StringValue()+")", 1, 1, unit)
		case "digitalocean:index/databaseCluster:DatabaseCluster":
			unit, err := price(p.Database, "database", in("size").StringValue())
			if err != nil {
				return nil, err
			}
			n := in("nodeCount").NumberValue()
			add(r, fmt.Sprintf("PostgreSQL %s, %v nodes", in("size").StringValue(), n), n, n, unit)
		case "digitalocean:index/containerRegistry:ContainerRegistry":
			unit, err := price(p.RegistryTier, "registry tier", in("subscriptionTierSlug").StringValue())
			if err != nil {
				return nil, err
			}
			add(r, "Container registry ("+in("subscriptionTierSlug").StringValue()+")", 1, 1, unit)
		case "digitalocean:index/spacesBucket:SpacesBucket":
			if !spaces {
				spaces = true
				add(r, "Spaces subscription (250 GiB, 1 TiB transfer)", 1, 1, p.SpacesSubscription)
			}
		case "digitalocean:index/reservedIp:ReservedIp":
			add(r, "Reserved IP (assigned)", 1, 1, p.ReservedIPAssigned)
		case "cloudflare:index/loadBalancer:LoadBalancer":
			add(r, "Cloudflare load balancer", 1, 1, p.CloudflareLoadBalancer)
			if zonePlan != "" {
				unit, err := price(p.CloudflareZonePlan, "Cloudflare zone plan", zonePlan)
				if err != nil {
					return nil, err
				}
				add(r, "Cloudflare "+zonePlan+" plan (zone of the load balancer; price unverified)", 1, 1, unit)
			}
		}
	}
	// A LoadBalancer Service on DOKS is a billed DigitalOcean load balancer;
	// on Talos the address is announced by Cilium and costs nothing.
	doksProviders := map[string]bool{}
	byURN := map[string]*mockcloud.Resource{}
	for _, r := range rs {
		byURN[r.URN] = r
	}
	for _, r := range rs {
		if parent := byURN[r.Parent]; r.Type == "pulumi:providers:kubernetes" && parent != nil && parent.Type == doks.Type {
			doksProviders[r.URN] = true
		}
	}
	for _, r := range rs {
		if r.Type != "kubernetes:core/v1:Service" || !doksProviders[r.Provider] {
			continue
		}
		if spec, ok := r.Inputs["spec"]; ok && spec.IsObject() {
			if t := spec.ObjectValue()["type"]; t.IsString() && t.StringValue() == "LoadBalancer" {
				add(r, "DigitalOcean load balancer (ingress Service)", 1, 1, p.LoadBalancer)
			}
		}
	}
	// Origins beyond the included ones are billed per origin.
	origins := 0
	var lb *mockcloud.Resource
	for _, r := range rs {
		switch r.Type {
		case "cloudflare:index/loadBalancerPool:LoadBalancerPool":
			origins += len(r.Inputs["origins"].ArrayValue())
		case "cloudflare:index/loadBalancer:LoadBalancer":
			lb = r
		}
	}
	if extra := origins - p.CloudflareIncludedOrigins; lb != nil && extra > 0 {
		add(lb, "Cloudflare extra origins", float64(extra), float64(extra), p.CloudflareExtraOrigin)
	}
	sort.SliceStable(e.Lines, func(i, j int) bool { return e.Lines[i].Monthly > e.Lines[j].Monthly })
	for _, l := range e.Lines {
		e.Total += l.Monthly
		e.TotalMax += l.MonthlyMax
	}
	e.ManagedControlPlane = p.ManagedControlPlaneCompare.Name
	if clusters > 0 {
		managed := p.ManagedControlPlaneCompare.PerHour * p.HoursPerMonth * float64(clusters)
		var doks float64
		for _, l := range e.Lines {
			if l.Item == "DOKS HA control plane" {
				doks += l.Monthly
			}
		}
		e.ManagedControlPlaneDelta = managed - doks
	}
	return e, nil
}
