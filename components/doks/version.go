package doks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
)

// ResolveVersion returns the newest DOKS version slug of a Kubernetes minor
// line ("1.35" -> "1.35.4-do.0"), asked of DigitalOcean at each run the way
// the provider's own example "Pin a Kubernetes cluster to a specific minor
// version" does: GetKubernetesVersions with versionPrefix "<minor>." and its
// latestVersion. Checked in terraform-provider-digitalocean v2.96.0
// (digitalocean/kubernetes/datasource_kubernetes_versions.go): the data
// source keeps the API's slugs that start with the prefix, newest first, and
// leaves latestVersion unset when none does, without an error. That case is
// an error here, naming the key and the lines that are on offer. opts name
// the DigitalOcean provider (default providers are disabled).
func ResolveVersion(ctx *pulumi.Context, minor string, opts ...pulumi.InvokeOption) (string, error) {
	// The trailing dot keeps "1.3" from matching 1.35 slugs.
	prefix := minor + "."
	line, err := digitalocean.GetKubernetesVersions(ctx, &digitalocean.GetKubernetesVersionsArgs{VersionPrefix: &prefix}, opts...)
	if err != nil {
		return "", fmt.Errorf("doks.kubernetesMinor %q: looking up DOKS versions: %w", minor, err)
	}
	if line.LatestVersion != "" {
		return line.LatestVersion, nil
	}
	all, err := digitalocean.GetKubernetesVersions(ctx, &digitalocean.GetKubernetesVersionsArgs{}, opts...)
	if err != nil {
		return "", fmt.Errorf("doks.kubernetesMinor %q: looking up DOKS versions: %w", minor, err)
	}
	return "", fmt.Errorf("doks.kubernetesMinor %q: DigitalOcean offers no DOKS version of that line; lines on offer: %s", minor, strings.Join(Lines(all.ValidVersions), ", "))
}

// Lines are the distinct minor lines of DOKS slugs, in the order given: the
// API lists slugs newest first (the data source takes the first as
// latestVersion), so the lines come newest first too.
func Lines(slugs []string) []string {
	var lines []string
	for _, s := range slugs {
		if l := config.MinorOf(s); !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return []string{"none"}
	}
	return lines
}
