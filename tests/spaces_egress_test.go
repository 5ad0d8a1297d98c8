package tests

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/components/platform"
	"github.com/hybridcloud/platform/internal/plan"
)

const ciliumPolicyType = "kubernetes:cilium.io/v2:CiliumNetworkPolicy"

// Issue 15 item 12: an application namespace with appBucket reaches the app
// bucket's Spaces endpoint by name (the default-deny egress is CIDR-only,
// and Spaces has no fixed CIDR), on 443 only, with DNS visibility through
// Cilium's DNS proxy; one without appBucket gets no such policy.
// tests/network checks the same spec against Cilium's CRD schema.
func TestAppBucketEgressByName(t *testing.T) {
	for _, c := range clusterCases {
		t.Run(c.stack, func(t *testing.T) {
			cfg := loadConfig(t, c.stack)
			require.GreaterOrEqual(t, len(cfg.Platform.Apps), 2)
			for _, a := range cfg.Platform.Apps {
				require.True(t, a.AppBucket, "%s: the stack file opens the app bucket to %s", c.stack, a.Name)
			}
			// The second namespace does without the bucket.
			cfg.Platform.Apps[1].AppBucket = false
			platform, err := json.Marshal(cfg.Platform)
			require.NoError(t, err)
			res, err := runPlatform(t, c, plan.Options{Set: map[string]string{"platform": string(platform)}}, nil)
			require.NoError(t, err)

			with, without := cfg.Platform.Apps[0].Name, cfg.Platform.Apps[1].Name
			assert.Nil(t, res.Cloud.Get(ciliumPolicyType, without+"-allow-spaces-app-bucket"), "no bucket egress for %s", without)
			p := plainInputs(named(t, res, ciliumPolicyType, with+"-allow-spaces-app-bucket"))
			assert.Equal(t, with, digPath(t, p, "metadata.namespace"))
			assert.Equal(t, map[string]any{}, digPath(t, p, "spec.endpointSelector"), "every pod of the namespace")

			// DNS to CoreDNS through the DNS proxy: toFQDNs learns addresses
			// only from lookups it sees.
			assert.Equal(t, map[string]any{
				"k8s:io.kubernetes.pod.namespace": "kube-system",
				"k8s:k8s-app":                     "kube-dns",
			}, digPath(t, p, "spec.egress.0.toEndpoints.0.matchLabels"))
			assert.Equal(t, "ANY", digPath(t, p, "spec.egress.0.toPorts.0.ports.0.protocol"))
			assert.Equal(t, "53", digPath(t, p, "spec.egress.0.toPorts.0.ports.0.port"))
			assert.Equal(t, "*", digPath(t, p, "spec.egress.0.toPorts.0.rules.dns.0.matchPattern"))

			// The bucket's endpoint by exact name, HTTPS only.
			assert.Equal(t, []any{
				map[string]any{"matchName": "nyc3.digitaloceanspaces.com"},
				map[string]any{"matchName": testAppBucket + ".nyc3.digitaloceanspaces.com"},
			}, digPath(t, p, "spec.egress.1.toFQDNs"))
			assert.Equal(t, []any{map[string]any{"port": "443", "protocol": "TCP"}}, digPath(t, p, "spec.egress.1.toPorts.0.ports"))
		})
	}
}

// A namespace with appBucket and no app bucket handed in is refused,
// naming the namespace.
func TestAppBucketEgressNeedsTheBucket(t *testing.T) {
	_, err := runPlatform(t, clusterCases[0], plan.Options{}, func(in *platform.Args) { in.AppBucket = nil })
	require.Error(t, err)
	assertNamesOnly(t, err, "platform", "AppBucket")
	assert.Contains(t, err.Error(), "app namespace shop, which has appBucket")
}
