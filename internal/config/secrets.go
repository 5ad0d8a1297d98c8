package config

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/wgkey"
)

// SecretKind says what shape a secret value has, so that it can be checked
// and so that the offline plan can stand in a value of the right shape.
type SecretKind int

// Secret kinds.
const (
	KindWireguardKey   SecretKind = iota // base64 X25519 private key
	KindToken                            // API token
	KindPassword                         // password, 16 characters or more
	KindTLSCertificate                   // PEM X.509 certificate
	KindTLSPrivateKey                    // PEM private key (PKCS#1, PKCS#8 or SEC 1)
	KindAgeRecipient                     // age X25519 public key (age1...)
)

// SecretSpec declares one secret config key.
type SecretSpec struct {
	Key   string
	Kind  SecretKind
	Kinds []EnvKind // the kinds of environment that read it
	Help  string
}

// SecretSpecs is every secret config key the program reads. Each is set with
// `pulumi config set --secret KEY VALUE` and never stored in plaintext.
var SecretSpecs = []SecretSpec{
	{Key: "wireguardGatewayPrivateKey", Kind: KindWireguardKey, Kinds: []EnvKind{KindDigitalOcean},
		Help: "the DO gateway's WireGuard private key: wg genkey"},
	{Key: "wireguardOnpremPrivateKey", Kind: KindWireguardKey, Kinds: []EnvKind{KindOnprem},
		Help: "the on-prem peer's WireGuard private key: wg genkey"},
	{Key: "grafanaAdminPassword", Kind: KindPassword, Kinds: Kinds,
		Help: "the Grafana admin password: openssl rand -base64 24"},
	{Key: "argocdRedisPassword", Kind: KindPassword, Kinds: Kinds,
		Help: "the password of Argo CD's Redis (Secret argocd-redis): openssl rand -hex 24"},
	{Key: "originTlsCertificate", Kind: KindTLSCertificate, Kinds: Kinds,
		Help: "the Cloudflare Origin CA certificate (PEM) issued once for originTlsPrivateKey: pulumi config set --secret originTlsCertificate < origin.pem"},
	{Key: "originTlsPrivateKey", Kind: KindTLSPrivateKey, Kinds: Kinds,
		Help: "the origin private key (PEM) the certificate was issued for: pulumi config set --secret originTlsPrivateKey < origin.key"},
	// A public key, kept as a secret all the same: whoever can change it
	// redirects every future etcd snapshot to a key they hold.
	{Key: "etcdBackupAgeRecipient", Kind: KindAgeRecipient, Kinds: []EnvKind{KindOnprem},
		Help: "the age public key the etcd snapshots are encrypted to: age-keygen -o etcd-backup.key, then the age1... line it prints; the key file stays offline"},
}

// SecretSpecsFor returns the secret keys the stacks of a kind read.
func SecretSpecsFor(kind EnvKind) []SecretSpec {
	var out []SecretSpec
	for _, s := range SecretSpecs {
		if slices.Contains(s.Kinds, kind) {
			out = append(out, s)
		}
	}
	return out
}

// StandIn is a deterministic value of the right shape for a secret key that the
// offline plan cannot decrypt. It is derived from the key name alone, so two
// plans are identical, and it is only ever printed as [secret].
func (s SecretSpec) StandIn() string {
	sum := sha256.Sum256([]byte("offline-plan-stand-in:" + s.Key))
	switch s.Kind {
	case KindWireguardKey:
		sum[0] &= 248
		sum[31] = (sum[31] & 127) | 64
		return base64.StdEncoding.EncodeToString(sum[:])
	case KindTLSCertificate:
		cert, _ := standInTLSPair()
		return cert
	case KindTLSPrivateKey:
		_, key := standInTLSPair()
		return key
	case KindAgeRecipient:
		return bech32Encode(ageRecipientHRP, sum[:])
	default:
		return "standin-" + base64.RawURLEncoding.EncodeToString(sum[:])
	}
}

func (s SecretSpec) check(v string) string {
	switch s.Kind {
	case KindWireguardKey:
		if err := wgkey.Valid(v); err != nil {
			return "a base64 WireGuard private key (wg genkey): " + err.Error()
		}
	case KindToken:
		if len(v) < 20 {
			return "an API token of 20 characters or more"
		}
	case KindPassword:
		if len(v) < 16 {
			return "a password of 16 characters or more"
		}
	case KindTLSCertificate:
		if _, err := parseCertificatePEM(v); err != nil {
			return "a PEM X.509 certificate (the Cloudflare Origin CA certificate): " + err.Error()
		}
	case KindTLSPrivateKey:
		if _, err := parsePrivateKeyPEM(v); err != nil {
			return "a PEM private key: " + err.Error()
		}
	case KindAgeRecipient:
		return ageRecipientProblem(v)
	}
	return ""
}

// Secret is a secret config value. Its plaintext stays inside the program; it
// leaves only as a Pulumi secret output.
type Secret struct {
	key   string
	value string
}

// Key is the config key the secret came from.
func (s Secret) Key() string { return s.key }

// Output returns the value as a Pulumi secret.
func (s Secret) Output() pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.String(s.value)).(pulumi.StringOutput)
}

// WireguardPublicKey derives the public key of a WireGuard private key secret.
// Validation has already proved the key well formed.
func (s Secret) WireguardPublicKey() string {
	pub, err := wgkey.PublicKey(s.value)
	if err != nil {
		panic("config: unvalidated WireGuard key " + s.key)
	}
	return pub
}

// Secrets holds the secret values of one stack; the ones a stack does not read
// are empty.
type Secrets struct {
	WireguardGatewayPrivateKey Secret
	WireguardOnpremPrivateKey  Secret
	GrafanaAdminPassword       Secret
	ArgoCDRedisPassword        Secret
	OriginTLSCertificate       Secret
	OriginTLSPrivateKey        Secret
	EtcdBackupAgeRecipient     Secret
}

func (s *Secrets) set(key, value string) {
	sec := Secret{key: key, value: value}
	switch key {
	case "wireguardGatewayPrivateKey":
		s.WireguardGatewayPrivateKey = sec
	case "wireguardOnpremPrivateKey":
		s.WireguardOnpremPrivateKey = sec
	case "grafanaAdminPassword":
		s.GrafanaAdminPassword = sec
	case "argocdRedisPassword":
		s.ArgoCDRedisPassword = sec
	case "originTlsCertificate":
		s.OriginTLSCertificate = sec
	case "originTlsPrivateKey":
		s.OriginTLSPrivateKey = sec
	case "etcdBackupAgeRecipient":
		s.EtcdBackupAgeRecipient = sec
	}
}
