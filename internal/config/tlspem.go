package config

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"sync"
	"time"
)

func parseCertificatePEM(s string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parsePrivateKeyPEM(s string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		signer, ok := k.(crypto.Signer)
		if !ok {
			return nil, errors.New("not a signing key")
		}
		return signer, nil
	}
	return nil, errors.New("unsupported PEM block " + block.Type)
}

// tlsPairMatches reports whether the private key belongs to the certificate.
// Both have been checked to parse.
func tlsPairMatches(certPEM, keyPEM string) bool {
	cert, err := parseCertificatePEM(certPEM)
	if err != nil {
		return false
	}
	key, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		return false
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}

var standInTLS = sync.OnceValues(func() (string, string) {
	// Ed25519 keys come from a seed and its signatures are deterministic, so
	// the stand-in pair is identical on every run. It is never a usable origin
	// certificate: it only has the shape the program expects.
	seed := sha256.Sum256([]byte("offline-plan-stand-in:origin-tls"))
	key := ed25519.NewKeyFromSeed(seed[:])
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "offline-plan stand-in"},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2041, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:     []string{"origin.invalid"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic("config: stand-in certificate: " + err.Error())
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic("config: stand-in key: " + err.Error())
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
})

// standInTLSPair returns a matching certificate and key for the offline plan.
func standInTLSPair() (cert, key string) { return standInTLS() }
