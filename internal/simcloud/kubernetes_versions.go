package simcloud

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// DoksSlugs is the stand-in cloud's answer to GET /v2/kubernetes/options:
// the DOKS version slugs on offer, newest first, in DigitalOcean's slug form
// (<kubernetes version>-do.<build>). It is an invented but realistic list,
// not a copy of DigitalOcean's (which cannot be read here): two patch
// releases of the newest line and one of the line before it, which is what
// DigitalOcean keeps on offer around a minor's end of life.
var DoksSlugs = []string{"1.35.4-do.0", "1.35.3-do.1", "1.34.6-do.1"}

// DoksSlug is the newest stand-in slug of a minor line such as "1.35", or ""
// when the line is not on offer.
func DoksSlug(minor string) string {
	for _, s := range DoksSlugs {
		if strings.HasPrefix(s, minor+".") {
			return s
		}
	}
	return ""
}

// doksVersions answers digitalocean.GetKubernetesVersions as
// terraform-provider-digitalocean v2.96.0 does (checked:
// digitalocean/kubernetes/datasource_kubernetes_versions.go at that tag): it
// keeps the slugs that start with versionPrefix, in the API's order, and sets
// latestVersion to the first of them only when there is one. A prefix that
// matches nothing is not an error: validVersions is empty and latestVersion
// absent.
func doksVersions(args resource.PropertyMap) (resource.PropertyMap, error) {
	prefix := String(args, "versionPrefix")
	valid := []resource.PropertyValue{}
	for _, s := range DoksSlugs {
		if strings.HasPrefix(s, prefix) {
			valid = append(valid, resource.NewProperty(s))
		}
	}
	out := resource.PropertyMap{
		"id":            resource.NewProperty(hexID("kubernetes-versions:"+prefix, 16)),
		"validVersions": resource.NewProperty(valid),
	}
	if prefix != "" {
		out["versionPrefix"] = resource.NewProperty(prefix)
	}
	if len(valid) > 0 {
		out["latestVersion"] = valid[0]
	}
	return out, nil
}
