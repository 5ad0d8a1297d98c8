package statebucket

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Credentials is an S3 access key pair (for Spaces, a Spaces access key).
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
}

// Options tunes a bootstrap run.
type Options struct {
	// CheckOnly reports what would change and changes nothing.
	CheckOnly bool
	// HTTPClient replaces the default HTTP client (nil: the SDK's).
	HTTPClient *http.Client
}

// Report says what a run found and did.
type Report struct {
	Target Target
	// CheckOnly is set when nothing was changed on purpose.
	CheckOnly bool
	// Created: the bucket did not exist and was created (private).
	Created bool
	// VersioningWas is the versioning status found ("" for never enabled,
	// "Suspended" or "Enabled"); VersioningEnabled says it was turned on.
	VersioningWas     string
	VersioningEnabled bool
	// PublicGrants lists the public ACL grants found; MadePrivate says they
	// were replaced by the private canned ACL.
	PublicGrants []string
	MadePrivate  bool
}

// Changed reports whether the run changed (or, in check mode, would change)
// anything.
func (r Report) Changed() bool {
	return r.Created || r.VersioningEnabled || r.MadePrivate
}

// String is the operator-facing summary, one line per fact.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "state bucket %s at %s\n", r.Target.Bucket, r.Target.EndpointURL())
	verb := func(done, would string) string {
		if r.CheckOnly {
			return would
		}
		return done
	}
	switch {
	case r.Created:
		fmt.Fprintf(&b, "  bucket: %s\n", verb("created (private)", "missing: would create it (private)"))
	case r.MadePrivate:
		fmt.Fprintf(&b, "  bucket: already exists; public grants %s: %s\n",
			strings.Join(r.PublicGrants, ", "), verb("removed, now private", "would remove them"))
	default:
		fmt.Fprintf(&b, "  bucket: already exists, private\n")
	}
	switch {
	case r.VersioningEnabled && r.Created:
		fmt.Fprintf(&b, "  versioning: %s\n", verb("enabled", "would enable"))
	case r.VersioningEnabled:
		was := r.VersioningWas
		if was == "" {
			was = "never enabled"
		}
		fmt.Fprintf(&b, "  versioning: was %s; %s\n", was, verb("enabled", "would enable"))
	default:
		fmt.Fprintf(&b, "  versioning: already enabled\n")
	}
	switch {
	case !r.Changed():
		fmt.Fprintf(&b, "nothing changed\n")
	case r.CheckOnly:
		fmt.Fprintf(&b, "check only: nothing was changed\n")
	}
	return b.String()
}

// NewClient returns an S3 client for the target. Checksums are sent only where
// the S3 API requires them: S3-compatible servers (Spaces among them) reject
// the newer default checksum headers on some calls.
func NewClient(t Target, creds Credentials, opts Options) *s3.Client {
	o := s3.Options{
		Region:                     t.Region,
		BaseEndpoint:               aws.String(t.EndpointURL()),
		UsePathStyle:               t.PathStyle,
		Credentials:                aws.NewCredentialsCache(staticCredentials(creds)),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if opts.HTTPClient != nil {
		o.HTTPClient = opts.HTTPClient
	}
	return s3.New(o)
}

type staticCredentials Credentials

func (c staticCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Source: "environment"}, nil
}

// Ensure makes the state bucket exist, private and versioned. It is
// idempotent: on a bucket that is already right it changes nothing and the
// report says so. Credentials the server rejects give a *CredentialsError
// before anything is attempted.
func Ensure(ctx context.Context, t Target, creds Credentials, opts Options) (Report, error) {
	rep := Report{Target: t, CheckOnly: opts.CheckOnly}
	if err := validBucketName(t.Bucket); err != nil {
		return rep, fmt.Errorf("bucket name %q: %w", t.Bucket, err)
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return rep, &CredentialsError{Endpoint: t.EndpointURL(), Code: "MissingCredentials",
			Message: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set"}
	}
	client := NewClient(t, creds, opts)

	// ListBuckets first: it is the cheapest signed call, and unlike
	// HeadBucket its errors carry a code that tells a bad key from a bad
	// secret.
	if _, err := client.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		return rep, classify(t, "list buckets", err)
	}

	exists, err := bucketExists(ctx, client, t)
	if err != nil {
		return rep, err
	}
	if !exists {
		rep.Created = true
		rep.VersioningEnabled = true
		if opts.CheckOnly {
			return rep, nil
		}
		if err := createBucket(ctx, client, t); err != nil {
			return rep, err
		}
	} else if err := checkPrivate(ctx, client, t, &rep); err != nil {
		return rep, err
	}
	return rep, ensureVersioning(ctx, client, t, &rep)
}

func bucketExists(ctx context.Context, client *s3.Client, t Target) (bool, error) {
	_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(t.Bucket)})
	if err == nil {
		return true, nil
	}
	var notFound *types.NotFound
	if errors.As(err, &notFound) || httpStatus(err) == http.StatusNotFound {
		return false, nil
	}
	if httpStatus(err) == http.StatusForbidden {
		return false, fmt.Errorf("bucket %s exists but this key may not use it: another account owns the name, "+
			"or the key is limited to other buckets; choose another name (backend.url in Pulumi.yaml) or use a full-access Spaces key", t.Bucket)
	}
	return false, classify(t, "look up bucket", err)
}

