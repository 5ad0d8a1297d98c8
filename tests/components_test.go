package tests

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/components/registry"
	"github.com/hybridcloud/platform/components/storage"
	"github.com/hybridcloud/platform/components/talos"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
)

// Components reject missing or invalid args with a clear error, before they
// declare anything.
func TestComponentsRejectBadArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(ctx *pulumi.Context) error
		want string
	}{
		{name: "talos nil", want: "talos: Args are required", make: func(ctx *pulumi.Context) error {
			_, err := talos.New(ctx, "x", nil)
			return err
		}},
		{name: "talos without nodes or peer", want: "no control-plane node", make: func(ctx *pulumi.Context) error {
			_, err := talos.New(ctx, "x", &talos.Args{Talos: config.Talos{WireguardNode: "cp-1"}})
			return err
		}},
		{name: "storage nil", want: "storage: Args are required", make: func(ctx *pulumi.Context) error {
			_, err := storage.New(ctx, "x", nil)
			return err
		}},
		{name: "storage with ceph", want: "Ceph is not built", make: func(ctx *pulumi.Context) error {
			_, err := storage.New(ctx, "x", &storage.Args{Storage: config.Storage{Ceph: true}})
			return err
		}},
		{name: "pull secret nil", want: "registry: Args are required", make: func(ctx *pulumi.Context) error {
			_, err := registry.New(ctx, "x", nil)
			return err
		}},
		{name: "pull secret without credentials", want: "Args.DockerConfig is required", make: func(ctx *pulumi.Context) error {
			_, err := registry.New(ctx, "x", &registry.Args{SecretName: "s", Namespaces: []string{"apps"}})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cloud := mockcloud.New(config.Project, config.StackOnprem)
			err := pulumi.RunErr(tc.make, pulumi.WithMocks(config.Project, config.StackOnprem, cloud))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, cloud.Resources(), "nothing is declared from bad args")
		})
	}
}
