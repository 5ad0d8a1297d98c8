package tests

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/plan"
)

// The plan shows each cluster's version, its end of support and the days
// left, and warns (text, JSON and the run's warnings) past the end; the day
// is injected, so this test does not age. Retiring is never an error.
func TestSupportWindowsShownAndWarned(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return d
	}
	for _, tc := range []struct {
		name     string
		stack    string
		set      func(t *testing.T) map[string]string
		now      time.Time
		product  string
		version  string
		daysLeft int
		retired  bool
	}{
		{name: "prod before the end of 1.35", stack: "prod", now: day("2026-12-01"), product: "kubernetes", version: "1.35.4-do.0", daysLeft: 89},
		{name: "prod on the last day of 1.35", stack: "prod", now: day("2027-02-28"), product: "kubernetes", version: "1.35.4-do.0", daysLeft: 0},
		{name: "prod the day after", stack: "prod", now: day("2027-03-01"), product: "kubernetes", version: "1.35.4-do.0", daysLeft: -1, retired: true},
		{name: "prod left on a line DigitalOcean still offers but upstream retired", stack: "prod", now: day("2026-12-01"),
			set: func(t *testing.T) map[string]string {
				doks := stackObject(t, "prod", "doks")
				doks["kubernetesMinor"] = "1.34"
				return map[string]string{"doks": toJSON(t, doks)}
			}, product: "kubernetes", version: "1.34.6-do.1", daysLeft: -35, retired: true},
		{name: "onprem Kubernetes", stack: "onprem", now: day("2026-12-01"), product: "kubernetes", version: "1.35.4", daysLeft: 89},
		{name: "onprem Talos 1.12, past community support since 1.13", stack: "onprem", now: day("2026-12-01"), product: "talos", version: "v1.12.11", daysLeft: -218, retired: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := plan.Options{Stack: tc.stack, Now: tc.now}
			if tc.set != nil {
				opts.Set = tc.set(t)
			}
			res := mustRun(t, opts)
			var found bool
			for _, s := range res.Support {
				if s.Product != tc.product {
					continue
				}
				found = true
				assert.Equal(t, tc.version, s.Version)
				assert.True(t, s.Known)
				assert.Equal(t, tc.daysLeft, s.DaysLeft)
				assert.Equal(t, tc.retired, s.Retired)
			}
			require.True(t, found, "no support line for %s", tc.product)

			var text bytes.Buffer
			res.WriteText(&text)
			assert.Contains(t, text.String(), "support ")
			assert.Contains(t, text.String(), tc.version+": end of support ")
			var doc struct {
				Support  []map[string]any `json:"support"`
				Warnings []string         `json:"warnings"`
			}
			var js bytes.Buffer
			require.NoError(t, res.WriteJSON(&js))
			require.NoError(t, json.Unmarshal(js.Bytes(), &doc))
			assert.NotEmpty(t, doc.Support)
			warned := false
			for _, w := range doc.Warnings {
				if bytes.Contains([]byte(w), []byte(tc.version+" is past its end of support")) {
					warned = true
				}
			}
			assert.Equal(t, tc.retired, warned, "JSON warnings: %v", doc.Warnings)
			assert.Equal(t, tc.retired, bytes.Contains(text.Bytes(), []byte("warning: ")) && bytes.Contains(text.Bytes(), []byte(tc.version+" is past")), "text warning")
		})
	}
}
