package config

import (
	"crypto/ecdh"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Keys published upstream. ageExampleIdentity and ageExampleRecipient are
// filippo.io/age's own example pair (age_test.go:20 and :49 at v1.2.1);
// the other two are the age-keygen help text's public key
// (cmd/age-keygen/keygen.go:46 at v1.2.1) and talos-backup's sample
// (cronjob.sample.yaml AGE_X25519_PUBLIC_KEY at v0.1.0-beta.3).
const (
	ageExampleIdentity  = "AGE-SECRET-KEY-184JMZMVQH3E6U0PSL869004Y3U2NYV7R30EU99CSEDNPH02YUVFSZW44VU"
	ageExampleRecipient = "age1cy0su9fwf3gf9mw868g5yut09p6nytfmmnktexz2ya5uqg9vl9sss4euqm"
)

func TestAgeRecipientsFromUpstreamAreAccepted(t *testing.T) {
	for _, r := range []string{
		ageExampleRecipient,
		"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
		"age1khpnnl86pzx96ttyjmldptsl5yn2v9jgmmzcjcufvk00ttkph9zs0ytgec",
	} {
		assert.Empty(t, ageRecipientProblem(r), r)
	}
}

// The decoder and the encoder agree with age: the public key derived from
// age's example identity (X25519 of its scalar and the base point, as age
// does) encodes to age's example recipient.
func TestAgeIdentityDerivesItsUpstreamRecipient(t *testing.T) {
	hrp, scalar, err := bech32Decode(ageExampleIdentity)
	require.NoError(t, err)
	assert.Equal(t, ageIdentityHRP, hrp)
	priv, err := ecdh.X25519().NewPrivateKey(scalar)
	require.NoError(t, err)
	assert.Equal(t, ageExampleRecipient, bech32Encode(ageRecipientHRP, priv.PublicKey().Bytes()))
}

func TestAgeRecipientProblems(t *testing.T) {
	_, key, err := bech32Decode(ageExampleRecipient)
	require.NoError(t, err)
	typo := []byte(ageExampleRecipient)
	typo[10] = map[bool]byte{true: 'q', false: 'p'}[typo[10] != 'q']
	cases := []struct{ name, value, want string }{
		{"the private key instead", ageExampleIdentity, "not the private key"},
		{"the private key in lower case", strings.ToLower(ageExampleIdentity), "not the private key"},
		{"one character changed", string(typo), "bad checksum"},
		{"truncated", ageExampleRecipient[:len(ageExampleRecipient)-1], "bad checksum"},
		{"upper case", strings.ToUpper(ageExampleRecipient), "lower case"},
		{"mixed case", "Age1" + ageExampleRecipient[4:], "mixed case"},
		{"another prefix", bech32Encode("age1test", key), `the prefix is "age1test1"`},
		{"31 bytes", bech32Encode(ageRecipientHRP, key[:31]), "of 32 bytes: this one has 31"},
		{"an SSH key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE", "age1..."},
		{"empty", "", "no separator"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Contains(t, ageRecipientProblem(tc.value), tc.want)
		})
	}
}

func TestAgeRecipientStandInIsARecipient(t *testing.T) {
	for _, s := range SecretSpecs {
		if s.Kind == KindAgeRecipient {
			assert.Empty(t, s.check(s.StandIn()), s.Key)
		}
	}
}