func createBucket(ctx context.Context, client *s3.Client, t Target) error {
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket: aws.String(t.Bucket),
		ACL:    types.BucketCannedACLPrivate,
	})
	var owned *types.BucketAlreadyOwnedByYou
	if err == nil || errors.As(err, &owned) {
		return nil
	}
	var taken *types.BucketAlreadyExists
	if errors.As(err, &taken) {
		return fmt.Errorf("bucket name %s is taken by another account (names are global per region): "+
			"choose another and set it in backend.url of Pulumi.yaml", t.Bucket)
	}
	return classify(t, "create bucket", err)
}

// checkPrivate looks for ACL grants to a group (everyone, every
// authenticated user) and replaces them by the private canned ACL. A state
// bucket grants nothing beyond its owner.
func checkPrivate(ctx context.Context, client *s3.Client, t Target, rep *Report) error {
	acl, err := client.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(t.Bucket)})
	if err != nil {
		return classify(t, "read bucket ACL", err)
	}
	for _, g := range acl.Grants {
		if name, ok := groupGrantee(g.Grantee); ok {
			rep.PublicGrants = append(rep.PublicGrants, fmt.Sprintf("%s %s", name, g.Permission))
		}
	}
	if len(rep.PublicGrants) == 0 {
		return nil
	}
	rep.MadePrivate = true
	if rep.CheckOnly {
		return nil
	}
	_, err = client.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(t.Bucket), ACL: types.BucketCannedACLPrivate})
	if err != nil {
		return classify(t, "make bucket private", err)
	}
	return nil
}

// groupGrantee names a group grantee: S3 and Spaces identify groups by URI
// (.../groups/global/AllUsers); some S3 servers by ID.
func groupGrantee(g *types.Grantee) (string, bool) {
	if g == nil || (g.Type != types.TypeGroup && g.URI == nil) {
		return "", false
	}
	switch {
	case g.URI != nil:
		return (*g.URI)[strings.LastIndex(*g.URI, "/")+1:], true
	case g.ID != nil:
		return *g.ID, true
	}
	return "group", true
}

func ensureVersioning(ctx context.Context, client *s3.Client, t Target, rep *Report) error {
	if !rep.Created {
		v, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(t.Bucket)})
		if err != nil {
			return classify(t, "read versioning", err)
		}
		rep.VersioningWas = string(v.Status)
		if v.Status == types.BucketVersioningStatusEnabled {
			return nil
		}
		rep.VersioningEnabled = true
	}
	if rep.CheckOnly {
		return nil
	}
	_, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(t.Bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		return classify(t, "enable versioning", err)
	}
	// Read it back: a server that accepts the call but keeps versioning off
	// would leave the state without its safety net.
	v, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(t.Bucket)})
	if err != nil {
		return classify(t, "read versioning", err)
	}
	if v.Status != types.BucketVersioningStatusEnabled {
		return fmt.Errorf("bucket %s: versioning was set to Enabled but reads back as %q", t.Bucket, v.Status)
	}
	return nil
}

// CredentialsError is returned when the server rejects the access key.
type CredentialsError struct {
	Endpoint string
	Code     string
	Message  string
}

func (e *CredentialsError) Error() string {
	hint := "check that AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY hold a Spaces access key and its secret " +
		"(DigitalOcean control panel: Spaces Object Storage, Access Keys)"
	switch e.Code {
	case "SignatureDoesNotMatch":
		hint = "the access key exists but AWS_SECRET_ACCESS_KEY is not its secret; " + hint
	case "InvalidAccessKeyId":
		hint = "no such access key (AWS_ACCESS_KEY_ID); it may have been deleted or rotated; " + hint
	case "AccessDenied":
		hint = "the key is valid but may not list or create buckets; bootstrap needs a full-access Spaces key"
	}
	return fmt.Sprintf("credentials refused by %s (%s: %s): %s", e.Endpoint, e.Code, e.Message, hint)
}

var credentialCodes = map[string]bool{
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"AccessDenied":          true,
	"InvalidToken":          true,
	"ExpiredToken":          true,
	"Forbidden":             true,
}

// classify turns an S3 error into a CredentialsError when the server refused
// the key, and otherwise names the step that failed.
func classify(t Target, step string, err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && credentialCodes[apiErr.ErrorCode()] {
		return &CredentialsError{Endpoint: t.EndpointURL(), Code: apiErr.ErrorCode(), Message: apiErr.ErrorMessage()}
	}
	if httpStatus(err) == http.StatusForbidden {
		return &CredentialsError{Endpoint: t.EndpointURL(), Code: "Forbidden", Message: "HTTP 403"}
	}
	return fmt.Errorf("%s %s at %s: %w", step, t.Bucket, t.EndpointURL(), err)
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
