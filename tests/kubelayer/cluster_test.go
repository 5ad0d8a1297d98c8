package kubelayer

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/hybridcloud/platform/internal/localcluster"
)

// apiResource is one kind an API server serves (discovery).
type apiResource struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Namespaced bool   `json:"namespaced"`
}

var (
	discoveryMu sync.Mutex
	discovered  = map[string]map[string]apiResource{} // cluster endpoint + group/version -> kind -> resource
)

// resourceOf finds a kind's resource in a group/version by discovery.
func resourceOf(ctx context.Context, c *localcluster.Cluster, apiVersion, kind string) (apiResource, error) {
	discoveryMu.Lock()
	defer discoveryMu.Unlock()
	key := c.Endpoint + " " + apiVersion
	kinds, ok := discovered[key]
	if !ok {
		path := "/apis/" + apiVersion
		if !strings.Contains(apiVersion, "/") {
			path = "/api/" + apiVersion
		}
		var list struct {
			Resources []apiResource `json:"resources"`
		}
		if err := c.Client.Get(ctx, path, &list); err != nil {
			return apiResource{}, fmt.Errorf("discovery of %s: %w", apiVersion, err)
		}
		kinds = map[string]apiResource{}
		for _, r := range list.Resources {
			if !strings.Contains(r.Name, "/") { // not a subresource
				kinds[r.Kind] = r
			}
		}
		discovered[key] = kinds
	}
	r, ok := kinds[kind]
	if !ok {
		return apiResource{}, fmt.Errorf("%s %s is not served", apiVersion, kind)
	}
	return r, nil
}

// objectPath is the REST path of one object, or of a kind's collection
// across namespaces when name is empty.
func objectPath(ctx context.Context, c *localcluster.Cluster, apiVersion, kind, namespace, name string) (string, error) {
	r, err := resourceOf(ctx, c, apiVersion, kind)
	if err != nil {
		return "", err
	}
	base := "/apis/" + apiVersion
	if !strings.Contains(apiVersion, "/") {
		base = "/api/" + apiVersion
	}
	if name == "" {
		return base + "/" + r.Name, nil
	}
	if r.Namespaced {
		if namespace == "" {
			namespace = "default"
		}
		return fmt.Sprintf("%s/namespaces/%s/%s/%s", base, namespace, r.Name, name), nil
	}
	return fmt.Sprintf("%s/%s/%s", base, r.Name, name), nil
}

// exists reports whether an object is in the API server.
func exists(ctx context.Context, c *localcluster.Cluster, apiVersion, kind, namespace, name string) (bool, error) {
	path, err := objectPath(ctx, c, apiVersion, kind, namespace, name)
	if err != nil {
		return false, err
	}
	err = c.Client.Get(ctx, path, nil)
	if localcluster.IsStatus(err, http.StatusNotFound) {
		return false, nil
	}
	return err == nil, err
}

// list returns the items of a kind in every namespace.
func list[T any](ctx context.Context, c *localcluster.Cluster, apiVersion, kind string) ([]T, error) {
	path, err := objectPath(ctx, c, apiVersion, kind, "", "")
	if err != nil {
		return nil, err
	}
	var out struct{ Items []T }
	if err := c.Client.Get(ctx, path, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}
