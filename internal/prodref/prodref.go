// Package prodref reads, through a StackReference, the outputs of the prod
// stack that the onprem stack builds on: the WireGuard gateway and the
// container registry. It checks every value before any resource uses it, so
// that an onprem run against a prod stack that is missing, older or wrong
// stops with one clear error instead of a half-configured cluster.
package prodref

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/wgkey"
)

// spacesConsumers are the Spaces consumers the onprem stack runs: Loki and
// Velero ship to the same buckets as prod, under their own prefix, with
// prod's per-consumer keys.
var spacesConsumers = []string{config.ConsumerLoki, config.ConsumerVelero}

// bucketConsumers are the buckets onprem reads: the Spaces consumers' and
// the app bucket, which the app namespaces with appBucket reach by name.
var bucketConsumers = []string{config.ConsumerApp, config.ConsumerLoki, config.ConsumerVelero}

// BringUp is the order in which the stacks are brought up from nothing.
const BringUp = "bring-up order: 1) pulumi up -s prod (it needs only network.onpremWireguardPublicKey from its config), " +
	"2) pulumi up -s onprem (it reads prod's outputs), 3) pulumi up -s prod again (Cloudflare adds the on-prem failover origin)"

// Outputs are the prod stack's outputs, checked.
type Outputs struct {
	Stack            string
	GatewayEndpoint  netip.AddrPort
	GatewayPublicKey string
	GatewayTunnelIP  netip.Addr
	OnpremRoutes     []netip.Prefix
	RegistryServer   string
	RegistryEndpoint string
	// RegistryDockerConfig is a Pulumi secret, whatever prod marked.
	RegistryDockerConfig pulumi.StringOutput
	SpacesRegion         string
	// Buckets maps a Spaces consumer (config.ConsumerApp, ...) to its bucket.
	Buckets map[string]string
	// Keys maps a Spaces consumer to its key pair; both halves are secrets.
	Keys map[string]SpacesKey
	// OriginCheck is the Cloudflare monitor's request, which the on-prem
	// origin probe repeats; PublishedUIs the UIs the edge publishes, which
	// the on-prem ingress must route too (it is the failover origin).
	OriginCheck  config.OriginCheck
	PublishedUIs map[string]string
}

// SpacesKey is one consumer's Spaces key pair, as Pulumi secrets.
type SpacesKey struct {
	AccessKey pulumi.StringOutput
	SecretKey pulumi.StringOutput
}

// Error says why the prod stack's outputs cannot be used, with every
// missing and invalid output at once and the bring-up order.
type Error struct {
	Stack   string
	Missing []string // outputs the prod stack does not export
	Invalid []string // "name: what is wrong" (never a secret value)
	Err     error    // the reference itself failed, e.g. no such stack
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the onprem stack reads the prod stack %s through a StackReference, and prod is not ready:", e.Stack)
	if e.Err != nil {
		b.WriteString("\n  - reading the stack failed: " + e.Err.Error())
	}
	for _, m := range e.Missing {
		b.WriteString("\n  - missing output " + m)
	}
	for _, i := range e.Invalid {
		b.WriteString("\n  - invalid output " + i)
	}
	b.WriteString("\nBring up prod first. The " + BringUp)
	return b.String()
}

