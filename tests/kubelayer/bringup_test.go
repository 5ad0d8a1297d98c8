package kubelayer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
)

// TestKubernetesLayer runs the scenario in order: each step builds on the
// state the one before left.
func TestKubernetesLayer(t *testing.T) {
	steps := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"bring-up prod, onprem, prod through the real provider", bringUpCompleted},
		{"every declared object is in its API server", objectsExist},
		{"every workload is Ready", workloadsReady},
		{"Pod Security admitted every pod", noFailedCreate},
		{"network policies, quotas and RBAC accepted", policiesAccepted},
		{"no plaintext secret in the real provider's state", noPlaintextSecrets},
		{"second preview shows no changes", secondPreviewClean},
		{"a config change previews as update and replace", changeIsSeen},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			t.Fatalf("step %q failed; the later steps depend on it", s.name)
		}
	}
}

// bringUp is the documented bring-up, prod, onprem and prod again, through
// the real provider with its await logic on. TestMain runs it.
func bringUp(timeout time.Duration) error {
	c, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := ws.InitStacks(c); err != nil {
		return err
	}
	bringUpTook = map[string]time.Duration{}
	for i, stack := range []string{config.StackProd, config.StackOnprem, config.StackProd} {
		r, err := ws.Up(c, stack)
		bringUpTook[fmt.Sprintf("%d %s", i+1, stack)] = r.Took
		if err != nil {
			return err
		}
	}
	return nil
}

func bringUpCompleted(t *testing.T) {
	require.NoError(t, bringUpErr)
	t.Logf("pulumi up took: %v", bringUpTook)
	for _, stack := range config.Stacks {
		_, err := ws.Pulumi(ctx(t, time.Minute), nil, "stack", "output", "--stack", stack)
		assert.NoError(t, err)
	}
}
