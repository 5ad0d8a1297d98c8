// Package talosmachinery validates the onprem stack's Talos machine configs with
// the real Talos machinery (github.com/siderolabs/talos/pkg/machinery), not a
// mock: the base config of each node's role is generated as the Talos
// provider generates it, the program's patches for the node are applied in
// order with configpatcher, and the result is validated as a metal node
// validates an applied config, in strict mode (warnings fail too).
//
// It links the Talos machinery, so it is a package of its own: the mock suite
// (tests/) does not link it.
//
// Machinery version: v1.12.5. The module proxy serves v1.12.0 and v1.12.5
// (v1.12.8 and later are refused). The provider (terraform-provider-talos
// v0.10.1, driven by pulumi-talos SDK v0.7.1) generates and patches with
// v1.12.0; the node, Talos v1.12.11, validates with its own machinery. v1.12.5
// is the served version closest to the node: checked with
// `git diff v1.12.5 v1.12.11 -- pkg/machinery/config` in siderolabs/talos,
// which leaves v1alpha1 validation unchanged and only adds the OOM default,
// "missing apiVersion" on decode and a HostnameConfig rule (auto unset and no
// hostname); v1.12.0 to v1.12.5 changes no part of generation or patching that
// these configs use (registry document order, decoder messages, KubeSpan
// filters).
package talosmachinery

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	talosconfig "github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/bundle"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
	"github.com/siderolabs/talos/pkg/machinery/constants"
	"github.com/siderolabs/talos/pkg/machinery/gendata"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/hybridcloud/platform/components/talos/machineconfig"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/wgkey"
)

// metal is Talos' metal runtime mode as a validation.RuntimeMode: it
// requires install instructions and is not a container. Checked:
// siderolabs/talos v1.12.11 internal/app/machined/pkg/runtime/mode.go
// (ModeMetal: String "metal", RequiresInstall true, InContainer false).
type metal struct{}

func (metal) String() string        { return "metal" }
func (metal) RequiresInstall() bool { return true }
func (metal) InContainer() bool     { return false }

// gatewayEndpoint stands in for the prod stack's gateway address (a
// documentation address); the port is the stack's own.
const gatewayEndpoint = "198.51.100.20"

// stack is the onprem stack as the program sees it: the validated config and
// what the machine configs are rendered from.
type stack struct {
	cfg        *config.Config
	in         machineconfig.Input
	privateKey string // the on-prem WireGuard key the wg0 patch carries
}

// stackValues reads Pulumi.onprem.yaml as the Pulumi CLI hands it to the
// program: strings as they are, objects and lists as JSON.
func stackValues(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "Pulumi."+config.StackOnprem+".yaml"))
	require.NoError(t, err)
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	out := map[string]any{}
	for k, v := range doc.Config {
		out[strings.TrimPrefix(k, config.Project+":")] = v
	}
	return out
}

// standIn is the stand-in value of a secret key (the offline plan's).
func standIn(t *testing.T, key string) string {
	t.Helper()
	for _, s := range config.SecretSpecs {
		if s.Key == key {
			return s.StandIn()
		}
	}
	require.Failf(t, "no such secret", "%s", key)
	return ""
}

// load validates the stack values with the program's own config loader and
// builds the machine-config input the way stacks/onprem.go does, with the
// prod stack's outputs derived from the same network config.
func load(t *testing.T, values map[string]any) (*stack, error) {
	t.Helper()
	cfg, err := config.LoadFrom(config.StackOnprem, func(key string) (string, bool, bool) {
		for _, s := range config.SecretSpecsFor(config.StackOnprem) {
			if s.Key == key {
				return s.StandIn(), true, true
			}
		}
		v, ok := values[key]
		if !ok {
			return "", false, false
		}
		if s, isString := v.(string); isString {
			return s, true, false
		}
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return string(b), true, false
	})
	if err != nil {
		return nil, err
	}
	gateway, onprem := cfg.Network.TunnelAddresses()
	gatewayKey, err := wgkey.PublicKey(standIn(t, "wireguardGatewayPrivateKey"))
	require.NoError(t, err)
	routes := cfg.Network.CloudRoutes()
	return &stack{
		cfg: cfg,
		in: machineconfig.Input{
			Talos: cfg.Talos, Network: cfg.Network, LocalStoragePath: cfg.Storage.LocalPath,
			Tunnel: machineconfig.Tunnel{
				Address: onprem, ListenPort: cfg.Network.WireguardPort,
				Peer: machineconfig.Peer{
					PublicKey:  gatewayKey,
					Endpoint:   gatewayEndpoint + ":" + strconv.Itoa(cfg.Network.WireguardPort),
					AllowedIPs: routes,
					Gateway:    gateway.Addr(),
				},
			},
		},
		privateKey: standIn(t, "wireguardOnpremPrivateKey"),
	}, nil
}

