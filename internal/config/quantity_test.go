package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// problemKeys returns the keys of the problems found, without the project
// prefix.
func problemKeys(p problems) []string {
	keys := []string{}
	for _, pr := range p {
		keys = append(keys, pr.Key[len(Project)+1:])
	}
	return keys
}

// A quota setting is a positive Kubernetes quantity; everything else is
// refused with the key it was found under.
func TestPositiveQuantity(t *testing.T) {
	accepted := []string{
		"500m", "2", "+2", "4Gi", "1.5Gi", "0.5Ki", "128Mi", "1e3", "1E3", "1e+3",
		"1.", ".5", "00.5", "1n", "1u", "2k", "0.0000000001",
		// refused by the hand-written parser, accepted by Kubernetes:
		"1E", "1Ei", // exa and exbi (read as a broken exponent)
		"1e19", "1e100", // exponents above 18
		"1e-10", // below a nano: Kubernetes rounds it up to 1n
	}
	refused := []string{
		"", "lots", "5 GB", " 1", "1 ", "4GB", "1ki", "1µ", "1.2.3", "1e", "0x10", "1_000", "1m5",
		"0", "0.0", "-4Gi", "-1",
		"Gi", "-", // no number: Kubernetes reads 0, which is not positive
	}
	for _, v := range accepted {
		t.Run("accepts "+v, func(t *testing.T) {
			var p problems
			assert.NotNil(t, positiveQuantity(&p, "k", v))
			assert.Empty(t, p)
		})
	}
	for _, v := range refused {
		t.Run("refuses "+v, func(t *testing.T) {
			var p problems
			assert.Nil(t, positiveQuantity(&p, "k", v))
			assert.Equal(t, []string{"k"}, problemKeys(p))
		})
	}
}

// Quota and limit-range ordering compares values, not spellings: 1Gi is
// more than 1G, 1024Mi is 1Gi.
func TestQuotaOrdering(t *testing.T) {
	cases := []struct {
		requests, limits string
		refused          bool
	}{
		{"1Gi", "1G", true},
		{"1G", "1Gi", false},
		{"1024Mi", "1Gi", false},
		{"1001m", "1", true},
		{"0.5", "500m", false},
		{"1e3", "1k", false},
		{"1.5Gi", "1536Mi", false},
		{"1537Mi", "1.5Gi", true},
	}
	for _, c := range cases {
		t.Run(c.requests+" vs "+c.limits, func(t *testing.T) {
			q := Quota{RequestsCPU: c.requests, RequestsMemory: "1Gi", LimitsCPU: c.limits, LimitsMemory: "2Gi", RequestsStorage: "10Gi", Pods: 10}
			l := LimitRange{DefaultRequestCPU: "1n", DefaultRequestMemory: "1Mi", DefaultCPU: "1n", DefaultMemory: "2Mi", MaxCPU: "1n", MaxMemory: "4Mi"}
			var p problems
			validateQuota(&p, "a", &q, &l)
			if c.refused {
				assert.Equal(t, []string{"a.quota.requestsCpu"}, problemKeys(p))
			} else {
				assert.Empty(t, p)
			}
		})
	}
}

// The retention size is in Prometheus' base-1024 units and must stay below
// the Kubernetes quantity of the volume.
func TestRetentionSizeBelowVolume(t *testing.T) {
	cases := []struct {
		size, volume string
		refused      bool
	}{
		{"45GB", "50Gi", false},
		{"50GB", "50Gi", true}, // 50 GB is 50 GiB to Prometheus
		{"49GB", "50Gi", false},
		{"51200MB", "50Gi", true},
		{"51199MB", "50Gi", false},
		{"50GB", "54G", false}, // 53.69e9 bytes below 54e9
		{"45 GB", "50Gi", true},
		{"0GB", "50Gi", true},
	}
	for _, c := range cases {
		t.Run(c.size+" on "+c.volume, func(t *testing.T) {
			m := Monitoring{
				PrometheusRetention: "15d", PrometheusRetentionSize: c.size, PrometheusStorage: c.volume,
				AlertmanagerStorage: "2Gi", GrafanaStorage: "5Gi", LokiStorage: "20Gi", LokiRetention: "744h",
				SMTP: SMTP{Smarthost: "smtp.example.com:587", From: "alertmanager@example.com"},
			}
			var p problems
			validateMonitoring(&p, &m)
			if c.refused {
				assert.Equal(t, []string{"platform.monitoring.prometheusRetentionSize"}, problemKeys(p))
			} else {
				assert.Empty(t, p)
			}
		})
	}
}
