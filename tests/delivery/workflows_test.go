package delivery

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The only write scopes a job may hold, and why.
var allowedWrites = map[string]string{
	"pull-requests": "the preview diff comment",
	"issues":        "the drift issue",
}

// Least privilege: no workflow grants anything by default, every job says
// what it needs, and only the writes above are ever granted.
func TestWorkflowPermissionsAreLeastPrivilege(t *testing.T) {
	for _, w := range loadWorkflows(t) {
		assert.NotNil(t, w.Permissions, "%s: set `permissions: {}` at the top", w.file)
		assert.Empty(t, w.Permissions, "%s: top-level permissions must be empty; grant per job", w.file)
		for _, j := range w.Jobs {
			where := w.file + " job " + j.id
			if !assert.NotNil(t, j.Permissions, "%s: no permissions block", where) {
				continue
			}
			for scope, level := range j.Permissions {
				switch level {
				case "read", "none":
				case "write":
					_, ok := allowedWrites[scope]
					assert.True(t, ok, "%s: %s: write is not allowed", where, scope)
				default:
					t.Errorf("%s: %s: %q", where, scope, level)
				}
			}
		}
	}
}

// Every use of the Pulumi action installs the CLI version from
// .pulumi-version (through the setup action's output) and logs in to the
// backend from the repository secret.
func TestPulumiStepsUseThePinnedCLIAndSecretBackend(t *testing.T) {
	count := 0
	for _, w := range loadWorkflows(t) {
		for _, j := range w.Jobs {
			for _, s := range j.pulumiSteps() {
				count++
				where := fmt.Sprintf("%s job %s", w.file, j.id)
				assert.Equal(t, "pulumi/actions@v6", s.Uses, where)
				assert.Equal(t, "${{ steps.setup.outputs.pulumi-version }}", s.With["pulumi-version"], where)
				assert.Equal(t, "${{ secrets.PULUMI_BACKEND_URL }}", s.With["cloud-url"], where)
				assert.Contains(t, []string{"prod", "onprem"}, s.With["stack-name"], where)
				assert.True(t, slices.ContainsFunc(j.Steps, func(st step) bool {
					return st.ID == "setup" && st.Uses == "./.github/actions/setup"
				}), "%s: the setup step (id: setup) is missing", where)
			}
		}
	}
	assert.Positive(t, count)
}

// The state backend and every credential come from repository secrets.
func TestCredentialsComeFromSecrets(t *testing.T) {
	secretVars := []string{
		"PULUMI_BACKEND_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PULUMI_CONFIG_PASSPHRASE",
		"DIGITALOCEAN_TOKEN", "SPACES_ACCESS_KEY_ID", "SPACES_SECRET_ACCESS_KEY", "CLOUDFLARE_API_TOKEN",
	}
	for _, w := range loadWorkflows(t) {
		text := readFile(t, ".github/workflows/"+w.file)
		assert.NotContains(t, text, "s3://", "%s: the backend URL is the PULUMI_BACKEND_URL secret", w.file)
		assert.NotContains(t, text, "digitaloceanspaces.com", w.file)
		for _, j := range w.Jobs {
			for _, name := range secretVars {
				if v, ok := j.Env[name]; ok {
					assert.Equal(t, "${{ secrets."+name+" }}", v, "%s job %s: %s", w.file, j.id, name)
				}
			}
			if len(j.pulumiSteps()) > 0 {
				for _, name := range secretVars[:4] { // the state backend and its passphrase
					assert.Contains(t, j.Env, name, "%s job %s", w.file, j.id)
				}
			}
		}
	}
}

// stackOf is the stack a job's Pulumi steps act on, and whether any of them
// writes state.
func stackOf(t *testing.T, j *job) (stack string, writes bool) {
	t.Helper()
	for _, s := range j.pulumiSteps() {
		stack = s.With["stack-name"]
		if s.With["command"] != "preview" {
			writes = true
		}
	}
	return stack, writes
}

