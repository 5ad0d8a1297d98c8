package config

import (
	"errors"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// quantityRe is the Kubernetes resource.Quantity grammar: a signed decimal
// number with a binary (Ki..Ei) or decimal (n, u, m, k, M..E) suffix or a
// decimal exponent.
var quantityRe = regexp.MustCompile(`^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$`)

var quantitySuffixes = map[string]*big.Rat{
	"": big.NewRat(1, 1), "n": big.NewRat(1, 1_000_000_000), "u": big.NewRat(1, 1_000_000), "m": big.NewRat(1, 1000),
	"k": pow(10, 3), "M": pow(10, 6), "G": pow(10, 9), "T": pow(10, 12), "P": pow(10, 15), "E": pow(10, 18),
	"Ki": pow(2, 10), "Mi": pow(2, 20), "Gi": pow(2, 30), "Ti": pow(2, 40), "Pi": pow(2, 50), "Ei": pow(2, 60),
}

func pow(base, exp int64) *big.Rat {
	return new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(base), big.NewInt(exp), nil))
}

// parseQuantity parses a Kubernetes quantity such as 500m, 4Gi or 1e3 into an
// exact rational. Negative and zero-free rules are left to the caller.
func parseQuantity(s string) (*big.Rat, error) {
	m := quantityRe.FindStringSubmatch(s)
	if m == nil {
		return nil, errors.New("not a Kubernetes quantity")
	}
	num, ok := new(big.Rat).SetString(m[2])
	if !ok {
		return nil, errors.New("not a Kubernetes quantity")
	}
	if m[1] == "-" {
		num.Neg(num)
	}
	suffix := m[3]
	if strings.HasPrefix(suffix, "e") || strings.HasPrefix(suffix, "E") {
		exp, err := strconv.Atoi(suffix[1:])
		if err != nil || exp > 18 || exp < -9 {
			return nil, errors.New("exponent out of range")
		}
		f := pow(10, int64(absInt(exp)))
		if exp < 0 {
			f.Inv(f)
		}
		return num.Mul(num, f), nil
	}
	return num.Mul(num, quantitySuffixes[suffix]), nil
}

func absInt(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

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

// parsePromSize returns the byte count of a Prometheus size; Prometheus uses
// powers of 1024 for these units.
func parsePromSize(s string) (*big.Rat, error) {
	m := promSizeRe.FindStringSubmatch(s)
	if m == nil {
		return nil, errors.New("not a Prometheus size")
	}
	n, _ := new(big.Rat).SetString(m[1])
	exp := strings.Index("BKMGTPE", m[2][:1])
	return n.Mul(n, pow(1024, int64(exp))), nil
}
