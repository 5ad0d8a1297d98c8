package statebucket

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// bucketState is what an operator cares about, read with the root account.
type bucketState struct {
	exists     bool
	versioning types.BucketVersioningStatus
	public     bool
}

func readBucket(t *testing.T, bucket string) bucketState {
	t.Helper()
	ctx := testContext(t)
	c := server.rootClient()
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		require.Equal(t, http.StatusNotFound, httpStatus(err), "head bucket: %v", err)
		return bucketState{}
	}
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	acl, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	st := bucketState{exists: true, versioning: v.Status}
	for _, g := range acl.Grants {
		if _, ok := groupGrantee(g.Grantee); ok {
			st.public = true
		}
	}
	return st
}

func ensure(t *testing.T, bucket string, creds Credentials, opts Options) (Report, error) {
	t.Helper()
	return Ensure(testContext(t), server.target(bucket), creds, opts)
}

func TestEnsureCreatesPrivateVersionedBucket(t *testing.T) {
	rep, err := ensure(t, "state-create", server.root, Options{})
	require.NoError(t, err)

	assert.True(t, rep.Created)
	assert.True(t, rep.VersioningEnabled)
	assert.True(t, rep.Changed())
	assert.Equal(t, bucketState{exists: true, versioning: types.BucketVersioningStatusEnabled}, readBucket(t, "state-create"),
		"the bucket exists, is versioned and grants nothing to the public")
	assert.Contains(t, rep.String(), "bucket: created (private)")
	assert.Contains(t, rep.String(), "versioning: enabled")
}

func TestEnsureTwiceChangesNothing(t *testing.T) {
	const bucket = "state-idempotent"
	_, err := ensure(t, bucket, server.root, Options{})
	require.NoError(t, err)
	// The stack writes its state; a re-run must leave it and its history alone.
	c := server.rootClient()
	ctx := testContext(t)
	for _, body := range []string{`{"v":1}`, `{"v":2}`} {
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(".pulumi/stacks/hybrid-platform/prod.json"),
			Body: strings.NewReader(body)})
		require.NoError(t, err)
	}

	rep, err := ensure(t, bucket, server.root, Options{})
	require.NoError(t, err)

	assert.False(t, rep.Changed())
	assert.False(t, rep.Created)
	assert.Equal(t, "Enabled", rep.VersioningWas)
	assert.Contains(t, rep.String(), "already exists, private")
	assert.Contains(t, rep.String(), "versioning: already enabled")
	assert.Contains(t, rep.String(), "nothing changed")
	versions, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	assert.Len(t, versions.Versions, 2, "both state versions are kept, so a bad write can be rolled back")
}

func TestEnsureRefusesWrongCredentials(t *testing.T) {
	cases := []struct {
		name  string
		creds Credentials
		code  string
		hint  string
	}{
		{"wrong secret", Credentials{server.root.AccessKeyID, "not-the-secret"}, "SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY is not its secret"},
		{"unknown key", Credentials{"NOSUCHKEY0000", "whatever-secret"}, "InvalidAccessKeyId", "no such access key"},
		{"no key", Credentials{}, "MissingCredentials", "must both be set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bucket := "state-refused-" + strings.ReplaceAll(tc.name, " ", "-")
			_, err := ensure(t, bucket, tc.creds, Options{})

			var credErr *CredentialsError
			require.ErrorAs(t, err, &credErr)
			assert.Equal(t, tc.code, credErr.Code)
			assert.Contains(t, err.Error(), tc.hint)
			assert.Contains(t, err.Error(), "AWS_ACCESS_KEY_ID")
			assert.False(t, readBucket(t, bucket).exists, "nothing is created with refused credentials")
		})
	}
}

