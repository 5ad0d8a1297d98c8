package policy

import (
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// get follows a dotted path (a.b[0].c) through resource properties. It
// reports whether the value was found and whether any step was secret.
func get(r policyx.AnalyzerResource, path string) (v property.Value, ok, secret bool) {
	v = property.New(r.Properties)
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.Index(part, "["); i >= 0 {
			name = part[:i]
			n, err := strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
			if err != nil {
				return property.Value{}, false, false
			}
			idx = n
		}
		secret = secret || v.Secret()
		if !v.IsMap() {
			return property.Value{}, false, secret
		}
		if v, ok = v.AsMap().GetOk(name); !ok {
			return property.Value{}, false, secret
		}
		if idx >= 0 {
			secret = secret || v.Secret()
			if !v.IsArray() || idx >= v.AsArray().Len() {
				return property.Value{}, false, secret
			}
			v = v.AsArray().Get(idx)
		}
	}
	return v, true, secret || v.Secret()
}

func str(r policyx.AnalyzerResource, path string) string {
	v, ok, _ := get(r, path)
	if ok && v.IsString() {
		return v.AsString()
	}
	return ""
}

func num(r policyx.AnalyzerResource, path string) (float64, bool) {
	v, ok, _ := get(r, path)
	if ok && v.IsNumber() {
		return v.AsNumber(), true
	}
	return 0, false
}

func boolean(r policyx.AnalyzerResource, path string) bool {
	v, ok, _ := get(r, path)
	return ok && v.IsBool() && v.AsBool()
}

func strs(r policyx.AnalyzerResource, path string) []string {
	v, ok, _ := get(r, path)
	if !ok || !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.AsArray().AsSlice() {
		if e.IsString() {
			out = append(out, e.AsString())
		}
	}
	return out
}

func array(r policyx.AnalyzerResource, path string) []property.Value {
	v, ok, _ := get(r, path)
	if !ok || !v.IsArray() {
		return nil
	}
	return v.AsArray().AsSlice()
}

func ofType(rs []policyx.AnalyzerResource, typ string) []policyx.AnalyzerResource {
	var out []policyx.AnalyzerResource
	for _, r := range rs {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}
