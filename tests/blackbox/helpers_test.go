// Package blackbox checks the blackbox_exporter modules this program
// generates with blackbox_exporter v0.28.0 itself (the version chart
// prometheus-blackbox-exporter 11.17.2 ships): its config loader must accept
// them, and its HTTP prober, run with the failover-origin module against a
// local TLS origin that routes on Host and SNI like the on-prem ingress, must
// report the origin up or down exactly when Cloudflare's monitor would. The
// check comes from Pulumi.prod.yaml through the plan's config loading. It
// links blackbox_exporter, so it is a package of its own: the mock suite
// (tests/) stays fast to link.
package blackbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	bbconfig "github.com/prometheus/blackbox_exporter/config"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/plan"
)

// projectDir is the directory of Pulumi.yaml.
const projectDir = "../.."

// prodCheck is the OriginCheck the prod stack derives from Pulumi.prod.yaml
// (edge.hostname, edge.monitor, edge.originCertificate), read and validated
// exactly as the program reads it: the plan's config resolution and
// config.LoadFrom, with no resource declared. The onprem stack's outputs are
// given (empty) so that onprem is not planned.
func prodCheck(t *testing.T) config.OriginCheck {
	t.Helper()
	res, err := plan.RunFunc(plan.Options{
		Stack: config.StackProd, ProjectDir: projectDir,
		StackOutputs: map[string]map[string]any{"organization/hybrid-platform/onprem": {}},
	}, func(*pulumi.Context) (pulumi.Map, error) { return pulumi.Map{}, nil })
	require.NoError(t, err)
	require.NotNil(t, res.Config)
	check := res.Config.Edge.OriginCheck()
	require.Empty(t, check.Check())
	return check
}

// load writes the chart's config value (the map under "config", which the
// chart renders into blackbox.yaml) to a file and loads it with
// blackbox_exporter's own loader: SafeConfig.ReloadConfig, which main.go
// calls at start-up and on reload, decodes with KnownFields(true) and
// validates each HTTP module in HTTPProbe.UnmarshalYAML (checked:
// blackbox_exporter v0.28.0 config/config.go, main.go).
func load(t *testing.T, chartConfig any) (*bbconfig.Config, error) {
	t.Helper()
	raw, err := yaml.Marshal(chartConfig)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "blackbox.yaml")
	require.NoError(t, os.WriteFile(file, raw, 0o600))
	sc := bbconfig.NewSafeConfig(prometheus.NewRegistry())
	if err := sc.ReloadConfig(file, nil); err != nil {
		return nil, err
	}
	sc.RLock()
	defer sc.RUnlock()
	return sc.C, nil
}

// modulesConfig is a chart config value with these modules.
func modulesConfig(modules map[string]any) map[string]any {
	return map[string]any{"modules": modules}
}

// selfSigned is a self-signed CA certificate for host, as the on-prem
// ingress serves a certificate the probe's system roots do not trust (a
// Cloudflare Origin CA certificate in prod). caFile holds it in PEM.
func selfSigned(t *testing.T, host string) (cert tls.Certificate, caFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile
}
