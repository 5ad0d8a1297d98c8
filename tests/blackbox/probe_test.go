package blackbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	bbconfig "github.com/prometheus/blackbox_exporter/config"
	"github.com/prometheus/blackbox_exporter/prober"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/components/observability"
	"github.com/hybridcloud/platform/internal/config"
)

// origin is one behaviour of the failover origin and what Cloudflare's
// monitor (a GET of check.Path with Host and SNI check.Host, redirects not
// followed, check.TimeoutSeconds, check.ExpectedCodes) reports for it.
type origin struct {
	name   string
	cfUp   bool
	handle func(check config.OriginCheck) http.HandlerFunc
}

// ingress routes like a host-routing ingress: the health path answers code
// after delay only for a request whose SNI and Host are the monitor's host;
// anything else gets the default backend's 404.
func ingress(code int, delay time.Duration) func(config.OriginCheck) http.HandlerFunc {
	return func(check config.OriginCheck) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.TLS == nil || r.TLS.ServerName != check.Host || r.Host != check.Host || r.URL.Path != check.Path {
				http.NotFound(w, r)
				return
			}
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
			w.WriteHeader(code)
		}
	}
}

// redirecting is an origin whose health path redirects (a login or
// trailing-slash rule in front of it) to a page that answers 200.
func redirecting(check config.OriginCheck) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || r.TLS.ServerName != check.Host || r.Host != check.Host {
			http.NotFound(w, r)
			return
		}
		if r.URL.Path == check.Path {
			http.Redirect(w, r, "/login", http.StatusPermanentRedirect)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

// start serves each origin over TLS on 127.0.0.1 with a self-signed
// certificate for check.Host, and returns the probe targets by name: the
// address, not the hostname, as the Probe targets the on-prem ingress
// address (platform.probes.origins).
func start(t *testing.T, check config.OriginCheck, origins []origin) (targets map[string]string, caFile string) {
	t.Helper()
	cert, caFile := selfSigned(t, check.Host)
	targets = map[string]string{}
	for _, o := range origins {
		srv := httptest.NewUnstartedServer(o.handle(check))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		targets[o.name] = srv.URL + check.Path
	}
	return targets, caFile
}

// loadModule loads module with the real loader.
func loadModule(t *testing.T, module map[string]any) bbconfig.Module {
	t.Helper()
	c, err := load(t, modulesConfig(map[string]any{"https_origin": module}))
	require.NoError(t, err)
	return c.Modules["https_origin"]
}

// probe runs the real HTTP prober with m under the deadline prober.Handler
// gives it: the module's timeout when it is below the scrape timeout less
// the 0.5 s --timeout-offset (checked: prober/handler.go getTimeout,
// main.go). The Probe sets no scrapeTimeout, so Prometheus's default 10 s
// applies (unverified here: Prometheus documentation, global scrape_timeout
// default) and the module's timeout decides for every module below 9.5 s.
func probe(m bbconfig.Module, target string) (bool, string, *prometheus.Registry) {
	timeout := min(m.Timeout, 10*time.Second-500*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	return prober.ProbeHTTP(ctx, target, m, reg, logger), logs.String(), reg
}

// The generated origin module, run by blackbox_exporter's HTTP prober,
// reports each origin up or down exactly as Cloudflare's monitor does; a
// module that differs from the monitor in Host, SNI, redirects, timeout,
// codes or certificate checking disagrees with it on some origin.
func TestOriginModuleAgreesWithTheMonitor(t *testing.T) {
	check := prodCheck(t)
	// Pulumi.prod.yaml's edge.originCertificate is origin-ca, so the monitor
	// skips verification (MonitorAllowInsecure) and so does the module: the
	// self-signed origin certificate is accepted without a CA.
	require.True(t, check.InsecureSkipVerify, "prod's derived check; the CA rows below assume it")
	require.False(t, check.FollowRedirects)
	require.Equal(t, []int{200}, check.StatusCodes(), "the 204 row assumes expectedCodes 200")
	timeout := time.Duration(check.TimeoutSeconds) * time.Second

	origins := []origin{
		{"healthy", true, ingress(http.StatusOK, 0)},
		{"slow within the timeout", true, ingress(http.StatusOK, time.Second)},
		{"slower than the timeout", false, ingress(http.StatusOK, timeout+time.Second)},
		{"redirects the health path", false, redirecting},
		{"answers 204", false, ingress(http.StatusNoContent, 0)},
	}
	targets, caFile := start(t, check, origins)

	type change func(module, http map[string]any)
	tlsKey := func(h map[string]any, k string, v any) { h["tls_config"].(map[string]any)[k] = v }
	tests := []struct {
		name   string
		change change
		// differsOn names the origins on which the module's verdict differs
		// from the monitor's; it agrees on the others.
		differsOn []string
	}{
		{"generated", func(_, _ map[string]any) {}, nil},
		{"no Host header, no server_name", func(_, h map[string]any) {
			delete(h, "headers")
			delete(h["tls_config"].(map[string]any), "server_name")
		}, []string{"healthy", "slow within the timeout"}},
		{"server_name but no Host header", func(_, h map[string]any) { delete(h, "headers") },
			[]string{"healthy", "slow within the timeout"}},
		// v0.28.0 takes the SNI from the Host header when server_name is
		// unset (checked: prober/http.go), so this module still agrees.
		{"Host header but no server_name", func(_, h map[string]any) {
			delete(h["tls_config"].(map[string]any), "server_name")
		}, nil},
		{"follows redirects", func(_, h map[string]any) { h["follow_redirects"] = true },
			[]string{"redirects the health path"}},
		{"timeout shorter than a slow origin", func(m, _ map[string]any) { m["timeout"] = "500ms" },
			[]string{"slow within the timeout"}},
		{"timeout longer than the monitor's", func(m, _ map[string]any) { m["timeout"] = "9s" },
			[]string{"slower than the timeout"}},
		{"any 2xx", func(_, h map[string]any) { delete(h, "valid_status_codes") },
			[]string{"answers 204"}},
		{"verifies without the origin's CA", func(_, h map[string]any) { tlsKey(h, "insecure_skip_verify", false) },
			[]string{"healthy", "slow within the timeout"}},
		// Test copy only: were edge.originCertificate public (verification
		// on), trusting the origin's CA makes the module agree again.
		{"verifies with the origin's CA (test copy)", func(_, h map[string]any) {
			tlsKey(h, "insecure_skip_verify", false)
			tlsKey(h, "ca_file", caFile)
		}, nil},
	}
	// Every probe runs at once (they wait on the origins, not the CPU), so
	// the test takes about as long as its slowest probe.
	type result struct {
		up   bool
		logs string
		reg  *prometheus.Registry
	}
	results := make([][]result, len(tests))
	var wg sync.WaitGroup
	for i, tc := range tests {
		results[i] = make([]result, len(origins))
		for j, o := range origins {
			module := observability.OriginModule(check)
			tc.change(module, module["http"].(map[string]any))
			m, target := loadModule(t, module), targets[o.name]
			wg.Go(func() {
				up, logs, reg := probe(m, target)
				results[i][j] = result{up, logs, reg}
			})
		}
	}
	wg.Wait()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for j, o := range origins {
				want := o.cfUp != slices.Contains(tc.differsOn, o.name)
				assert.Equal(t, want, results[i][j].up, "%s: monitor up: %v, want probe up: %v\n%s", o.name, o.cfUp, want, results[i][j].logs)
			}
		})
	}

	// The certificate's expiry is exported though the module does not verify
	// it (the alert on probe_ssl_earliest_cert_expiry depends on it): the
	// self-signed certificate expires within the hour.
	t.Run("certificate expiry exported", func(t *testing.T) {
		require.Equal(t, "generated", tests[0].name)
		require.Equal(t, "healthy", origins[0].name)
		families, err := results[0][0].reg.Gather()
		require.NoError(t, err)
		var expiry float64
		for _, f := range families {
			if f.GetName() == "probe_ssl_earliest_cert_expiry" {
				expiry = f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		now := float64(time.Now().Unix())
		assert.Greater(t, expiry, now)
		assert.LessOrEqual(t, expiry, now+3600)
	})
}
