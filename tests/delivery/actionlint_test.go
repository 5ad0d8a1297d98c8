package delivery

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/toolpath"
)

// The version .ci/run installs; findings can differ between versions.
const (
	actionlintVersion = "v1.7.12"
	actionlintInstall = "go install github.com/rhysd/actionlint/cmd/actionlint@" + actionlintVersion
)

// actionlint checks every workflow: syntax, expressions and their types,
// the inputs of known actions (pulumi/actions@v6 among them) and of the local
// setup action, runner labels (.github/actionlint.yaml), and the shell of
// every run: step through shellcheck when shellcheck is installed (.ci/run
// installs it).
func TestWorkflowsPassActionlint(t *testing.T) {
	bin, err := toolpath.Find("actionlint")
	require.NoError(t, err, "actionlint is required to test the workflows; install it with:\n\t%s", actionlintInstall)
	out, err := exec.Command(bin, "-version").Output()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(out), actionlintVersion+"\n"),
		"actionlint %s is pinned, found %q; install it with:\n\t%s", actionlintVersion, firstLine(string(out)), actionlintInstall)
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Log("shellcheck not found: run: scripts are not shell-checked (apt-get install shellcheck)")
	}

	cmd := exec.Command(bin, "-no-color")
	cmd.Dir = repoRoot(t)
	findings, err := cmd.CombinedOutput()

	assert.NoError(t, err, "actionlint found problems:\n%s", findings)
	assert.Empty(t, strings.TrimSpace(string(findings)))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
