package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/hybridcloud/platform/internal/config"
)

// Kubernetes type tokens.
const (
	tChart         = "kubernetes:helm.sh/v4:Chart"
	tNamespace     = "kubernetes:core/v1:Namespace"
	tNetworkPolicy = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	tQuota         = "kubernetes:core/v1:ResourceQuota"
	tLimitRange    = "kubernetes:core/v1:LimitRange"
)

var exactVersionRe = regexp.MustCompile(`^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

// appTier marks the application namespaces the platform baseline creates.
const appTierLabel = "hybrid-platform/tier"

func appNamespaces(rs []policyx.AnalyzerResource) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	for _, ns := range ofType(rs, tNamespace) {
		if label(ns, appTierLabel) == "app" {
			out = append(out, ns)
		}
	}
	return out
}

// label returns a metadata label; label keys contain dots, so they are not
// paths.
func label(r policyx.AnalyzerResource, key string) string {
	labels, ok, _ := get(r, "metadata.labels")
	if !ok || !labels.IsMap() {
		return ""
	}
	if v := labels.AsMap().Get(key); v.IsString() {
		return v.AsString()
	}
	return ""
}

// inNamespace lists the resources of a type whose metadata.namespace is ns.
func inNamespace(rs []policyx.AnalyzerResource, typ, ns string) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	for _, r := range ofType(rs, typ) {
		if str(r, "metadata.namespace") == ns {
			out = append(out, r)
		}
	}
	return out
}

var k8sRules = []rule{
	{
		name:        "chart-versions-pinned",
		description: "Every Helm chart names its repository and an exact version, never a range or the latest.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type != tChart {
				return
			}
			if _, ok, _ := get(r, "chart"); !ok {
				// Under the real engine a Chart reaches the analyzer as the
				// component its provider's Construct registers, with no inputs
				// (seen with tests/engine). The pins are checked where the
				// program's own registration is visible: the offline plan and
				// the test suite, against internal/versions.
				return
			}
			if v := str(r, "version"); !exactVersionRe.MatchString(v) {
				report(fmt.Sprintf("chart %s has version %q: pin an exact version", str(r, "chart"), v))
			}
			if str(r, "repositoryOpts.repo") == "" && !strings.HasPrefix(str(r, "chart"), "oci://") {
				report(fmt.Sprintf("chart %s names no repository", str(r, "chart")))
			}
		},
	},
	{
		name:        "no-latest-image-tags",
		description: "No image is deployed by the mutable latest tag.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if !strings.HasPrefix(r.Type, "kubernetes:") {
				return
			}
			walkStrings(property.New(r.Properties), "", func(path, key, s string) {
				if (key == "tag" && s == "latest") || (strings.Contains(s, "/") && strings.HasSuffix(s, ":latest")) {
					report(fmt.Sprintf("%s is %q: pin a version", path, s))
				}
			})
		},
	},
	{
		name:        "namespaces-enforce-pod-security",
		description: "Every namespace enforces a Pod Security level; application namespaces are never privileged.",
		resource: func(r policyx.AnalyzerResource, report func(string)) {
			if r.Type != tNamespace {
				return
			}
			level := label(r, "pod-security.kubernetes.io/enforce")
			if !slices.Contains([]string{"privileged", "baseline", "restricted"}, level) {
				report("no pod-security.kubernetes.io/enforce label")
			} else if level == "privileged" && label(r, appTierLabel) == "app" {
				report("an application namespace enforces privileged")
			}
		},
	},
	{
		name:        "workload-namespaces-default-deny",
		description: "Every application namespace has a default-deny NetworkPolicy for ingress and egress.",
		stack: func(rs []policyx.AnalyzerResource, report func(string, string)) {
			for _, ns := range appNamespaces(rs) {
				name := str(ns, "metadata.name")
				found := false
				for _, np := range inNamespace(rs, tNetworkPolicy, name) {
					selector, ok, _ := get(np, "spec.podSelector")
					types := strs(np, "spec.policyTypes")
					_, hasIngress, _ := get(np, "spec.ingress")
					_, hasEgress, _ := get(np, "spec.egress")
					if ok && selector.IsMap() && selector.AsMap().Len() == 0 && slices.Contains(types, "Ingress") &&
						slices.Contains(types, "Egress") && !hasIngress && !hasEgress {
						found = true
					}
				}
				if !found {
					report(ns.URN, "namespace "+name+" has no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)")
				}
			}
		},
	},
	{
		name:        "app-namespaces-have-quotas",
		description: "Every application namespace has a ResourceQuota and a LimitRange.",
		stack: func(rs []policyx.AnalyzerResource, report func(string, string)) {
			for _, ns := range appNamespaces(rs) {
				name := str(ns, "metadata.name")
				if len(inNamespace(rs, tQuota, name)) == 0 {
					report(ns.URN, "namespace "+name+" has no ResourceQuota")
				}
				if len(inNamespace(rs, tLimitRange, name)) == 0 {
					report(ns.URN, "namespace "+name+" has no LimitRange")
				}
			}
		},
	},
	{
		name:        "backups-meet-rpo",
		description: fmt.Sprintf("Velero backs up every namespace at least every %s (the seed's RPO for cluster state).", config.ClusterStateRPO),
		stack: func(rs []policyx.AnalyzerResource, report func(string, string)) {
			for _, chart := range ofType(rs, tChart) {
				if str(chart, "chart") != "velero" {
					continue
				}
				schedules, ok, _ := get(chart, "values.schedules")
				met := false
				if ok && schedules.IsMap() {
					for _, s := range schedules.AsMap().AsMap() {
						m := s.AsMap()
						cron := m.Get("schedule")
						incl := m.Get("template").AsMap().Get("includedNamespaces")
						all := incl.IsArray() && slices.ContainsFunc(incl.AsArray().AsSlice(), func(v property.Value) bool { return v.IsString() && v.AsString() == "*" })
						if !cron.IsString() || !all || (m.Get("disabled").IsBool() && m.Get("disabled").AsBool()) {
							continue
						}
						if gap, err := config.CronMaxGap(cron.AsString()); err == nil && gap > 0 && gap <= config.ClusterStateRPO {
							met = true
						}
					}
				}
				if !met {
					report(chart.URN, fmt.Sprintf("no enabled schedule backs up every namespace at least every %s", config.ClusterStateRPO))
				}
			}
		},
	},
}

// walkStrings calls fn for every string in v with its path and map key.
func walkStrings(v property.Value, path string, fn func(path, key, s string)) {
	switch {
	case v.IsMap():
		for k, e := range v.AsMap().AllStable {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if e.IsString() {
				fn(p, k, e.AsString())
				continue
			}
			walkStrings(e, p, fn)
		}
	case v.IsArray():
		for i, e := range v.AsArray().All {
			p := fmt.Sprintf("%s[%d]", path, i)
			if e.IsString() {
				fn(p, "", e.AsString())
				continue
			}
			walkStrings(e, p, fn)
		}
	}
}
