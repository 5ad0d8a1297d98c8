package tests

import (
	"errors"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/stacks"
)

// A stack's name names its resources: a name that cannot is refused before
// anything is declared. Any other name is an environment.
func TestStackNameMustNameResources(t *testing.T) {
	for _, name := range []string{"Prod", "my_stack", "-staging"} {
		t.Run("stack="+name, func(t *testing.T) {
			cloud := mockcloud.New(config.Project, name)
			err := pulumi.RunErr(stacks.Run, pulumi.WithMocks(config.Project, name, cloud))
			require.Error(t, err)
			var unknown *config.UnknownStackError
			require.True(t, errors.As(err, &unknown), "got %v", err)
			assert.Contains(t, err.Error(), "a lowercase DNS label")
			assert.Empty(t, cloud.Resources())
		})
	}
}

// The composition is the config's kind: one the program does not know is
// refused naming the key, the value and every allowed kind, with nothing
// declared.
func TestUnknownKindIsRefused(t *testing.T) {
	for _, tc := range []struct{ stack, kind, value string }{
		{config.StackProd, "aws", "aws"},
		{config.StackProd, "prod", "prod"},
		{config.StackProd, "DigitalOcean", "DigitalOcean"},
		{config.StackOnprem, "talos", "talos"},
		{stagingStack, "", ""},
	} {
		t.Run(tc.stack+"/"+tc.kind, func(t *testing.T) {
			res, err := runStack(t, plan.Options{Stack: tc.stack, Set: map[string]string{"kind": tc.kind}})
			var verr *config.ValidationError
			require.True(t, errors.As(err, &verr), "got %v", err)
			require.Len(t, verr.Problems, 1)
			p := verr.Problems[0]
			assert.Equal(t, config.Project+":kind", p.Key)
			assert.Equal(t, tc.value, p.Value)
			for _, k := range config.Kinds {
				assert.Contains(t, p.Allowed, string(k))
			}
			assert.Empty(t, res.Cloud.Resources())
		})
	}
}

func TestStackDispatchRunsEachComposition(t *testing.T) {
	// Each stack's composition declares its own components: prod the
	// DigitalOcean side, onprem the Talos side. The config's kind picks one.
	for _, tc := range []struct {
		stack            string
		wantOutput       string
		mustNotHaveTypes []string
	}{
		{stack: "prod", wantOutput: "addressPlan", mustNotHaveTypes: []string{"talos:machine/secrets:Secrets"}},
		{stack: "onprem", wantOutput: "addressPlan", mustNotHaveTypes: []string{"digitalocean:index/vpc:Vpc"}},
	} {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustRun(t, prodRefs(tc.stack))
			assert.Contains(t, res.Outputs, tc.wantOutput)
			for _, typ := range tc.mustNotHaveTypes {
				assert.Empty(t, res.Cloud.ByType(typ), "stack %s declared %s", tc.stack, typ)
			}
		})
	}
}
