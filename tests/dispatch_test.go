package tests

import (
	"errors"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/stacks"
)

func TestUnknownStackListsValidOnes(t *testing.T) {
	for _, name := range []string{"staging", "Prod"} {
		t.Run("stack="+name, func(t *testing.T) {
			cloud := mockcloud.New(config.Project, name)
			err := pulumi.RunErr(stacks.Run, pulumi.WithMocks(config.Project, name, cloud))
			require.Error(t, err)
			var unknown *config.UnknownStackError
			require.True(t, errors.As(err, &unknown), "got %v", err)
			assert.Contains(t, err.Error(), "valid stacks are prod, onprem")
			assert.Empty(t, cloud.Resources())
		})
	}
}

func TestStackDispatchRunsEachComposition(t *testing.T) {
	// Each stack's composition declares its own components: prod the
	// DigitalOcean side, onprem the Talos side. The stack name picks one.
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
