// Package wgkey derives WireGuard public keys from private keys. Keys are never
// generated here: private keys come from secret stack config, so two runs of
// the program always produce the same public keys.
package wgkey

import (
	"crypto/ecdh"
	"encoding/base64"
	"fmt"
)

// PublicKey returns the base64 WireGuard public key of a base64 private key.
func PublicKey(privateKey string) (string, error) {
	raw, err := decode(privateKey)
	if err != nil {
		return "", err
	}
	priv, err := ecdh.X25519().NewPrivateKey(raw)
	if err != nil {
		return "", fmt.Errorf("not an X25519 private key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(priv.PublicKey().Bytes()), nil
}

// Valid reports whether s is a base64 encoded 32-byte WireGuard key.
func Valid(s string) error {
	_, err := decode(s)
	return err
}

func decode(s string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64")
	}
	if len(raw) != 32 {
		return nil, fmt.Errorf("decodes to %d bytes, want 32", len(raw))
	}
	return raw, nil
}