// Read declares the StackReference to stack and returns its checked outputs.
// gatewayTunnel is the gateway's tunnel address by this stack's address
// plan: prod must agree with it.
func Read(ctx *pulumi.Context, stack string, gatewayTunnel netip.Addr, opts ...pulumi.ResourceOption) (*Outputs, error) {
	ref, err := pulumi.NewStackReference(ctx, "prod", &pulumi.StackReferenceArgs{Name: pulumi.String(stack)}, opts...)
	if err != nil {
		return nil, &Error{Stack: stack, Err: err}
	}
	e := &Error{Stack: stack}
	values := map[string]any{}
	for _, name := range config.ProdOutputsForOnprem {
		// GetOutputDetails waits for the reference: the values are plain Go
		// values, checked here before any resource is declared from them.
		d, err := ref.GetOutputDetails(name)
		if err != nil {
			// The engine reports the failed read on its own, ahead of the
			// program's error: log this one so the bring-up order shows.
			e := &Error{Stack: stack, Err: err}
			_ = ctx.Log.Error(e.Error(), nil)
			return nil, e
		}
		// Secret or not as prod marked it: registryDockerConfig is made a
		// secret below either way; the others are not secrets by contract.
		switch {
		case d.SecretValue != nil:
			values[name] = d.SecretValue
		case d.Value != nil:
			values[name] = d.Value
		default:
			e.Missing = append(e.Missing, name)
		}
	}
	out := &Outputs{Stack: stack}
	str := func(name string) string {
		v, ok := values[name]
		if !ok {
			return ""
		}
		s, isString := v.(string)
		switch {
		case !isString:
			e.Invalid = append(e.Invalid, fmt.Sprintf("%s: a string, got %T", name, v))
		case s == "":
			e.Invalid = append(e.Invalid, name+": a value, got an empty string")
		}
		return s
	}
	if s := str(config.OutputGatewayEndpoint); s != "" {
		ap, err := netip.ParseAddrPort(s)
		if err != nil || !ap.Addr().Is4() || ap.Port() == 0 {
			e.Invalid = append(e.Invalid, fmt.Sprintf("%s = %q: an IPv4 PUBLIC_IP:PORT", config.OutputGatewayEndpoint, s))
		}
		out.GatewayEndpoint = ap
	}
	if s := str(config.OutputGatewayPublicKey); s != "" {
		if err := wgkey.Valid(s); err != nil {
			e.Invalid = append(e.Invalid, fmt.Sprintf("%s = %q: a base64 WireGuard public key (%v)", config.OutputGatewayPublicKey, s, err))
		}
		out.GatewayPublicKey = s
	}
	if s := str(config.OutputGatewayTunnelIP); s != "" {
		ip, err := netip.ParseAddr(s)
		if err != nil || ip != gatewayTunnel {
			e.Invalid = append(e.Invalid, fmt.Sprintf("%s = %q: %s, the first host of network.tunnelCidr; both stack files must carry the same address plan", config.OutputGatewayTunnelIP, s, gatewayTunnel))
		}
		out.GatewayTunnelIP = ip
	}
	if v, ok := values[config.OutputOnpremRoutes]; ok {
		out.OnpremRoutes = routes(v, e)
	}
	out.RegistryServer = str(config.OutputRegistryServer)
	out.RegistryEndpoint = str(config.OutputRegistryEndpoint)
	if s := str(config.OutputRegistryDockerConfig); s != "" {
		if msg := checkDockerConfig(s, out.RegistryServer); msg != "" {
			e.Invalid = append(e.Invalid, config.OutputRegistryDockerConfig+": "+msg)
		}
		out.RegistryDockerConfig = pulumi.ToSecret(pulumi.String(s)).(pulumi.StringOutput)
	}
	out.SpacesRegion = str(config.OutputSpacesRegion)
	out.Buckets = stringMap(values, config.OutputBuckets, bucketConsumers, e)
	out.Keys = map[string]SpacesKey{}
	if v, ok := values[config.OutputSpacesCredentials]; ok {
		creds, isMap := v.(map[string]any)
		for _, c := range spacesConsumers {
			pair, _ := creds[c].(map[string]any)
			access, _ := pair["accessKey"].(string)
			secretKey, _ := pair["secretKey"].(string)
			if !isMap || access == "" || secretKey == "" {
				e.Invalid = append(e.Invalid, fmt.Sprintf("%s: a map with %s.accessKey and %s.secretKey", config.OutputSpacesCredentials, c, c))
				continue
			}
			out.Keys[c] = SpacesKey{
				AccessKey: pulumi.ToSecret(pulumi.String(access)).(pulumi.StringOutput),
				SecretKey: pulumi.ToSecret(pulumi.String(secretKey)).(pulumi.StringOutput),
			}
		}
	}
	if v, ok := values[config.OutputOriginCheck]; ok {
		raw, _ := json.Marshal(v)
		if err := json.Unmarshal(raw, &out.OriginCheck); err != nil {
			e.Invalid = append(e.Invalid, fmt.Sprintf("%s: a map of config.OriginCheck (%v)", config.OutputOriginCheck, err))
		} else if msg := out.OriginCheck.Check(); msg != "" {
			e.Invalid = append(e.Invalid, config.OutputOriginCheck+"."+msg)
		}
	}
	if v, ok := values[config.OutputPublishedUIs]; ok {
		m, isMap := v.(map[string]any)
		out.PublishedUIs = map[string]string{}
		for k, h := range m {
			host, _ := h.(string)
			if host == "" {
				e.Invalid = append(e.Invalid, fmt.Sprintf("%s.%s: a hostname, got %v", config.OutputPublishedUIs, k, h))
			}
			out.PublishedUIs[k] = host
		}
		if !isMap {
			e.Invalid = append(e.Invalid, fmt.Sprintf("%s: a map of UI name to hostname, got %T", config.OutputPublishedUIs, v))
		}
	}
	if len(e.Missing) > 0 || len(e.Invalid) > 0 {
		sort.Strings(e.Invalid)
		return nil, e
	}
	return out, nil
}

// stringMap reads a map output that must hold a string for each key.
func stringMap(values map[string]any, name string, keys []string, e *Error) map[string]string {
	v, ok := values[name]
	if !ok {
		return nil
	}
	m, isMap := v.(map[string]any)
	out := map[string]string{}
	for _, k := range keys {
		s, _ := m[k].(string)
		if !isMap || s == "" {
			e.Invalid = append(e.Invalid, fmt.Sprintf("%s: a map with a %s entry", name, k))
			continue
		}
		out[k] = s
	}
	return out
}

func routes(v any, e *Error) []netip.Prefix {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		e.Invalid = append(e.Invalid, fmt.Sprintf("%s: a non-empty list of CIDRs, got %T", config.OutputOnpremRoutes, v))
		return nil
	}
	var out []netip.Prefix
	for i, r := range list {
		s, _ := r.(string)
		pfx, err := netip.ParsePrefix(s)
		if err != nil || !pfx.Addr().Is4() || pfx.Masked() != pfx {
			e.Invalid = append(e.Invalid, fmt.Sprintf("%s[%d] = %v: an IPv4 CIDR such as 10.100.0.0/16", config.OutputOnpremRoutes, i, r))
			continue
		}
		out = append(out, pfx)
	}
	return out
}

// checkDockerConfig checks the shape of a .dockerconfigjson document without
// ever echoing it: it must hold credentials for the registry server.
func checkDockerConfig(doc, server string) string {
	var cfg struct {
		Auths map[string]json.RawMessage `json:"auths"`
	}
	if err := json.Unmarshal([]byte(doc), &cfg); err != nil {
		return "a .dockerconfigjson document (JSON with an auths object); it does not parse"
	}
	if _, ok := cfg.Auths[server]; server != "" && !ok {
		return fmt.Sprintf("a .dockerconfigjson document with credentials for %s (registryServer); it has none", server)
	}
	return ""
}
