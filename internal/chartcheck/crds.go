package chartcheck

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime"
	celconfig "k8s.io/apiserver/pkg/apis/cel"

	"github.com/hybridcloud/platform/internal/clusterapi"
)

// crdVersion is one served version of a CRD.
type crdVersion struct {
	group, version, kind string
	namespaced           bool
	// from says where the CRD comes from.
	from string
	// release is the release users of the kind must wait for.
	release string
	// validate is nil for ClusterAPIs.
	validate func(ctx context.Context, obj map[string]any) []string
}

// CRDs are the custom kinds a stack's cluster serves.
type CRDs struct {
	byGVK map[string]*crdVersion
}

func gvk(apiVersion, kind string) string { return apiVersion + "/" + kind }

// newCRDs collects every served version of the CustomResourceDefinitions the
// stack's releases render, and the cluster's own kinds.
// The cluster's own kinds (clusterapi) are served, but their schemas are not
// checked here: no chart of the stack carries them.
func newCRDs(rendered []*Rendered, cluster []clusterapi.API) (*CRDs, error) {
	c := &CRDs{byGVK: map[string]*crdVersion{}}
	for _, r := range rendered {
		for _, o := range r.Objects {
			if o.Kind != "CustomResourceDefinition" {
				continue
			}
			if o.APIVersion != "apiextensions.k8s.io/v1" {
				return nil, fmt.Errorf("release %s: %s is %s, not apiextensions.k8s.io/v1", r.Release.ID(), o.Ref(), o.APIVersion)
			}
			parsed, err := parseCRD(o.Raw)
			if err != nil {
				return nil, fmt.Errorf("release %s: %s: %w", r.Release.ID(), o.Ref(), err)
			}
			for _, v := range parsed {
				cv := *v
				cv.from, cv.release = "release "+r.Release.ID(), r.Release.Name
				c.byGVK[gvk(cv.group+"/"+cv.version, cv.kind)] = &cv
			}
		}
	}
	for _, a := range cluster {
		if _, dup := c.byGVK[gvk(a.APIVersion, a.Kind)]; dup {
			continue // a chart of the stack installs it after all
		}
		group, version, _ := strings.Cut(a.APIVersion, "/")
		c.byGVK[gvk(a.APIVersion, a.Kind)] = &crdVersion{group: group, version: version, kind: a.Kind, namespaced: a.Namespaced, from: a.Source, release: a.Release}
	}
	return c, nil
}

// parsedCRDs memoizes parseCRD by the CRD's JSON text. A stack's build
// parses its charts' CRDs in both passes, and every build of the same stack
// again; converting a CRD and compiling its schema validators was a third
// of a build's CPU (pprof of tests/charts). The validators are read only.
var parsedCRDs sync.Map // sha256 of the JSON text -> []*crdVersion

// parseCRD returns the served versions of a CustomResourceDefinition, with
// their schema validators; from and release are the caller's to fill in.
func parseCRD(raw map[string]any) ([]*crdVersion, error) {
	text, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256(text)
	if v, ok := parsedCRDs.Load(key); ok {
		return v.([]*crdVersion), nil
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &crd); err != nil {
		return nil, err
	}
	var out []*crdVersion
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		cv := &crdVersion{
			group: crd.Spec.Group, version: v.Name, kind: crd.Spec.Names.Kind,
			namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		}
		if v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
			fn, err := schemaValidator(v.Schema.OpenAPIV3Schema)
			if err != nil {
				return nil, fmt.Errorf("CRD %s %s: %w", crd.Name, v.Name, err)
			}
			cv.validate = fn
		}
		out = append(out, cv)
	}
	parsedCRDs.Store(key, out)
	return out, nil
}

// APIVersions lists the group/version and group/version/Kind strings of
// every served custom kind, as .Capabilities.APIVersions holds them.
func (c *CRDs) APIVersions() []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range c.byGVK {
		for _, s := range []string{v.group + "/" + v.version, v.group + "/" + v.version + "/" + v.kind} {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (c *CRDs) lookup(apiVersion, kind string) *crdVersion { return c.byGVK[gvk(apiVersion, kind)] }

// schemaValidator validates an object as kube-apiserver validates a custom
// resource of this CRD version, with the apiextensions-apiserver packages
// it runs: structural defaulting first, then the OpenAPI schema
// (types, enums, required, formats, ...), the x-kubernetes-validations CEL
// rules, and pruning, whose dropped fields are reported as unknown (the
// API server drops them silently unless the request asks for strict field
// validation).
func schemaValidator(schema *apiextensionsv1.JSONSchemaProps) (func(context.Context, map[string]any) []string, error) {
	internal := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(schema, internal, nil); err != nil {
		return nil, err
	}
	structural, err := structuralschema.NewStructural(internal)
	if err != nil {
		return nil, fmt.Errorf("not a structural schema: %w", err)
	}
	validator, _, err := apiservervalidation.NewSchemaValidator(internal)
	if err != nil {
		return nil, err
	}
	celValidator := cel.NewValidator(structural, true, celconfig.PerCallLimit)
	return func(ctx context.Context, obj map[string]any) []string {
		obj = deepCopy(obj)
		structuraldefaulting.Default(obj, structural)
		var problems []string
		for _, e := range apiservervalidation.ValidateCustomResource(nil, obj, validator) {
			problems = append(problems, e.Error())
		}
		if celValidator != nil {
			errs, _ := celValidator.Validate(ctx, nil, structural, obj, nil, celconfig.RuntimeCELCostBudget)
			for _, e := range errs {
				problems = append(problems, e.Error())
			}
		}
		unknown := pruning.PruneWithOptions(obj, structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
		for _, f := range unknown {
			problems = append(problems, "unknown field "+f+" (the API server prunes it)")
		}
		sort.Strings(problems)
		return problems
	}, nil
}
