package chartcheck

import (
	"context"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ValidateAgainstCRD validates obj as kube-apiserver would validate a custom
// resource of the given served version of crd (a decoded CRD document),
// with the same checks as the render test (schemaValidator).
func ValidateAgainstCRD(ctx context.Context, crd map[string]any, version string, obj map[string]any) ([]string, error) {
	var def apiextensionsv1.CustomResourceDefinition
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(crd, &def); err != nil {
		return nil, err
	}
	for _, v := range def.Spec.Versions {
		if v.Name != version || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			continue
		}
		fn, err := schemaValidator(v.Schema.OpenAPIV3Schema)
		if err != nil {
			return nil, err
		}
		return fn(ctx, obj), nil
	}
	return nil, fmt.Errorf("CRD %s serves no version %s with a schema", def.Name, version)
}
