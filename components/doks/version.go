package doks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ResolveVersion returns the newest DOKS version slug of a Kubernetes minor
// line ("1.35" -> "1.35.4-do.0"), asked of DigitalOcean at each run the way
// the provider's own example "Pin a Kubernetes cluster to a specific minor
// version" does: GetKubernetesVersions with versionPrefix "<minor>." and its
// latestVersion. Checked in terraform-provider-digitalocean v2.96.0
// (digitalocean/kubernetes/datasource_kubernetes_versions.go): the data
// source keeps the API's slugs that start with the prefix, newest first, and
// leaves latestVersion unset when none does, without an error. That case is
// an error here, naming the key and the lines that are on offer.
func ResolveVersion(ctx *pulumi.Context, minor string) (string, error) {
	// The trailing dot keeps "1.3" from matching 1.35 slugs.
	prefix := minor + "."
	line, err := digitalocean.GetKubernetesVersions(ctx, &digitalocean.GetKubernetesVersionsArgs{VersionPrefix: &prefix})
	if err != nil {
		return "", fmt.Errorf("doks.kubernetesMinor %q: looking up DOKS versions: %w", minor, err)
	}
	if line.LatestVersion != "" {
		return line.LatestVersion, nil
	}
	all, err := digitalocean.GetKubernetesVersions(ctx, &digitalocean.GetKubernetesVersionsArgs{})
	if err != nil {
		return "", fmt.Errorf("doks.kubernetesMinor %q: looking up DOKS versions: %w", minor, err)
	}
	return "", fmt.Errorf("doks.kubernetesMinor %q: DigitalOcean offers no DOKS version of that line; lines on offer: %s", minor, strings.Join(Lines(all.ValidVersions), ", "))
}

// Lines are the distinct minor lines of DOKS slugs, newest first.
func Lines(slugs []string) []string {
	seen := map[string]bool{}
	var lines []string
	for _, s := range slugs {
		parts := strings.SplitN(s, ".", 3)
		if len(parts) < 3 {
			continue
		}
		l := parts[0] + "." + parts[1]
		if !seen[l] {
			seen[l] = true
			lines = append(lines, l)
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return minorLess(lines[j], lines[i]) })
	if len(lines) == 0 {
		return []string{"none"}
	}
	return lines
}

func minorLess(a, b string) bool {
	var am, an, bm, bn int
	_, _ = fmt.Sscanf(a, "%d.%d", &am, &an)
	_, _ = fmt.Sscanf(b, "%d.%d", &bm, &bn)
	if am != bm {
		return am < bm
	}
	return an < bn
}