func mustLoad(t *testing.T) *stack {
	t.Helper()
	s, err := load(t, stackValues(t))
	require.NoError(t, err)
	return s
}

// secretsBundles caches the cluster secrets per Talos version: generating
// them is the slow part, and the program makes them once per cluster too.
var secretsBundles sync.Map

// baseConfig generates the base machine config of a role as
// talos:machine/getConfiguration does. Checked: terraform-provider-talos
// v0.10.1 pkg/talos/util.go, machineConfigGenerateOptions.generate (the same
// generate options, bundle.NewBundle, Serialize without comments) and
// talos_machine_secrets_resource.go (secrets.NewBundle with the version
// contract).
func baseConfig(t *testing.T, b machineconfig.Base, role string) []byte {
	t.Helper()
	contract, err := talosconfig.ParseContractFromVersion(b.TalosVersion)
	require.NoError(t, err)
	v, _ := secretsBundles.LoadOrStore(b.TalosVersion, sync.OnceValues(func() (*secrets.Bundle, error) {
		return secrets.NewBundle(secrets.NewFixedClock(time.Now()), contract)
	}))
	sb, err := v.(func() (*secrets.Bundle, error))()
	require.NoError(t, err)
	machineType, err := machine.ParseType(role)
	require.NoError(t, err)
	configBundle, err := bundle.NewBundle(
		bundle.WithInputOptions(&bundle.InputOptions{
			ClusterName: b.ClusterName,
			Endpoint:    b.Endpoint,
			KubeVersion: strings.TrimPrefix(b.KubernetesVersion, "v"),
			GenOptions: []generate.Option{
				generate.WithClusterDiscovery(true),
				generate.WithDNSDomain(constants.DefaultDNSDomain),
				generate.WithInstallDisk("/dev/sda"),
				// the provider's GenerateInstallerImage: its own release's installer
				generate.WithInstallImage(fmt.Sprintf("%s/%s/installer:%s", gendata.ImagesRegistry, gendata.ImagesUsername, gendata.VersionTag)),
				generate.WithPersist(true),
				generate.WithSecretsBundle(sb),
				generate.WithVersionContract(contract),
			},
		}),
		bundle.WithVerbose(false),
	)
	require.NoError(t, err)
	out, err := configBundle.Serialize(encoder.CommentsDisabled, machineType)
	require.NoError(t, err)
	return out
}

// apply applies patches in order to base, as talos_machine_configuration_apply
// does (configpatcher.LoadPatches, then Apply; checked: terraform-provider-talos
// v0.10.1 pkg/talos/talos_machine_configuration_apply_resource.go), and loads
// the bytes the node receives.
func apply(base []byte, patches []string) (talosconfig.Provider, error) {
	loaded, err := configpatcher.LoadPatches(patches)
	if err != nil {
		return nil, fmt.Errorf("load patches: %w", err)
	}
	out, err := configpatcher.Apply(configpatcher.WithBytes(base), loaded)
	if err != nil {
		return nil, fmt.Errorf("apply patches: %w", err)
	}
	b, err := out.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return configloader.NewFromBytes(b)
}

// validate runs Validate as a metal node does on apply, strict: a warning is
// an error too. Checked: siderolabs/talos v1.12.11
// internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go
// (ApplyConfiguration: configloader.NewFromBytes, then Validate with the
// platform's mode; the node itself is not strict).
func validate(p talosconfig.Provider) error {
	warnings, err := p.Validate(metal{}, validation.WithStrict())
	if err != nil {
		return err
	}
	if len(warnings) > 0 {
		return fmt.Errorf("warnings: %s", strings.Join(warnings, "; "))
	}
	return nil
}

// patches are node n's patches in the program's merge order, the secret
// wg0 patch included on the WireGuard node.
func (s *stack) patches(t *testing.T, n config.TalosNode) []string {
	t.Helper()
	rendered, err := machineconfig.Render(s.in)
	require.NoError(t, err)
	all, err := rendered.ForNode(n, s.privateKey)
	require.NoError(t, err)
	return all
}

// finalConfig is node n's machine config with the given patches, and the
// first error Talos finds in it: loading the patches, merging them, or
// validating the result.
func (s *stack) finalConfig(t *testing.T, n config.TalosNode, patches []string) (talosconfig.Provider, error) {
	t.Helper()
	p, err := apply(baseConfig(t, machineconfig.BaseFor(s.in.Talos), n.Role), patches)
	if err != nil {
		return nil, err
	}
	return p, validate(p)
}

func (s *stack) node(t *testing.T, name string) config.TalosNode {
	t.Helper()
	for _, n := range s.in.Talos.Nodes {
		if n.Name == name {
			return n
		}
	}
	require.Failf(t, "no such node", "%s", name)
	return config.TalosNode{}
}
