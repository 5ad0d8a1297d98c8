package config

import (
	"errors"
	"fmt"
	"strings"
)

// An age X25519 recipient is the Bech32 encoding (BIP 173) of a 32-byte
// Curve25519 public key under the human-readable part "age", written in
// lower case: what `age-keygen` prints as "Public key:" and what
// talos-backup's AGE_X25519_PUBLIC_KEY takes. talos-backup parses it with
// filippo.io/age's ParseX25519Recipient (pkg/encryption/encryption.go:31 at
// siderolabs/talos-backup v0.1.0-beta.3), which refuses the same inputs as
// ageRecipientProblem: another prefix, a bad checksum, a key that is not 32
// bytes. The matching identity (AGE-SECRET-KEY-1...) decrypts and never
// enters the config.
const (
	ageRecipientHRP = "age"
	ageIdentityHRP  = "age-secret-key-"
	ageKeyBytes     = 32
)

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range 5 {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

func bech32HRPExpand(hrp string) []byte {
	out := make([]byte, 0, 2*len(hrp)+1)
	for i := range len(hrp) {
		out = append(out, hrp[i]>>5)
	}
	out = append(out, 0)
	for i := range len(hrp) {
		out = append(out, hrp[i]&31)
	}
	return out
}

// convertBits regroups a bit stream from groups of from bits to groups of to
// bits; pad decides whether a short last group is padded (encoding) or must
// be zero padding (decoding).
func convertBits(data []byte, from, to uint, pad bool) ([]byte, error) {
	var acc, bits uint
	var out []byte
	maxv := uint(1)<<to - 1
	for _, b := range data {
		acc = acc<<from | uint(b)
		bits += from
		for bits >= to {
			bits -= to
			out = append(out, byte(acc>>bits&maxv))
		}
	}
	switch {
	case pad && bits > 0:
		out = append(out, byte(acc<<(to-bits)&maxv))
	case !pad && (bits >= from || acc<<(to-bits)&maxv != 0):
		return nil, errors.New("non-zero padding")
	}
	return out, nil
}

// bech32Decode returns the human-readable part and the 8-bit data of a
// Bech32 string. Unlike BIP 173 it does not cap the length at 90: age's
// identities are longer (age's own bech32 package drops the limit too).
func bech32Decode(s string) (string, []byte, error) {
	if strings.ToLower(s) != s && strings.ToUpper(s) != s {
		return "", nil, errors.New("mixed case")
	}
	s = strings.ToLower(s)
	sep := strings.LastIndexByte(s, '1')
	if sep < 1 || sep+7 > len(s) {
		return "", nil, errors.New("no separator 1 followed by data and a 6-character checksum")
	}
	hrp := s[:sep]
	for i := range len(hrp) {
		if hrp[i] < 33 || hrp[i] > 126 {
			return "", nil, fmt.Errorf("invalid character %q", hrp[i])
		}
	}
	var data []byte
	for i := sep + 1; i < len(s); i++ {
		d := strings.IndexByte(bech32Charset, s[i])
		if d < 0 {
			return "", nil, fmt.Errorf("invalid character %q in the data", s[i])
		}
		data = append(data, byte(d))
	}
	if bech32Polymod(append(bech32HRPExpand(hrp), data...)) != 1 {
		return "", nil, errors.New("bad checksum (a typo, or a truncated key)")
	}
	bytes, err := convertBits(data[:len(data)-6], 5, 8, false)
	if err != nil {
		return "", nil, err
	}
	return hrp, bytes, nil
}

// bech32Encode encodes 8-bit data under hrp, in lower case.
func bech32Encode(hrp string, data []byte) string {
	values, _ := convertBits(data, 8, 5, true) // padding on: cannot fail
	poly := bech32Polymod(append(append(bech32HRPExpand(hrp), values...), 0, 0, 0, 0, 0, 0)) ^ 1
	var b strings.Builder
	b.WriteString(hrp)
	b.WriteByte('1')
	for _, v := range values {
		b.WriteByte(bech32Charset[v])
	}
	for i := range 6 {
		b.WriteByte(bech32Charset[(poly>>(5*(5-i)))&31])
	}
	return b.String()
}

// ageRecipientProblem says why v is not an age X25519 recipient, or "".
func ageRecipientProblem(v string) string {
	if strings.HasPrefix(strings.ToLower(v), ageIdentityHRP) {
		return "the age public key (age1...), not the private key: this is an AGE-SECRET-KEY, which must stay offline with the operator; " +
			"age-keygen -y key.txt prints its public key"
	}
	hrp, key, err := bech32Decode(v)
	switch {
	case err != nil:
		return "an age X25519 public key (age1..., from age-keygen): " + err.Error()
	case hrp != ageRecipientHRP:
		return fmt.Sprintf("an age X25519 public key (age1..., from age-keygen): the prefix is %q", hrp+"1")
	case v != strings.ToLower(v):
		return "an age X25519 public key in lower case, as age-keygen prints it"
	case len(key) != ageKeyBytes:
		return fmt.Sprintf("an age X25519 public key of %d bytes: this one has %d", ageKeyBytes, len(key))
	}
	return ""
}
