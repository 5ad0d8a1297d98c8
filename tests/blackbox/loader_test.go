package blackbox

import (
	"testing"
	"time"

	"github.com/prometheus/blackbox_exporter/prober"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/components/observability"
)

// The whole generated config loads, and the origin module the exporter ends
// up with sends what Cloudflare's monitor sends.
func TestGeneratedModulesLoad(t *testing.T) {
	check := prodCheck(t)
	c, err := load(t, observability.BlackboxValues(check)["config"])
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"icmp", "tcp_connect", "https_origin"}, keys(c.Modules))
	for name, m := range c.Modules {
		assert.Contains(t, prober.Probers, m.Prober, "module %s names a prober the exporter has", name)
	}

	m := c.Modules["https_origin"]
	assert.Equal(t, "http", m.Prober)
	assert.Equal(t, time.Duration(check.TimeoutSeconds)*time.Second, m.Timeout)
	assert.Equal(t, check.StatusCodes(), m.HTTP.ValidStatusCodes)
	assert.Equal(t, "GET", m.HTTP.Method)
	assert.Equal(t, map[string]string{"Host": check.Host}, m.HTTP.Headers)
	assert.True(t, m.HTTP.FailIfNotSSL)
	assert.Equal(t, check.FollowRedirects, m.HTTP.HTTPClientConfig.FollowRedirects)
	assert.Equal(t, check.Host, m.HTTP.HTTPClientConfig.TLSConfig.ServerName)
	assert.Equal(t, check.InsecureSkipVerify, m.HTTP.HTTPClientConfig.TLSConfig.InsecureSkipVerify)
	assert.Equal(t, "ip4", m.HTTP.IPProtocol)
}

// The loader is strict: each broken origin module is refused, so the
// acceptance above means something.
func TestLoaderRefusesBrokenModules(t *testing.T) {
	check := prodCheck(t)
	tests := []struct {
		name  string
		brake func(module, http map[string]any)
		want  string
	}{
		{"unknown key in http", func(_, h map[string]any) { h["no_such_key"] = true }, "field no_such_key not found"},
		{"misspelt follow_redirects", func(_, h map[string]any) {
			delete(h, "follow_redirects")
			h["follow_redirect"] = false
		}, "field follow_redirect not found"},
		{"unknown key in tls_config", func(_, h map[string]any) {
			h["tls_config"].(map[string]any)["insecure"] = true
		}, "field insecure not found"},
		{"unknown key in module", func(m, _ map[string]any) { m["https"] = map[string]any{} }, "field https not found"},
		{"timeout not a duration", func(m, _ map[string]any) { m["timeout"] = "five seconds" }, "into time.Duration"},
		{"status codes not a list", func(_, h map[string]any) { h["valid_status_codes"] = "2xx" }, "into []int"},
		{"headers not a map", func(_, h map[string]any) { h["headers"] = []any{"Host"} }, "into map[string]string"},
		{"Accept-Encoding against compression", func(_, h map[string]any) {
			h["headers"].(map[string]any)["Accept-Encoding"] = "gzip"
			h["compression"] = "br"
		}, "compression"},
		{"body and body_file", func(_, h map[string]any) {
			h["body"] = "x"
			h["body_file"] = "/tmp/x"
		}, "body and body_file"},
		{"two bearer tokens (http_client_config.Validate)", func(_, h map[string]any) {
			h["bearer_token"] = "a"
			h["bearer_token_file"] = "/tmp/a"
		}, "bearer_token"},
		{"HTTP/3 version without enable_http3", func(_, h map[string]any) {
			h["valid_http_versions"] = []any{"HTTP/3.0"}
		}, "HTTP/3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			module := observability.OriginModule(check)
			tc.brake(module, module["http"].(map[string]any))
			_, err := load(t, modulesConfig(map[string]any{"https_origin": module}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("unknown top-level key", func(t *testing.T) {
		_, err := load(t, map[string]any{"module": map[string]any{"https_origin": observability.OriginModule(check)}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "field module not found")
	})
}

// The loader does not check prober names: a module naming a prober the
// exporter lacks loads, and only the /probe handler refuses it, per request
// ("Unknown prober", checked: prober/handler.go). TestGeneratedModulesLoad
// therefore checks every generated prober against prober.Probers itself.
func TestUnknownProberLoadsButHasNoProber(t *testing.T) {
	module := observability.OriginModule(prodCheck(t))
	module["prober"] = "https"
	c, err := load(t, modulesConfig(map[string]any{"https_origin": module}))
	require.NoError(t, err)
	assert.NotContains(t, prober.Probers, c.Modules["https_origin"].Prober)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
