package statebucket

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// runCommand runs the bootstrap-state command with the given environment.
func runCommand(env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut strings.Builder
	code = Main(args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCommand(t *testing.T) {
	good := map[string]string{
		"AWS_ACCESS_KEY_ID":     server.root.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": server.root.SecretAccessKey,
		"PULUMI_BACKEND_URL":    server.backendURL("state-command"),
	}
	wrongSecret := map[string]string{
		"AWS_ACCESS_KEY_ID":     server.root.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": "wrong",
		"PULUMI_BACKEND_URL":    server.backendURL("state-command"),
	}
	// In order: each step sees the state the one before left.
	steps := []struct {
		name    string
		env     map[string]string
		args    []string
		code    int
		stdout  []string
		stderr  []string
		nothing bool // stdout must not say "created"
	}{
		{name: "check before bootstrap", env: good, args: []string{"--check"}, code: ExitWouldChange,
			stdout: []string{"target from PULUMI_BACKEND_URL", "would create", "check only"}},
		{name: "wrong credentials", env: wrongSecret, code: ExitFailed,
			stderr: []string{"refused", "SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY"}},
		{name: "create", env: good, code: ExitOK,
			stdout: []string{"state bucket state-command at " + server.endpoint, "created (private)", "versioning: enabled"}},
		{name: "re-run", env: good, code: ExitOK, nothing: true,
			stdout: []string{"already exists, private", "versioning: already enabled", "nothing changed"}},
		{name: "check after bootstrap", env: good, args: []string{"--check"}, code: ExitOK, nothing: true,
			stdout: []string{"nothing changed"}},
		{name: "flags override the backend URL", env: good, args: []string{"--bucket", "state-command-flag"}, code: ExitOK,
			stdout: []string{"state bucket state-command-flag", "created (private)"}},
	}
	for _, st := range steps {
		code, stdout, stderr := runCommand(st.env, st.args...)
		assert.Equal(t, st.code, code, "%s: exit code\nstdout:\n%s\nstderr:\n%s", st.name, stdout, stderr)
		for _, want := range st.stdout {
			assert.Contains(t, stdout, want, "%s: stdout", st.name)
		}
		for _, want := range st.stderr {
			assert.Contains(t, stderr, want, "%s: stderr", st.name)
		}
		if st.nothing {
			assert.NotContains(t, stdout, "created", "%s", st.name)
		}
	}
}

func TestCommandUsage(t *testing.T) {
	cases := []struct {
		name   string
		env    map[string]string
		args   []string
		stderr string
	}{
		{"not an s3 URL", map[string]string{"PULUMI_BACKEND_URL": "file://~"}, nil, "expected an s3:// URL"},
		{"no Pulumi.yaml", nil, []string{"--project-dir", "/nonexistent"}, "no --backend-url or PULUMI_BACKEND_URL"},
		{"stray argument", nil, []string{"extra"}, "unexpected argument"},
		{"unknown flag", nil, []string{"--nope"}, "flag provided but not defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCommand(tc.env, tc.args...)
			assert.Equal(t, ExitUsage, code)
			assert.Contains(t, stderr, tc.stderr)
		})
	}
}
