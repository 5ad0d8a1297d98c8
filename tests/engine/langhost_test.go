package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/internal/localcloud"
)

// The language plugin of localcloud.LanguageHostFor runs the program it is
// given, not a fresh build of the project's main: a project whose main is
// the repository (which builds and would run) gets the given stand-in
// program, whose failure the CLI reports. Without the wrapper the pinned
// CLI's host would link the repository's program at every command.
func TestLanguageHostRunsTheGivenBinary(t *testing.T) {
	c := ctx(t)
	dir := t.TempDir()
	program := filepath.Join(dir, "program")
	const marker = "the prebuilt program ran"
	require.NoError(t, os.WriteFile(program, []byte("#!/bin/sh\necho '"+marker+"' >&2\nexit 3\n"), 0o700))
	host := filepath.Join(dir, "language-host")
	require.NoError(t, localcloud.LanguageHostFor(ws.Tools, host, program))
	main, err := filepath.Rel(dir, root)
	require.NoError(t, err)
	project, err := yaml.Marshal(map[string]any{
		"name": "language-host", "runtime": "go", "main": main,
		"plugins": localcloud.LanguagePlugins(host),
	})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o600))

	_, err = pulumiIn(c, dir, "stack", "init", "langhost", "--secrets-provider", "passphrase")
	require.NoError(t, err)
	out, err := pulumiIn(c, dir, "preview", "--stack", "langhost", "--suppress-progress")
	require.Error(t, err, "the stand-in program exits 3")
	assert.Contains(t, out, marker)
}