func TestEnsureEnablesVersioningOnExistingBucket(t *testing.T) {
	cases := []struct {
		name   string
		bucket string
		was    types.BucketVersioningStatus
	}{
		{"never enabled", "state-unversioned", ""},
		{"suspended", "state-suspended", types.BucketVersioningStatusSuspended},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			c := server.rootClient()
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(tc.bucket)})
			require.NoError(t, err)
			if tc.was != "" {
				for _, st := range []types.BucketVersioningStatus{types.BucketVersioningStatusEnabled, tc.was} {
					_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(tc.bucket),
						VersioningConfiguration: &types.VersioningConfiguration{Status: st}})
					require.NoError(t, err)
				}
			}

			rep, err := ensure(t, tc.bucket, server.root, Options{})
			require.NoError(t, err)

			assert.False(t, rep.Created)
			assert.True(t, rep.VersioningEnabled)
			assert.Equal(t, string(tc.was), rep.VersioningWas)
			assert.Equal(t, types.BucketVersioningStatusEnabled, readBucket(t, tc.bucket).versioning)
			assert.Contains(t, rep.String(), "versioning: was ")
		})
	}
}

func TestEnsureMakesPublicBucketPrivate(t *testing.T) {
	const bucket = "state-public"
	ctx := testContext(t)
	_, err := server.rootClient().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket),
		ACL: types.BucketCannedACLPublicRead, ObjectOwnership: types.ObjectOwnershipBucketOwnerPreferred})
	require.NoError(t, err)
	require.True(t, readBucket(t, bucket).public, "arrange: the bucket starts public")

	rep, err := ensure(t, bucket, server.root, Options{})
	require.NoError(t, err)

	assert.True(t, rep.MadePrivate)
	require.Len(t, rep.PublicGrants, 1)
	assert.Contains(t, rep.PublicGrants[0], "READ")
	assert.False(t, readBucket(t, bucket).public)
	assert.Contains(t, rep.String(), "removed, now private")
}

func TestEnsureRefusesBucketOfAnotherAccount(t *testing.T) {
	const bucket = "state-taken"
	_, err := server.rootClient().CreateBucket(testContext(t), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	other := Credentials{AccessKeyID: "otheraccount", SecretAccessKey: "other-secret-for-tests"}
	server.addAccount(t, other)

	_, err = ensure(t, bucket, other, Options{})

	require.Error(t, err)
	assert.Contains(t, err.Error(), "another account owns the name")
	assert.Equal(t, types.BucketVersioningStatus(""), readBucket(t, bucket).versioning, "the other account's bucket is left alone")
}

func TestEnsureCheckOnlyChangesNothing(t *testing.T) {
	rep, err := ensure(t, "state-check", server.root, Options{CheckOnly: true})
	require.NoError(t, err)

	assert.True(t, rep.Created, "reports the bucket as to be created")
	assert.True(t, rep.Changed())
	assert.False(t, readBucket(t, "state-check").exists)
	assert.Contains(t, rep.String(), "would create")
	assert.Contains(t, rep.String(), "check only: nothing was changed")
}

func TestEnsureRejectsInvalidBucketName(t *testing.T) {
	for _, name := range []string{"", "ab", "Upper-Case", "-leading", "under_score", strings.Repeat("a", 64)} {
		_, err := ensure(t, name, server.root, Options{})
		assert.ErrorContains(t, err, "bucket name", "%q", name)
	}
}

// An unreachable endpoint is an error that names the endpoint, not a
// credentials problem.
func TestEnsureUnreachableEndpoint(t *testing.T) {
	addr, err := freeLoopbackAddr() // closed again: nothing listens there
	require.NoError(t, err)
	target := Target{Bucket: "state-unreachable", Endpoint: "http://" + addr, Region: DefaultRegion, PathStyle: true}

	_, err = Ensure(testContext(t), target, server.root, Options{HTTPClient: &http.Client{Timeout: 2 * time.Second}})

	require.Error(t, err)
	var credErr *CredentialsError
	assert.False(t, errors.As(err, &credErr))
	assert.Contains(t, err.Error(), addr)
}
