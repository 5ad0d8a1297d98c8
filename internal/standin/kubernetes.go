package standin

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/hybridcloud/platform/internal/simcloud"
)

// chartType is the Helm chart component the Kubernetes provider constructs.
const chartType = "kubernetes:helm.sh/v4:Chart"

// autoname gives a Kubernetes object without metadata.name a name, as the
// real provider does: the logical name plus a suffix. The suffix is derived
// from the URN (the real one is random) and an existing name is kept.
func autoname(news, olds resource.PropertyMap, urn string) {
	meta := news["metadata"]
	if meta.IsComputed() || meta.IsSecret() {
		return
	}
	m := resource.PropertyMap{}
	if meta.IsObject() {
		m = meta.ObjectValue()
	}
	if _, ok := m["name"]; ok {
		return
	}
	name := ""
	if old := olds["metadata"]; old.IsObject() {
		name = simcloud.String(old.ObjectValue(), "name")
	}
	if name == "" {
		sum := sha256.Sum256([]byte(urn))
		name = fmt.Sprintf("%s-%x", resource.URN(urn).Name(), sum[:4])
	}
	m["name"] = resource.NewProperty(name)
	news["metadata"] = resource.NewProperty(m)
}

// kubernetesID is namespace/name for namespaced objects, else name.
func kubernetesID(inputs resource.PropertyMap) string {
	meta := inputs["metadata"]
	for meta.IsSecret() {
		meta = meta.SecretValue().Element
	}
	if !meta.IsObject() {
		return ""
	}
	name := simcloud.String(meta.ObjectValue(), "name")
	if ns := simcloud.String(meta.ObjectValue(), "namespace"); ns != "" {
		return ns + "/" + name
	}
	return name
}

// chart is the stand-in's Helm chart: a component with the chart's settings
// and no rendered objects (there is no chart repository to render from).
type chart struct {
	pulumi.ResourceState

	Resources pulumi.ArrayOutput `pulumi:"resources"`
}

// Construct builds the component resources the Kubernetes provider offers.
// Only Helm charts are used by the program.
func (p *Provider) Construct(ctx context.Context, req *pulumirpc.ConstructRequest) (*pulumirpc.ConstructResponse, error) {
	if req.GetType() != chartType || p.pkg != "kubernetes" {
		return nil, fmt.Errorf("the %s stand-in cannot construct %s", p.pkg, req.GetType())
	}
	if p.engine == nil {
		return nil, fmt.Errorf("the %s stand-in has no engine connection", p.pkg)
	}
	return provider.Construct(ctx, req, p.engine, func(pctx *pulumi.Context, typ, name string,
		inputs provider.ConstructInputs, options pulumi.ResourceOption,
	) (*provider.ConstructResult, error) {
		args, err := inputs.Map()
		if err != nil {
			return nil, err
		}
		if _, ok := args["chart"]; !ok {
			return nil, fmt.Errorf("helm chart %s: missing required property \"chart\"", name)
		}
		c := &chart{}
		if err := pctx.RegisterComponentResource(typ, name, c, options); err != nil {
			return nil, err
		}
		c.Resources = pulumi.Array{}.ToArrayOutput()
		if err := pctx.RegisterResourceOutputs(c, pulumi.Map{"resources": c.Resources}); err != nil {
			return nil, err
		}
		return provider.NewConstructResult(c)
	})
}
