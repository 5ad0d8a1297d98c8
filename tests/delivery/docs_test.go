package delivery

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeMaxLines is how long README.md may grow: a newcomer reads it to the
// end (issue 17: about 250 lines); everything else lives in docs/.
const readmeMaxLines = 260

var (
	// mdLink is an inline Markdown link; group 1 is its target.
	mdLink = regexp.MustCompile(`\]\(([^)\s]*)\)`)
	// codeSpan is an inline code span, whose text is not Markdown.
	codeSpan = regexp.MustCompile("`[^`]*`")
	// atxHeading is a Markdown heading line; group 1 is its text.
	atxHeading = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
)

// proseLines are a document's lines outside fenced code blocks.
func proseLines(doc string) []string {
	var out []string
	fence := ""
	for line := range strings.SplitSeq(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			fence = trimmed[:3]
		case fence != "" && strings.HasPrefix(trimmed, fence):
			fence = ""
		case fence == "":
			out = append(out, line)
		}
	}
	return out
}

// slug is the anchor GitHub gives a heading, as github-slugger computes it
// (Flet/github-slugger index.js): lower case, punctuation and symbols
// dropped, each space a hyphen.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors are the heading anchors of a document; a repeated heading gets
// -1, -2, ... as on GitHub.
func anchors(doc string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, line := range proseLines(doc) {
		m := atxHeading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		s := slug(m[1])
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// links are the targets of a document's links; code is not Markdown.
func links(doc string) []string {
	var out []string
	for _, line := range proseLines(doc) {
		for _, m := range mdLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// brokenLinks lists every relative link in the document at rel (a path from
// the repository root) that does not resolve, with the reason.
func brokenLinks(root, rel, doc string) []string {
	var broken []string
	for _, target := range links(doc) {
		if problem := linkProblem(root, rel, doc, target); problem != "" {
			broken = append(broken, target+": "+problem)
		}
	}
	return broken
}

// linkProblem says why a link of the document at rel does not resolve: a
// target outside the repository, a missing file, or an anchor that no
// heading of the target document has. Web links are not followed.
func linkProblem(root, rel, doc, target string) string {
	if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
		return ""
	}
	file, anchor, _ := strings.Cut(target, "#")
	if file != "" {
		path := filepath.Join(root, filepath.Dir(rel), filepath.FromSlash(file))
		if r, err := filepath.Rel(root, path); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return "outside the repository"
		}
		fi, err := os.Stat(path)
		if err != nil {
			return "no such file"
		}
		if anchor == "" {
			return ""
		}
		if fi.IsDir() || !strings.HasSuffix(path, ".md") {
			return "an anchor needs a Markdown file"
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err.Error()
		}
		doc = string(body)
	}
	if !anchors(doc)[anchor] {
		return "no heading with anchor #" + anchor
	}
	return ""
}

// Every relative link in README.md and docs/ reaches a file of the
// repository, and a heading where it names one.
func TestDocumentLinksResolve(t *testing.T) {
	root := repoRoot(t)
	seen := 0
	for _, f := range docFiles(t) {
		doc := readFile(t, f)
		seen += len(links(doc))
		assert.Empty(t, brokenLinks(root, f, doc), "%s has broken links", f)
	}
	assert.Positive(t, seen)
}

// The link check itself: each kind of broken link is reported, and links
// in code are not links.
func TestBrokenLinksAreFound(t *testing.T) {
	root := repoRoot(t)
	cases := []struct {
		name, doc string
		broken    []string
	}{
		{"resolving links", "# Top\n[a](docs/README.md), [b](docs/README.md#decisions), [c](#top), [d](https://example.com/x.md#y)", nil},
		{"missing file", "see [plan](docs/plans.md)", []string{"docs/plans.md: no such file"}},
		{"missing anchor in another document", "[order](README.md#bring-up)", []string{"README.md#bring-up: no heading with anchor #bring-up"}},
		{"missing anchor in the same document", "# Top\n[x](#no-such-heading)", []string{"#no-such-heading: no heading with anchor #no-such-heading"}},
		{"anchor on a directory", "[r](docs/runbooks/#x)", []string{"docs/runbooks/#x: an anchor needs a Markdown file"}},
		{"outside the repository", "[s](../shared/charts)", []string{"../shared/charts: outside the repository"}},
		{"code is not a link", "`[x](nowhere.md)`\n```sh\necho [y](nowhere.md)\n```", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.broken, brokenLinks(root, "README.md", c.doc))
		})
	}
}

// GitHub's anchors: punctuation and code marks dropped, spaces hyphens,
// repeated headings numbered; headings in code blocks are not headings.
func TestAnchors(t *testing.T) {
	doc := "# A real `pulumi up` without an account\n## Helm: helm/v4 `Chart` for every chart\n" +
		"### The `prod` stack (DigitalOcean)\n## Limits & retries\n## Notes\n## Notes\n```sh\n# not a heading\n```\n"
	got := anchors(doc)
	for _, want := range []string{"a-real-pulumi-up-without-an-account", "helm-helmv4-chart-for-every-chart",
		"the-prod-stack-digitalocean", "limits--retries", "notes", "notes-1"} {
		assert.True(t, got[want], "no anchor %s in %v", want, got)
	}
	assert.False(t, got["not-a-heading"])
}

// README.md stays short enough to read to the end.
func TestReadmeIsShort(t *testing.T) {
	lines := strings.Count(readFile(t, "README.md"), "\n")
	assert.LessOrEqual(t, lines, readmeMaxLines, "README.md has %d lines: move detail into docs/ and link it", lines)
}

// docs/README.md is the index: it links every document under docs/.
func TestDocsIndexListsEveryDocument(t *testing.T) {
	index := readFile(t, "docs/README.md")
	linked := map[string]bool{}
	for _, target := range links(index) {
		file, _, _ := strings.Cut(target, "#")
		linked[filepath.ToSlash(filepath.Join("docs", file))] = true
	}
	docs := 0
	for _, f := range docFiles(t) {
		if !strings.HasPrefix(f, "docs/") || f == "docs/README.md" {
			continue
		}
		docs++
		assert.True(t, linked[f], "docs/README.md does not list %s", f)
	}
	require.Positive(t, docs)
}
