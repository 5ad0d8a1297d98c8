package config

import (
	"errors"
	"regexp"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// promDurationRe is a Prometheus duration: one or more number+unit terms
// (y, w, d, h, m, s, ms), largest unit first.
var promDurationRe = regexp.MustCompile(`^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$`)

// parsePromDuration parses a Prometheus (and Loki) duration such as 15d or
// 744h. A sign is never valid.
func parsePromDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	m := promDurationRe.FindStringSubmatch(s)
	if m == nil {
		return 0, errors.New("not a duration")
	}
	units := []time.Duration{365 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second, time.Millisecond}
	var d time.Duration
	for i, u := range units {
		if v := m[2+2*i]; v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n > 100_000 {
				return 0, errors.New("duration out of range")
			}
			d += time.Duration(n) * u
		}
	}
	return d, nil
}

// promSizeRe is a Prometheus byte size such as 45GB (B, KB, MB, GB, TB, PB, EB).
var promSizeRe = regexp.MustCompile(`^([0-9]+)(B|KB|MB|GB|TB|PB|EB)$`)

// promSizeSuffix gives each Prometheus unit its Kubernetes binary suffix:
// Prometheus uses powers of 1024 for these units, so 45GB is 45Gi.
var promSizeSuffix = map[string]string{"B": "", "KB": "Ki", "MB": "Mi", "GB": "Gi", "TB": "Ti", "PB": "Pi", "EB": "Ei"}

// parsePromSize returns a Prometheus size as a Kubernetes quantity of
// bytes, to compare with the volume it must fit.
func parsePromSize(s string) (resource.Quantity, error) {
	m := promSizeRe.FindStringSubmatch(s)
	if m == nil {
		return resource.Quantity{}, errors.New("not a Prometheus size")
	}
	return resource.ParseQuantity(m[1] + promSizeSuffix[m[2]])
}