// State-writing runs are serialized per stack and never cancelled half-way;
// read-only runs use their own groups, so that they can never take the place
// of a pending `up` (GitHub cancels the pending run of a group when another
// joins it).
func TestJobsAreSerializedPerStack(t *testing.T) {
	for _, w := range loadWorkflows(t) {
		for _, j := range w.Jobs {
			stack, writes := stackOf(t, j)
			if stack == "" {
				continue
			}
			where := w.file + " job " + j.id
			require.NotNil(t, j.Concurrency, "%s: no concurrency group", where)
			assert.True(t, strings.HasPrefix(j.Concurrency.Group, "pulumi-"+stack+"-"), "%s: group %q", where, j.Concurrency.Group)
			if writes {
				assert.Equal(t, "pulumi-"+stack+"-state", j.Concurrency.Group, where)
				assert.False(t, j.Concurrency.CancelInProgress, "%s: an up must never be cancelled half-way", where)
			} else {
				assert.NotEqual(t, "pulumi-"+stack+"-state", j.Concurrency.Group, "%s: a preview must not share the state group", where)
			}
		}
	}
}

// onprem runs where the Talos API is reachable; prod where the DOKS
// control-plane firewall admits the runner: on the runner doks.ciRunner
// names, whose egress config validation keeps inside
// doks.controlPlaneAllowedCidrs (internal/config/digitalocean.go).
func TestOnpremJobsRunOnTheSelfHostedRunner(t *testing.T) {
	var prod struct {
		Config struct {
			Doks struct {
				CIRunner struct {
					Labels []string `yaml:"labels"`
				} `yaml:"ciRunner"`
			} `yaml:"hybrid-platform:doks"`
		} `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(readFile(t, "Pulumi.prod.yaml")), &prod))
	doksRunner := prod.Config.Doks.CIRunner.Labels
	require.NotEmpty(t, doksRunner, "Pulumi.prod.yaml sets doks.ciRunner.labels")
	for _, w := range loadWorkflows(t) {
		for _, j := range w.Jobs {
			stack, _ := stackOf(t, j)
			where := w.file + " job " + j.id
			switch stack {
			case "onprem":
				assert.Equal(t, []string{"self-hosted", "linux", "talos-api"}, j.runners(), where)
				for _, name := range []string{"DIGITALOCEAN_TOKEN", "CLOUDFLARE_API_TOKEN", "SPACES_SECRET_ACCESS_KEY"} {
					assert.NotContains(t, j.Env, name, "%s: onprem needs no cloud token", where)
				}
			case "prod":
				assert.Equal(t, doksRunner, j.runners(), "%s: a job that reaches the DOKS API runs on doks.ciRunner", where)
			}
		}
	}
}

func TestPullRequestWorkflow(t *testing.T) {
	w := workflowNamed(t, "pull-request.yml")
	require.Contains(t, w.On, "pull_request")

	runs := allRuns(w)
	assert.Contains(t, runs, "bash .ci/run", "the README test command runs through .ci/run")
	assert.Equal(t, readmeTestCommand(t), lastCommand(t, readFile(t, ".ci/run")),
		".ci/run ends with exactly the README's test command")
	assert.Contains(t, runs, `go run ./cmd/plan --stack "$STACK"`)
	require.Contains(t, w.Jobs, "offline-plan")
	assert.Equal(t, []any{"prod", "onprem"}, w.Jobs["offline-plan"].Strategy.Matrix["stack"])

	previews := map[string]bool{}
	for _, j := range w.Jobs {
		for _, s := range j.pulumiSteps() {
			assert.Equal(t, "preview", s.With["command"], j.id)
			assert.Equal(t, "true", s.With["comment-on-pr"], j.id)
			previews[s.With["stack-name"]] = true
			assert.Equal(t, "write", j.Permissions["pull-requests"], j.id)
			assert.Contains(t, j.If, "github.event.pull_request.head.repo.full_name == github.repository",
				"%s: forks get no secrets: skip the preview for them", j.id)
		}
	}
	assert.Equal(t, map[string]bool{"prod": true, "onprem": true}, previews)

	var trivy []string
	for _, s := range w.Jobs["trivy"].Steps {
		if strings.HasPrefix(s.Uses, "aquasecurity/trivy-action@") {
			assert.Regexp(t, `@[0-9a-f]{40}$`, s.Uses, "trivy-action is pinned by commit (its tags were hijacked in March 2026)")
			assert.NotEmpty(t, s.With["version"], "the Trivy version is pinned")
			assert.Equal(t, "1", s.With["exit-code"], "findings fail the PR")
			trivy = append(trivy, s.With["scan-type"])
		}
	}
	assert.Equal(t, []string{"config", "fs"}, trivy, "IaC/config misconfigurations, then secrets and vulnerable modules")
}

func TestDeployWorkflow(t *testing.T) {
	w := workflowNamed(t, "deploy.yml")
	push, ok := w.On["push"].(map[string]any)
	require.True(t, ok, "deploy runs on push")
	assert.Equal(t, []any{"main"}, push["branches"])

	prod, onprem := w.Jobs["up-prod"], w.Jobs["up-onprem"]
	require.NotNil(t, prod)
	require.NotNil(t, onprem)
	assert.Equal(t, "prod", prod.Environment, "prod waits for the approval of the prod environment")
	assert.Equal(t, "test", prod.Needs)
	assert.Equal(t, "up-prod", onprem.Needs, "onprem reads prod's outputs: prod goes first")
	for _, j := range []*job{prod, onprem} {
		require.Len(t, j.pulumiSteps(), 1, j.id)
		assert.Equal(t, "up", j.pulumiSteps()[0].With["command"], j.id)
	}
	// After onprem's up, the same job upgrades the Talos nodes: on the
	// runner that reaches the Talos API, inside the state group (no other up
	// runs while nodes reboot), with the outputs piped under pipefail so that
	// a failed `pulumi stack output` fails the step.
	upAt, upgradeAt := -1, -1
	for i, s := range onprem.Steps {
		if strings.HasPrefix(s.Uses, "pulumi/actions@") {
			upAt = i
		}
		if strings.Contains(s.Run, "go run ./cmd/talos-upgrade") {
			upgradeAt = i
			assert.Contains(t, s.Run, "pulumi stack output --json --show-secrets -s onprem")
			assert.Equal(t, "bash", s.Shell, "shell: bash sets -o pipefail")
		}
	}
	require.GreaterOrEqual(t, upgradeAt, 0, "up-onprem runs cmd/talos-upgrade")
	assert.Greater(t, upgradeAt, upAt, "the upgrade runs after the up")

	converged := w.Jobs["prod-converged"]
	require.NotNil(t, converged)
	assert.Equal(t, "up-onprem", converged.Needs)
	assert.Equal(t, "true", converged.pulumiSteps()[0].With["expect-no-changes"])
}

func TestDriftWorkflow(t *testing.T) {
	w := workflowNamed(t, "drift.yml")
	require.Contains(t, w.On, "schedule")
	stacks := map[string]bool{}
	for _, j := range w.Jobs {
		for _, s := range j.pulumiSteps() {
			assert.Equal(t, "preview", s.With["command"], "drift changes nothing")
			assert.Equal(t, "true", s.With["refresh"], "drift compares with the real resources")
			assert.Equal(t, "true", s.With["expect-no-changes"], "any change fails the job")
			stacks[s.With["stack-name"]] = true
		}
	}
	assert.Equal(t, map[string]bool{"prod": true, "onprem": true}, stacks)
	report := w.Jobs["report"]
	require.NotNil(t, report, "a failure opens an issue")
	assert.Contains(t, report.If, "always()")
	assert.Equal(t, map[string]string{"issues": "write"}, report.Permissions)
}

var pinnedRef = regexp.MustCompile(`^[^@]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$`)

// Every action is pinned to a release tag or a commit, never a branch.
func TestActionsArePinned(t *testing.T) {
	setup := readFile(t, ".github/actions/setup/action.yml")
	uses := regexp.MustCompile(`(?m)^\s*-?\s*uses:\s*(\S+)`).FindAllStringSubmatch(setup, -1)
	for _, w := range loadWorkflows(t) {
		uses = append(uses, regexp.MustCompile(`(?m)^\s*-?\s*uses:\s*(\S+)`).FindAllStringSubmatch(readFile(t, ".github/workflows/"+w.file), -1)...)
	}
	require.NotEmpty(t, uses)
	for _, u := range uses {
		if strings.HasPrefix(u[1], "./") {
			continue
		}
		assert.Regexp(t, pinnedRef, u[1])
	}
}

// The Pulumi CLI version lives in .pulumi-version alone, matches the Go SDK
// the program is built with, and is what the README tells users to install.
func TestPulumiCLIVersionIsPinnedOnce(t *testing.T) {
	version := strings.TrimSpace(readFile(t, ".pulumi-version"))
	require.Regexp(t, `^v\d+\.\d+\.\d+$`, version)

	sdk := regexp.MustCompile(`(?m)^\s*github\.com/pulumi/pulumi/sdk/v3 (v\S+)`).FindStringSubmatch(readFile(t, "go.mod"))
	require.NotNil(t, sdk, "go.mod requires the Pulumi Go SDK")
	assert.Equal(t, sdk[1], version, "the CLI and the Go SDK move together")
	assert.Contains(t, readFile(t, "README.md"), "Pulumi CLI "+version)

	for _, w := range loadWorkflows(t) {
		assert.NotContains(t, readFile(t, ".github/workflows/"+w.file), strings.TrimPrefix(version, "v"),
			"%s: read the version from .pulumi-version, do not repeat it", w.file)
	}
}

func allRuns(w *workflow) string {
	var b strings.Builder
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			b.WriteString(s.Run)
			b.WriteString("\n")
		}
	}
	return b.String()
}

// The DOKS kubeconfig runs doctl for a cluster token
// (components/doks/provider.go), so every job that acts on prod installs
// doctl from its pinned wrapper module before its first Pulumi step, hands
// it the DigitalOcean token under the name doctl reads, and removes doctl's
// token cache at the end, whatever happened: the runner is self-hosted and
// outlives the job.
func TestProdJobsGetDoctlAndDropItsTokens(t *testing.T) {
	action := readFile(t, ".github/actions/doctl/action.yml")
	assert.Contains(t, action, "working-directory: tools/doctl", "doctl is built at the version tools/doctl/go.mod pins")
	assert.Contains(t, action, "github.com/digitalocean/doctl/cmd/doctl")
	assert.Contains(t, action, `XDG_CONFIG_HOME=$RUNNER_TEMP/doctl-home`, "doctl caches its tokens under $XDG_CONFIG_HOME/doctl")
	assert.Regexp(t, `(?m)^require github.com/digitalocean/doctl v\d+\.\d+\.\d+$`, readFile(t, "tools/doctl/go.mod"))
	assert.Contains(t, readFile(t, "tools/doctl/go.sum"), "github.com/digitalocean/doctl v", "go.sum verifies the pinned doctl")

	count := 0
	for _, w := range loadWorkflows(t) {
		for _, j := range w.Jobs {
			if stack, _ := stackOf(t, j); stack != "prod" {
				continue
			}
			count++
			where := w.file + " job " + j.id
			assert.Equal(t, "${{ secrets.DIGITALOCEAN_TOKEN }}", j.Env["DIGITALOCEAN_ACCESS_TOKEN"], "%s: doctl reads DIGITALOCEAN_ACCESS_TOKEN", where)
			doctlAt, pulumiAt := -1, -1
			for i, s := range j.Steps {
				if s.Uses == "./.github/actions/doctl" && doctlAt < 0 {
					doctlAt = i
				}
				if strings.HasPrefix(s.Uses, "pulumi/actions@") && pulumiAt < 0 {
					pulumiAt = i
				}
			}
			require.GreaterOrEqual(t, doctlAt, 0, "%s: doctl is not installed", where)
			assert.Less(t, doctlAt, pulumiAt, "%s: doctl is installed before the first Pulumi step", where)
			last := j.Steps[len(j.Steps)-1]
			assert.Equal(t, "always()", last.If, "%s: the last step removes doctl's token cache even after a failure", where)
			assert.Equal(t, `rm -rf "$RUNNER_TEMP/doctl-home"`, last.Run, where)
		}
	}
	assert.Equal(t, 4, count, "prod's preview, up, convergence check and drift check")
}

// readmeTestCommand is the command in the README's "full test suite" block.
func readmeTestCommand(t *testing.T) string {
	t.Helper()
	readme := readFile(t, "README.md")
	_, rest, ok := strings.Cut(readme, "**The full test suite**")
	require.True(t, ok, "README.md has no \"The full test suite\" item")
	_, block, ok := strings.Cut(rest, "```sh\n")
	require.True(t, ok, "the full test suite item has no sh block")
	cmd, _, _ := strings.Cut(block, "\n")
	return strings.TrimSpace(cmd)
}

// lastCommand is a script's last command line, without a leading "timed ".
func lastCommand(t *testing.T, script string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(script), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	return strings.TrimPrefix(last, "timed ")
}
