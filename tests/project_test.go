package tests

import (
	"slices"
	"strings"
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
	for _, kind := range config.Kinds {
		for _, k := range config.KeysFor(kind) {
			read[k] = false
		}
		for _, s := range config.SecretSpecsFor(kind) {
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
		// The Pulumi CLI requires a key declared without a default in every
		// stack: a key that some stack does not read needs a default, and a
		// secret's default can only be empty (empty counts as unset).
		everyStack := true
		for _, kind := range config.Kinds {
			reads := slices.Contains(config.KeysFor(kind), key) ||
				slices.ContainsFunc(config.SecretSpecsFor(kind), func(s config.SecretSpec) bool { return s.Key == key })
			everyStack = everyStack && reads
		}
		if !everyStack {
			assert.NotNil(t, decl.Default, "%s is not read by every stack, so it needs a default in Pulumi.yaml", key)
		}
		// The CLI also requires a `secret: true` key to be encrypted in every
		// stack, defaults included. A secret every stack reads carries the flag
		// and no default; one only some stacks read has an empty default and
		// no flag, and the program refuses it in plaintext (config tests).
		switch {
		case !secret:
			assert.False(t, decl.Secret, "%s is not a secret", key)
		case everyStack:
			assert.True(t, decl.Secret, "secret %s is read by every stack: it needs secret: true", key)
			assert.Nil(t, decl.Default, "secret %s is read by every stack: it must have no default", key)
		default:
			assert.False(t, decl.Secret, "secret %s is read by one stack: secret: true would make the CLI refuse the other", key)
			assert.Equal(t, "", decl.Default, "secret %s: its default can only be empty", key)
			assert.Contains(t, decl.Description, "secret", "%s: the description must say it is a secret", key)
		}
	}
	for key := range project.Config {
		if strings.Contains(key, ":") && !strings.HasPrefix(key, config.Project+":") {
			continue // another namespace's value (providers_test.go)
		}
		_, ok := read[key]
		assert.True(t, ok, "Pulumi.yaml declares %s, which no stack reads", key)
	}
}
