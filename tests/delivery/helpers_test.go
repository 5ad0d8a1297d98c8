// Package delivery checks the delivery machinery that ships beside the
// program: the GitHub Actions workflows (actionlint and the team's policy:
// least privilege, per-stack concurrency, one pinned CLI version, secrets
// from the repository) and the runbooks in docs/ (every command they name
// exists). It links no Pulumi SDK, so it builds in seconds.
package delivery

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// repoRoot is the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "no go.mod above the test directory")
		dir = parent
	}
}

func readFile(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	require.NoError(t, err)
	return string(b)
}

// workflow is the part of a GitHub Actions workflow the policy reads.
type workflow struct {
	file        string
	Name        string         `yaml:"name"`
	On          map[string]any `yaml:"on"`
	Permissions map[string]string
	Jobs        map[string]*job `yaml:"jobs"`
}

type job struct {
	id          string
	Name        string            `yaml:"name"`
	If          string            `yaml:"if"`
	RunsOn      any               `yaml:"runs-on"`
	Environment string            `yaml:"environment"`
	Needs       any               `yaml:"needs"`
	Permissions map[string]string `yaml:"permissions"`
	Concurrency *struct {
		Group            string `yaml:"group"`
		CancelInProgress bool   `yaml:"cancel-in-progress"`
	} `yaml:"concurrency"`
	Strategy struct {
		Matrix map[string]any `yaml:"matrix"`
	} `yaml:"strategy"`
	Env   map[string]string `yaml:"env"`
	Steps []step            `yaml:"steps"`
}

type step struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	Uses string `yaml:"uses"`
	Run  string `yaml:"run"`
	If   string `yaml:"if"`
	// Shell: "bash" (explicit) runs with -o pipefail; unspecified does not.
	Shell string            `yaml:"shell"`
	With  map[string]string `yaml:"with"`
	Env   map[string]string `yaml:"env"`
}

// runners lists a job's runs-on labels.
func (j *job) runners() []string {
	switch v := j.RunsOn.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, l := range v {
			s, _ := l.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// pulumiSteps are the job's steps that run the official Pulumi action.
func (j *job) pulumiSteps() []step {
	var out []step
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, "pulumi/actions@") {
			out = append(out, s)
		}
	}
	return out
}

func loadWorkflows(t testing.TB) []*workflow {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), ".github", "workflows", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no workflows in .github/workflows")
	sort.Strings(files)
	var out []*workflow
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var w workflow
		require.NoError(t, yaml.Unmarshal(raw, &w), f)
		w.file = filepath.Base(f)
		for id, j := range w.Jobs {
			j.id = id
		}
		out = append(out, &w)
	}
	return out
}

func workflowNamed(t testing.TB, file string) *workflow {
	t.Helper()
	for _, w := range loadWorkflows(t) {
		if w.file == file {
			return w
		}
	}
	t.Fatalf("no workflow .github/workflows/%s", file)
	return nil
}
