package localcluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Test infrastructure only: every key here is generated at start, lives in
// the run's directory and dies with it. The program itself never generates
// a key (its inputs are deterministic).

// keyPair is a certificate and its key, PEM-encoded, and the files they were
// written to.
type keyPair struct {
	Cert, Key         []byte
	CertFile, KeyFile string

	cert   *x509.Certificate
	signer crypto.Signer
}

// authority is a CA that signs the certificates of one cluster.
type authority struct{ keyPair }

func newKey() (*ecdsa.PrivateKey, []byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// newAuthority creates a self-signed CA and writes it to dir/name.{crt,key}.
func newAuthority(dir, name string) (*authority, error) {
	kp, err := certify(&x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, nil)
	if err != nil {
		return nil, err
	}
	return &authority{*kp}, kp.write(dir, name)
}

// issue signs a leaf certificate: a server certificate when hosts is not
// empty (DNS names and IPs), else a client certificate for cn in orgs.
func (a *authority) issue(dir, name, cn string, orgs []string, hosts []string) (*keyPair, error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: orgs},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(hosts) > 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	kp, err := certify(tmpl, &a.keyPair)
	if err != nil {
		return nil, err
	}
	return kp, kp.write(dir, name)
}

// certify creates a key and a certificate for it from tmpl, valid for a
// week, signed by parent, or by itself when parent is nil.
func certify(tmpl *x509.Certificate, parent *keyPair) (*keyPair, error) {
	k, keyPEM, err := newKey()
	if err != nil {
		return nil, err
	}
	if tmpl.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126)); err != nil {
		return nil, err
	}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(7*24*time.Hour)
	signCert, signKey := tmpl, crypto.Signer(k)
	if parent != nil {
		signCert, signKey = parent.cert, parent.signer
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signCert, k.Public(), signKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{Cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), Key: keyPEM, cert: cert, signer: k}, nil
}

func (kp *keyPair) write(dir, name string) error {
	kp.CertFile, kp.KeyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(kp.CertFile, kp.Cert, 0o600); err != nil {
		return err
	}
	return os.WriteFile(kp.KeyFile, kp.Key, 0o600)
}

// serviceAccountKey writes the key pair the API server signs service account
// tokens with (sa.key) and verifies them with (sa.pub).
func serviceAccountKey(dir string) (keyFile, pubFile string, err error) {
	k, keyPEM, err := newKey()
	if err != nil {
		return "", "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return "", "", err
	}
	keyFile, pubFile = filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	return keyFile, pubFile, os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
}

// kubeconfig is a kubeconfig for one user of one cluster: a client
// certificate, or a bearer token when token is set. JSON is valid YAML.
func kubeconfig(cluster, server string, ca []byte, user string, client *keyPair, token string) []byte {
	cred := map[string]string{"token": token}
	if token == "" {
		cred = map[string]string{"client-certificate-data": b64(client.Cert), "client-key-data": b64(client.Key)}
	}
	b, _ := json.MarshalIndent(map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"clusters":        []any{map[string]any{"name": cluster, "cluster": map[string]string{"server": server, "certificate-authority-data": b64(ca)}}},
		"users":           []any{map[string]any{"name": user, "user": cred}},
		"contexts":        []any{map[string]any{"name": cluster, "context": map[string]string{"cluster": cluster, "user": user}}},
		"current-context": cluster,
	}, "", "  ")
	return b
}
