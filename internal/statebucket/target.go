// Package statebucket creates the S3 bucket (DigitalOcean Spaces) that holds
// the Pulumi state of every stack. The bucket must exist before the first
// `pulumi login`, so no stack can create it: this package does it once, from
// a laptop, and can be re-run at any time to check it.
//
// It speaks plain S3 (AWS SigV4) and links no Pulumi SDK.
package statebucket

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Defaults for DigitalOcean Spaces. Spaces signs requests with the region
// us-east-1 whatever the datacenter; the endpoint picks the datacenter.
const (
	DefaultEndpoint = "nyc3.digitaloceanspaces.com"
	DefaultRegion   = "us-east-1"
)

// Target says which bucket to bootstrap and where.
type Target struct {
	// Bucket is the bucket name.
	Bucket string
	// Endpoint is the S3 endpoint, a URL or a bare host[:port]; a bare host
	// gets https, as the Pulumi CLI does.
	Endpoint string
	// Region is the signing region.
	Region string
	// PathStyle addresses the bucket as ENDPOINT/BUCKET rather than
	// BUCKET.ENDPOINT (needed for servers without wildcard DNS).
	PathStyle bool
}

// EndpointURL is Endpoint with a scheme.
func (t Target) EndpointURL() string {
	if strings.Contains(t.Endpoint, "://") {
		return t.Endpoint
	}
	return "https://" + t.Endpoint
}

// ParseBackendURL reads the target from a Pulumi DIY backend URL such as
// s3://BUCKET?endpoint=nyc3.digitaloceanspaces.com&region=us-east-1. Query
// keys it does not know are ignored; endpoint and region default to Spaces
// NYC3.
func ParseBackendURL(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fmt.Errorf("backend URL %q: %w", raw, err)
	}
	if u.Scheme != "s3" {
		return Target{}, fmt.Errorf("backend URL %q: expected an s3:// URL (the state lives in an S3 bucket)", raw)
	}
	if u.Host == "" {
		return Target{}, fmt.Errorf("backend URL %q: no bucket name after s3://", raw)
	}
	if u.Path != "" && u.Path != "/" {
		return Target{}, fmt.Errorf("backend URL %q: a key prefix (%s) is not supported; state lives at the bucket root", raw, u.Path)
	}
	q := u.Query()
	t := Target{Bucket: u.Host, Endpoint: q.Get("endpoint"), Region: q.Get("region")}
	if t.Endpoint == "" {
		t.Endpoint = DefaultEndpoint
	}
	if t.Region == "" {
		t.Region = DefaultRegion
	}
	for _, key := range []string{"s3ForcePathStyle", "use_path_style"} {
		if v := q.Get(key); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Target{}, fmt.Errorf("backend URL %q: %s=%q: expected true or false", raw, key, v)
			}
			t.PathStyle = b
		}
	}
	return t, nil
}

// ProjectBackendURL reads backend.url from the Pulumi.yaml in dir. It returns
// "" when the project sets none.
func ProjectBackendURL(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return "", err
	}
	var project struct {
		Backend struct {
			URL string `yaml:"url"`
		} `yaml:"backend"`
	}
	if err := yaml.Unmarshal(raw, &project); err != nil {
		return "", fmt.Errorf("read %s: %w", filepath.Join(dir, "Pulumi.yaml"), err)
	}
	return project.Backend.URL, nil
}

// validBucketName checks the S3 naming rules that Spaces also applies.
func validBucketName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return errors.New("must be 3 to 63 characters")
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || (r == '-' || r == '.') && i > 0 && i < len(name)-1
		if !ok {
			return errors.New("only lowercase letters, digits, '-' and '.', starting and ending with a letter or digit")
		}
	}
	return nil
}
