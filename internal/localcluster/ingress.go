package localcluster

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// The ingress-status loop plays the one part of a running ingress controller
// that the API server sees: Traefik's published service. Started with
// --providers.kubernetesingress.ingressendpoint.publishedservice=NS/NAME
// (what the traefik chart 41.3.0 renders from
// providers.kubernetesIngress.publishedService, templates/_podtemplate.tpl),
// Traefik copies that Service's load-balancer address into the status of
// every Ingress of its class, and the Kubernetes provider's Ingress await
// waits for exactly that. The loop reads the flag from the Deployments the
// program deployed, so a program that does not enable it gets no address,
// as it would not on a real cluster. Traefik's class is the IngressClass
// whose controller is traefik.io/ingress-controller (templates/ingressclass.yaml).
const (
	traefikController       = "traefik.io/ingress-controller"
	traefikPublishedService = "--providers.kubernetesingress.ingressendpoint.publishedservice="
)

type deploymentArgs struct {
	Spec struct {
		Template struct {
			Spec struct {
				Containers []struct {
					Args []string `json:"args"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

type ingress struct {
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		IngressClassName *string `json:"ingressClassName"`
	} `json:"spec"`
	Status struct {
		LoadBalancer struct {
			Ingress []map[string]any `json:"ingress"`
		} `json:"loadBalancer"`
	} `json:"status"`
}

// The collections the ingress-status loop reads: Traefik's Deployment (its
// published-service flag), that Service's address, the classes and the
// Ingresses.
const (
	deploymentsPath    = "/apis/apps/v1/deployments"
	ingressClassesPath = "/apis/networking.k8s.io/v1/ingressclasses"
	ingressesPath      = "/apis/networking.k8s.io/v1/ingresses"
)

var ingressCollections = []string{deploymentsPath, servicesPath, ingressClassesPath, ingressesPath}

func (c *Cluster) publishIngressStatus(ctx context.Context) error {
	var deployments struct{ Items []deploymentArgs }
	if err := c.Client.Get(ctx, deploymentsPath, &deployments); err != nil {
		return err
	}
	var published []string
	for _, d := range deployments.Items {
		for _, ctr := range d.Spec.Template.Spec.Containers {
			for _, a := range ctr.Args {
				if svc, ok := strings.CutPrefix(a, traefikPublishedService); ok {
					published = append(published, svc)
				}
			}
		}
	}
	if len(published) == 0 {
		return nil
	}
	sort.Strings(published)
	ns, name, ok := strings.Cut(published[0], "/")
	if !ok {
		return fmt.Errorf("published service %q is not NAMESPACE/NAME", published[0])
	}
	var svc service
	if err := c.Client.Get(ctx, fmt.Sprintf("/api/v1/namespaces/%s/services/%s", ns, name), &svc); err != nil {
		if IsStatus(err, http.StatusNotFound) {
			return nil
		}
		return err
	}
	if len(svc.Status.LoadBalancer.Ingress) == 0 {
		return nil
	}
	addr := []map[string]any{}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		addr = append(addr, map[string]any{"ip": in.IP})
	}
	var classes struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Controller string `json:"controller"`
			} `json:"spec"`
		}
	}
	if err := c.Client.Get(ctx, ingressClassesPath, &classes); err != nil {
		return err
	}
	mine := map[string]bool{}
	for _, cl := range classes.Items {
		if cl.Spec.Controller == traefikController {
			mine[cl.Metadata.Name] = true
		}
	}
	var ingresses struct{ Items []ingress }
	if err := c.Client.Get(ctx, ingressesPath, &ingresses); err != nil {
		return err
	}
	for _, in := range ingresses.Items {
		if in.Spec.IngressClassName == nil || !mine[*in.Spec.IngressClassName] || len(in.Status.LoadBalancer.Ingress) > 0 {
			continue
		}
		path := fmt.Sprintf("/apis/networking.k8s.io/v1/namespaces/%s/ingresses/%s/status", in.Metadata.Namespace, in.Metadata.Name)
		patch := map[string]any{"status": map[string]any{"loadBalancer": map[string]any{"ingress": addr}}}
		if err := c.Client.Do(ctx, http.MethodPatch, path, patch, nil, "application/merge-patch+json"); err != nil {
			return fmt.Errorf("ingress %s/%s status: %w", in.Metadata.Namespace, in.Metadata.Name, err)
		}
		c.logf("ingress %s/%s: address %v (Traefik's published service %s)", in.Metadata.Namespace, in.Metadata.Name, addr, published[0])
	}
	return nil
}
