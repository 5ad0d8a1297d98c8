package localcloud

import (
	"context"
	"encoding/json"
	"strings"
)

// StateText is every state object of the bucket's stacks and their history,
// concatenated: what a search for plaintext secrets reads. n is how many
// objects it read.
func (s *S3) StateText(ctx context.Context, bucket string) (text string, n int, err error) {
	keys, err := s.Objects(ctx, bucket, ".pulumi/")
	if err != nil {
		return "", 0, err
	}
	var b strings.Builder
	for _, k := range keys {
		if strings.HasPrefix(k, ".pulumi/stacks/") || strings.HasPrefix(k, ".pulumi/history/") {
			data, err := s.Get(ctx, bucket, k)
			if err != nil {
				return "", n, err
			}
			b.Write(data)
			n++
		}
	}
	return b.String(), n, nil
}

// SecretNeedles are the strings that would betray a secret in a JSON state
// file: the value as JSON escapes it, and each base64 line of a PEM block.
// Values shorter than 12 characters give none (they would match by chance).
func SecretNeedles(v string) []string {
	if len(v) < 12 {
		return nil
	}
	b, _ := json.Marshal(v)
	out := []string{strings.Trim(string(b), `"`)}
	if strings.Contains(v, "-----BEGIN ") {
		for _, line := range strings.Split(v, "\n") {
			if len(line) >= 24 && !strings.HasPrefix(line, "-----") {
				out = append(out, line)
			}
		}
	}
	return out
}
