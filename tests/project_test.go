package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/plan"
)

// Every key the program reads is declared in Pulumi.yaml with a type and a
// description, secrets with secret: true, and nothing else is declared.
func TestPulumiYamlDeclaresEveryKey(t *testing.T) {
	project, err := plan.ReadProject(projectDir(t))
	require.NoError(t, err)
	assert.Equal(t, config.Project, project.Name)
	assert.Equal(t, "go", project.Runtime)
	assert.Contains(t, project.Backend.URL, "digitaloceanspaces.com", "state lives in DO Spaces")

	read := map[string]bool{}
	for _, stack := range config.Stacks {
		for _, k := range config.KeysFor(stack) {
			read[k] = false
		}
		for _, s := range config.SecretSpecsFor(stack) {
			read[s.Key] = true
		}
	}
	for key, secret := range read {
		decl, ok := project.Config[key]
		if !assert.True(t, ok, "Pulumi.yaml does not declare %s", key) {
			continue
		}
		assert.NotEmpty(t, decl.Type, "%s has no type", key)
		assert.NotEmpty(t, decl.Description, "%s has no description", key)
		assert.Equal(t, secret, decl.Secret, "%s secret flag", key)
		if secret {
			assert.Nil(t, decl.Default, "secret %s must not have a default", key)
		}
	}
	for key := range project.Config {
		_, ok := read[key]
		assert.True(t, ok, "Pulumi.yaml declares %s, which no stack reads", key)
	}
}
