package statebucket

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseBackendURL(t *testing.T) {
	cases := []struct {
		url  string
		want Target
		err  string
	}{
		{url: "s3://hybrid-platform-pulumi-state?endpoint=nyc3.digitaloceanspaces.com&region=us-east-1",
			want: Target{Bucket: "hybrid-platform-pulumi-state", Endpoint: "nyc3.digitaloceanspaces.com", Region: "us-east-1"}},
		{url: "s3://state?endpoint=http://127.0.0.1:7070&region=us-east-1&s3ForcePathStyle=true",
			want: Target{Bucket: "state", Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", PathStyle: true}},
		{url: "s3://state?use_path_style=true",
			want: Target{Bucket: "state", Endpoint: DefaultEndpoint, Region: DefaultRegion, PathStyle: true}},
		{url: "s3://state", want: Target{Bucket: "state", Endpoint: DefaultEndpoint, Region: DefaultRegion}},
		{url: "file://~", err: "expected an s3:// URL"},
		{url: "s3://?endpoint=x", err: "no bucket name"},
		{url: "s3://state/prefix", err: "key prefix"},
		{url: "s3://state?s3ForcePathStyle=maybe", err: "expected true or false"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			got, err := ParseBackendURL(tc.url)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// The default target is the project's own backend: Spaces NYC3 over https.
func TestDefaultTargetIsTheProjectBackend(t *testing.T) {
	raw, err := ProjectBackendURL("../..")
	require.NoError(t, err)
	target, err := ParseBackendURL(raw)
	require.NoError(t, err)

	assert.Equal(t, "hybrid-platform-pulumi-state", target.Bucket)
	assert.Equal(t, "https://nyc3.digitaloceanspaces.com", target.EndpointURL())
	assert.Equal(t, DefaultRegion, target.Region)
	assert.False(t, target.PathStyle)
	assert.NoError(t, validBucketName(target.Bucket))
}
