package chartcheck

import (
	"fmt"
	"sort"
)

// PodRef is an object a workload's pods need before they can start: a
// Secret or ConfigMap in an env, envFrom or volume that is not optional, or
// the ServiceAccount they run as.
type PodRef struct {
	Kind      string // Secret, ConfigMap or ServiceAccount
	Namespace string
	Name      string
	// Where says how the pod spec refers to it.
	Where string
}

// podSpec returns the pod template spec of a workload, or nil.
func podSpec(o *Object) map[string]any {
	spec, _ := o.Raw["spec"].(map[string]any)
	switch o.Kind {
	case "Pod":
		return spec
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		return dig(spec, "template", "spec")
	case "CronJob":
		return dig(spec, "jobTemplate", "spec", "template", "spec")
	}
	return nil
}

func dig(m map[string]any, path ...string) map[string]any {
	cur := m
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}

func list(m map[string]any, key string) []map[string]any {
	raw, _ := m[key].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, v := range raw {
		if e, ok := v.(map[string]any); ok {
			out = append(out, e)
		}
	}
	return out
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func optional(m map[string]any) bool {
	b, _ := m["optional"].(bool)
	return b
}

// PodRefs lists what a workload's pods need to exist before they start.
func PodRefs(o *Object) []PodRef {
	spec := podSpec(o)
	if spec == nil {
		return nil
	}
	ns := o.Namespace
	var out []PodRef
	add := func(kind, name, where string) {
		if name != "" {
			out = append(out, PodRef{Kind: kind, Namespace: ns, Name: name, Where: where})
		}
	}
	sa := str(spec, "serviceAccountName")
	if sa == "" {
		sa = "default"
	}
	add("ServiceAccount", sa, "spec.serviceAccountName")
	for _, v := range list(spec, "volumes") {
		if s := dig(v, "secret"); s != nil && !optional(s) {
			add("Secret", str(s, "secretName"), "volume "+str(v, "name"))
		}
		if c := dig(v, "configMap"); c != nil && !optional(c) {
			add("ConfigMap", str(c, "name"), "volume "+str(v, "name"))
		}
		if p := dig(v, "projected"); p != nil {
			for _, src := range list(p, "sources") {
				if s := dig(src, "secret"); s != nil && !optional(s) {
					add("Secret", str(s, "name"), "projected volume "+str(v, "name"))
				}
				if c := dig(src, "configMap"); c != nil && !optional(c) {
					add("ConfigMap", str(c, "name"), "projected volume "+str(v, "name"))
				}
			}
		}
	}
	for _, group := range []string{"initContainers", "containers"} {
		for _, c := range list(spec, group) {
			where := "container " + str(c, "name")
			for _, e := range list(c, "env") {
				from := dig(e, "valueFrom")
				if s := dig(from, "secretKeyRef"); s != nil && !optional(s) {
					add("Secret", str(s, "name"), where+" env "+str(e, "name"))
				}
				if cm := dig(from, "configMapKeyRef"); cm != nil && !optional(cm) {
					add("ConfigMap", str(cm, "name"), where+" env "+str(e, "name"))
				}
			}
			for _, e := range list(c, "envFrom") {
				if s := dig(e, "secretRef"); s != nil && !optional(s) {
					add("Secret", str(s, "name"), where+" envFrom")
				}
				if cm := dig(e, "configMapRef"); cm != nil && !optional(cm) {
					add("ConfigMap", str(cm, "name"), where+" envFrom")
				}
			}
		}
	}
	return out
}

// provided are the objects every namespace has: its default ServiceAccount
// (the ServiceAccount controller) and the kube-root-ca.crt ConfigMap (the
// root-CA publisher in kube-controller-manager).
func provided(kind, name string) bool {
	return (kind == "ServiceAccount" && name == "default") || (kind == "ConfigMap" && name == "kube-root-ca.crt")
}

// MissingRef is a workload reference that nothing deployed satisfies.
type MissingRef struct {
	Release  string // the release of the workload; empty for the program's own
	Workload string
	Ref      PodRef
	// HookOnly names the Helm hook object that creates the referenced
	// object, when only a hook (which helm.sh/v4 Chart never deploys) would.
	HookOnly string
}

func (m MissingRef) String() string {
	who := m.Workload
	if m.Release != "" {
		who = m.Release + ": " + m.Workload
	}
	if m.HookOnly != "" {
		return fmt.Sprintf("%s needs %s %s/%s (%s), which only the hook %s creates: helm.sh/v4 Chart deploys no hook objects",
			who, m.Ref.Kind, m.Ref.Namespace, m.Ref.Name, m.Ref.Where, m.HookOnly)
	}
	return fmt.Sprintf("%s needs %s %s/%s (%s), which neither the program nor any chart of the stack creates",
		who, m.Ref.Kind, m.Ref.Namespace, m.Ref.Name, m.Ref.Where)
}

// coreKinds maps the core resources a pod needs to their kinds.
var coreKinds = map[string]string{"secrets": "Secret", "configmaps": "ConfigMap", "serviceaccounts": "ServiceAccount"}

// hookWrites lists the objects a hook Role or ClusterRole lets its Job
// create: a core resource it grants create on, named in the resourceNames
// of any of its rules. (RBAC cannot limit create by name, so charts name the
// object in a get or update rule; argo-cd's redis-secret-init Role does.)
func hookWrites(h *Object) []PodRef {
	if h.Kind != "Role" && h.Kind != "ClusterRole" {
		return nil
	}
	creates := map[string]bool{}
	named := map[string][]string{}
	for _, rule := range list(h.Raw, "rules") {
		groups, _ := rule["apiGroups"].([]any)
		if !containsString(groups, "") {
			continue
		}
		resources, _ := rule["resources"].([]any)
		verbs, _ := rule["verbs"].([]any)
		names, _ := rule["resourceNames"].([]any)
		for _, res := range resources {
			r, _ := res.(string)
			if containsString(verbs, "create") || containsString(verbs, "*") {
				creates[r] = true
			}
			for _, n := range names {
				if s, ok := n.(string); ok {
					named[r] = append(named[r], s)
				}
			}
		}
	}
	var out []PodRef
	for res, kind := range coreKinds {
		if !creates[res] {
			continue
		}
		for _, n := range named[res] {
			out = append(out, PodRef{Kind: kind, Namespace: h.Namespace, Name: n})
		}
	}
	return out
}

func containsString(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// RuntimeObject is an object that a controller creates after deployment, so
// that no manifest holds it; each entry gives its creator.
type RuntimeObject struct {
	Kind, Namespace, Name string
	Reason                string
}

// MissingRefs checks every workload in the stack (rendered and the
// program's own) against every object that is deployed.
func MissingRefs(s *Stack, runtime []RuntimeObject) []MissingRef {
	key := func(kind, ns, name string) string { return kind + "/" + ns + "/" + name }
	have := map[string]bool{}
	for _, o := range s.Deployed() {
		have[key(o.Kind, o.Namespace, o.Name)] = true
	}
	for _, r := range runtime {
		have[key(r.Kind, r.Namespace, r.Name)] = true
	}
	hooks := map[string]string{}
	for _, r := range s.Rendered {
		for _, h := range r.Hooks {
			what := fmt.Sprintf("%s %s (%s, helm.sh/hook: %s)", h.Kind, h.Name, h.Source, h.Hook)
			hooks[key(h.Kind, h.Namespace, h.Name)] = what
			for _, w := range hookWrites(h) {
				hooks[key(w.Kind, w.Namespace, w.Name)] = what + ", whose rules let a hook Job create it"
			}
		}
	}
	var out []MissingRef
	check := func(release string, o *Object) {
		for _, ref := range PodRefs(o) {
			if provided(ref.Kind, ref.Name) || have[key(ref.Kind, ref.Namespace, ref.Name)] {
				continue
			}
			out = append(out, MissingRef{Release: release, Workload: o.Ref(), Ref: ref, HookOnly: hooks[key(ref.Kind, ref.Namespace, ref.Name)]})
		}
	}
	for _, r := range s.Rendered {
		for _, o := range r.Objects {
			check(r.Release.Name, o)
		}
	}
	for _, o := range s.Program {
		check("", o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
