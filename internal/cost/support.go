package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hybridcloud/platform/internal/config"
)

//go:embed support.json
var supportJSON []byte

// Products of the support table.
const (
	ProductKubernetes = "kubernetes"
	ProductTalos      = "talos"
)

// SupportWindow is the end of support of one minor line, with its source.
type SupportWindow struct {
	Minor        string `json:"minor"`
	EndOfLife    string `json:"endOfLife"`
	Source       string `json:"source"`
	Verification string `json:"verification"`
}

// Support is the support table (support.json): data, never constants in
// the logic.
type Support struct {
	AsOf       string          `json:"asOf"`
	Kubernetes []SupportWindow `json:"kubernetes"`
	Talos      []SupportWindow `json:"talos"`
}

// LoadSupport reads the embedded support table and checks its dates.
func LoadSupport() (*Support, error) {
	var s Support
	if err := json.Unmarshal(supportJSON, &s); err != nil {
		return nil, fmt.Errorf("support.json: %w", err)
	}
	for _, w := range append(append([]SupportWindow{}, s.Kubernetes...), s.Talos...) {
		if _, err := time.Parse(time.DateOnly, w.EndOfLife); err != nil {
			return nil, fmt.Errorf("support.json: %s endOfLife %q: %w", w.Minor, w.EndOfLife, err)
		}
		if w.Source == "" || w.Verification == "" {
			return nil, fmt.Errorf("support.json: %s needs a source and a verification", w.Minor)
		}
	}
	return &s, nil
}

// SupportStatus is where one cluster's version stands on a given day.
type SupportStatus struct {
	Cluster string `json:"cluster"`
	Product string `json:"product"`
	Version string `json:"version"`
	Minor   string `json:"minor"`
	// Known is false when the table has no entry for the minor.
	Known     bool   `json:"known"`
	EndOfLife string `json:"endOfLife,omitempty"`
	// DaysLeft is negative past the end of support.
	DaysLeft     int    `json:"daysLeft"`
	Retired      bool   `json:"retired"`
	Verification string `json:"verification,omitempty"`
}

// Status places version (1.35.4, v1.12.11, 1.35.4-do.0) of product on the
// day now. The clock is the caller's: the program passes time.Now only to
// warn, never into an input.
func (s *Support) Status(cluster, product, version string, now time.Time) SupportStatus {
	st := SupportStatus{Cluster: cluster, Product: product, Version: version, Minor: config.MinorOf(version)}
	table := s.Kubernetes
	if product == ProductTalos {
		table = s.Talos
	}
	for _, w := range table {
		if w.Minor != st.Minor {
			continue
		}
		eol, _ := time.Parse(time.DateOnly, w.EndOfLife) // checked in LoadSupport
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		st.Known, st.EndOfLife, st.Verification = true, w.EndOfLife, w.Verification
		st.DaysLeft = int(eol.Sub(day).Hours() / 24)
		st.Retired = st.DaysLeft < 0
	}
	return st
}

// Warning is the operator's message for a retired or unknown version, or "".
func (st SupportStatus) Warning() string {
	switch {
	case !st.Known:
		return fmt.Sprintf("%s: %s %s: no end of support is known for line %s; add it to internal/cost/support.json", st.Cluster, st.Product, st.Version, st.Minor)
	case st.Retired:
		return fmt.Sprintf("%s: %s %s is past its end of support (%s, %d days ago); plan the upgrade", st.Cluster, st.Product, st.Version, st.EndOfLife, -st.DaysLeft)
	}
	return ""
}
