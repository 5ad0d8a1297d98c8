package tests

import (
	"bytes"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hybridcloud/platform/components/etcdbackup"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/mockcloud"
	"github.com/hybridcloud/platform/internal/plan"
	"github.com/hybridcloud/platform/internal/versions"
)

const (
	typeCronJob       = "kubernetes:batch/v1:CronJob"
	typeNetworkPolicy = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	typeTalosSA       = "kubernetes:talos.dev/v1alpha1:ServiceAccount"
	typeCiliumPolicy  = "kubernetes:cilium.io/v2:CiliumNetworkPolicy"
)

// etcdRecipient is the age public key the tests set: filippo.io/age's
// example recipient (age_test.go:20 at v1.2.1).
const etcdRecipient = "age1cy0su9fwf3gf9mw868g5yut09p6nytfmmnktexz2ya5uqg9vl9sss4euqm"

func runEtcdBackup(t *testing.T, mutate func(talos map[string]any)) *plan.Result {
	t.Helper()
	opts := onpremOpts(t, mutate)
	opts.SetSecret["etcdBackupAgeRecipient"] = etcdRecipient
	return mustRun(t, opts)
}

func etcdCronJob(t *testing.T, res *plan.Result) (*mockcloud.Resource, map[string]any) {
	t.Helper()
	jobs := res.Cloud.ByType(typeCronJob)
	require.Len(t, jobs, 1, "one etcd snapshot CronJob")
	return jobs[0], plan.Plain(jobs[0].Inputs)
}

// container is the CronJob's one container.
func container(t *testing.T, cj map[string]any) map[string]any {
	t.Helper()
	cs := dig(t, cj, "spec", "jobTemplate", "spec", "template", "spec", "containers").([]any)
	require.Len(t, cs, 1)
	return cs[0].(map[string]any)
}

// envOf maps the container's environment: a plain value, or
// "secret:<secret>/<key>" for a secretKeyRef.
func envOf(t *testing.T, c map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range c["env"].([]any) {
		m := e.(map[string]any)
		if ref := dig(t, m, "valueFrom", "secretKeyRef"); ref != nil {
			out[m["name"].(string)] = "secret:" + dig(t, ref, "name").(string) + "/" + dig(t, ref, "key").(string)
			continue
		}
		out[m["name"].(string)] = m["value"].(string)
	}
	return out
}

// The schedule is the stack file's, read in UTC, and follows a change.
func TestEtcdBackupScheduleFollowsConfig(t *testing.T) {
	talos, _, _, _ := onpremConfig(t)
	require.NotEmpty(t, talos.EtcdBackup.Schedule, "the stack file schedules etcd snapshots")
	for _, schedule := range []string{talos.EtcdBackup.Schedule, "*/30 * * * *"} {
		t.Run(schedule, func(t *testing.T) {
			res := runEtcdBackup(t, func(m map[string]any) { m["etcdBackup"] = map[string]any{"schedule": schedule} })
			_, cj := etcdCronJob(t, res)
			assert.Equal(t, schedule, dig(t, cj, "spec", "schedule"))
			assert.Equal(t, "Etc/UTC", dig(t, cj, "spec", "timeZone"), "the RPO is derived in UTC")
			assert.Equal(t, "Forbid", dig(t, cj, "spec", "concurrencyPolicy"), "never two snapshots at once")
		})
	}
}

// The image is the one pin, by an exact release tag.
func TestEtcdBackupImageIsPinned(t *testing.T) {
	_, cj := etcdCronJob(t, runEtcdBackup(t, nil))
	image := container(t, cj)["image"].(string)
	assert.Equal(t, versions.TalosBackup.Ref(), image, "internal/versions is the one place")
	assert.Regexp(t, `^ghcr\.io/siderolabs/talos-backup:v\d+\.\d+\.\d+(-[a-z]+\.\d+)?$`, image, "a release tag, never latest")
}

// The job runs in the one namespace the control-plane machine configs open
// the Talos API to, with the role they allow, on every control-plane node
// and no worker.
func TestEtcdBackupTalosAPIAccess(t *testing.T) {
	res := runEtcdBackup(t, nil)
	talos, _, _, _ := onpremConfig(t)
	cjRes, cj := etcdCronJob(t, res)
	ns := dig(t, cj, "metadata", "namespace").(string)

	tsas := res.Cloud.ByType(typeTalosSA)
	require.Len(t, tsas, 1)
	tsa := plan.Plain(tsas[0].Inputs)
	assert.Equal(t, ns, dig(t, tsa, "metadata", "namespace"))
	roles := strs(dig(t, tsa, "spec", "roles"))
	assert.Equal(t, []string{"os:etcd:backup"}, roles, "the backup role only (talos-backup's README)")
	assert.Contains(t, cjRes.DependsOn, tsas[0].URN)

	// The talosconfig Talos writes for the ServiceAccount is mounted
	// where the Talos client reads it.
	var secretVolume string
	for _, v := range dig(t, cj, "spec", "jobTemplate", "spec", "template", "spec", "volumes").([]any) {
		if s := dig(t, v, "secret", "secretName"); s != nil {
			secretVolume = dig(t, v, "name").(string)
			assert.Equal(t, dig(t, tsa, "metadata", "name"), s, "Talos names the Secret after its ServiceAccount")
		}
	}
	require.NotEmpty(t, secretVolume)
	mounted := false
	for _, m := range container(t, cj)["volumeMounts"].([]any) {
		if dig(t, m, "name") == secretVolume {
			mounted = true
			assert.Equal(t, "/var/run/secrets/talos.dev", dig(t, m, "mountPath"))
		}
	}
	assert.True(t, mounted)

	for _, n := range talos.Nodes {
		docs, _ := patches(t, res.Cloud.Get(typeApply, n.Name))
		var access []any
		for _, d := range docs {
			if a := dig(t, parseYAML(t, d), "machine", "features", "kubernetesTalosAPIAccess"); a != nil {
				access = append(access, a)
			}
		}
		if n.Role != config.RoleControlPlane {
			assert.Empty(t, access, "%s: Talos allows the feature on control-plane nodes only", n.Name)
			continue
		}
		require.Len(t, access, 1, "%s", n.Name)
		assert.Equal(t, true, dig(t, access[0], "enabled"), n.Name)
		assert.Equal(t, []string{ns}, strs(dig(t, access[0], "allowedKubernetesNamespaces")), "%s: only the job's namespace", n.Name)
		assert.Equal(t, roles, strs(dig(t, access[0], "allowedRoles")), "%s: only the role the job asks for", n.Name)
	}
}

// Credentials are Pulumi secrets and reach the pod by reference; the
// snapshots go to prod's backups bucket beside Velero's prefix, never
// inside it (Velero refuses a location with directories it does not own).
func TestEtcdBackupCredentialsAndBucket(t *testing.T) {
	res := runEtcdBackup(t, nil)
	_, cj := etcdCronJob(t, res)
	env := envOf(t, container(t, cj))
	secret := res.Cloud.Get(typeK8sSecret, etcdbackup.CredentialsSecret)
	require.NotNil(t, secret)
	assert.Equal(t, dig(t, cj, "metadata", "namespace"), dig(t, plan.Plain(secret.Inputs), "metadata", "namespace"))
	data := secret.Inputs["stringData"]
	require.True(t, data.IsSecret(), "the Spaces key and the age recipient are Pulumi secrets")
	stored := data.SecretValue().Element.ObjectValue()
	want := map[string]string{
		"AWS_ACCESS_KEY_ID":     "DOVELEROACCESSKEY001",
		"AWS_SECRET_ACCESS_KEY": "velero-secret-key-for-tests",
		"AGE_X25519_PUBLIC_KEY": etcdRecipient,
	}
	for k, v := range want {
		assert.Equal(t, "secret:"+etcdbackup.CredentialsSecret+"/"+k, env[k], "%s by secretKeyRef", k)
		assert.Equal(t, v, stored[resource.PropertyKey(k)].StringValue(), k)
	}

	assert.Equal(t, "hybrid-platform-prod-backups", env["BUCKET"], "prod's backups bucket")
	assert.Equal(t, "https://nyc3.digitaloceanspaces.com", env["CUSTOM_S3_ENDPOINT"])
	assert.Equal(t, "nyc3", env["AWS_REGION"])
	assert.Equal(t, "when_required", env["AWS_REQUEST_CHECKSUM_CALCULATION"], "Spaces rejects the SDK's default CRC32 checksums")
	assert.NotContains(t, env, "USE_PATH_STYLE")
	assert.NotContains(t, env, "DISABLE_ENCRYPTION")

	velero := plan.Plain(res.Cloud.Get(typeChart, "velero").Inputs)
	var veleroPrefix string
	for _, l := range dig(t, velero, "values", "configuration", "backupStorageLocation").([]any) {
		if dig(t, l, "name") == "default" {
			veleroPrefix = dig(t, l, "prefix").(string)
		}
	}
	require.NotEmpty(t, veleroPrefix)
	prefix := env["S3_PREFIX"]
	assert.True(t, strings.HasPrefix(prefix, config.StackOnprem), "under the stack's name: %s", prefix)
	assert.False(t, strings.HasPrefix(prefix+"/", veleroPrefix+"/"), "%s is inside Velero's prefix %s", prefix, veleroPrefix)
	assert.Equal(t, "s3://hybrid-platform-prod-backups/"+prefix, res.Outputs["etcdBackupLocation"].Value)

	var text, js bytes.Buffer
	res.WriteText(&text)
	require.NoError(t, res.WriteJSON(&js))
	for _, leak := range []string{etcdRecipient, "velero-secret-key-for-tests"} {
		assert.NotContains(t, text.String(), leak)
		assert.NotContains(t, js.String(), leak)
	}
}

// The namespace is restricted, and the pod meets the restricted profile's
// checks (k8s.io/pod-security-admission v0.35.4 policy: runAsNonRoot,
// no privilege escalation, all capabilities dropped, RuntimeDefault
// seccomp, only emptyDir and secret volumes).
func TestEtcdBackupPodIsRestricted(t *testing.T) {
	res := runEtcdBackup(t, nil)
	_, cj := etcdCronJob(t, res)
	ns := dig(t, cj, "metadata", "namespace").(string)
	nsRes := namespaceNamed(t, res, ns)
	assert.Equal(t, "restricted", dig(t, plan.Plain(nsRes.Inputs), "metadata", "labels", "pod-security.kubernetes.io/enforce"))

	pod := dig(t, cj, "spec", "jobTemplate", "spec", "template", "spec")
	sc := container(t, cj)["securityContext"]
	assert.Equal(t, true, dig(t, sc, "runAsNonRoot"))
	assert.NotEqual(t, 0, dig(t, sc, "runAsUser"))
	assert.Equal(t, false, dig(t, sc, "allowPrivilegeEscalation"))
	assert.Equal(t, []string{"ALL"}, strs(dig(t, sc, "capabilities", "drop")))
	assert.Nil(t, dig(t, sc, "capabilities", "add"))
	assert.Equal(t, "RuntimeDefault", dig(t, sc, "seccompProfile", "type"))
	assert.Nil(t, dig(t, pod, "hostNetwork"))
	for _, v := range dig(t, pod, "volumes").([]any) {
		kinds := []string{}
		for k := range v.(map[string]any) {
			if k != "name" {
				kinds = append(kinds, k)
			}
		}
		assert.Subset(t, []string{"emptyDir", "secret"}, kinds, "volume %v", dig(t, v, "name"))
	}
}

// Default-deny, then the Talos API on the control-plane addresses only and
// the backups bucket's Spaces names on 443.
func TestEtcdBackupNetworkPolicies(t *testing.T) {
	res := runEtcdBackup(t, nil)
	talos, _, _, _ := onpremConfig(t)
	_, cj := etcdCronJob(t, res)
	ns := dig(t, cj, "metadata", "namespace").(string)
	var inNS []map[string]any
	for _, p := range res.Cloud.ByType(typeNetworkPolicy) {
		if in := plan.Plain(p.Inputs); dig(t, in, "metadata", "namespace") == ns {
			inNS = append(inNS, in)
		}
	}
	deny := slices.IndexFunc(inNS, func(p map[string]any) bool {
		return len(dig(t, p, "spec", "podSelector").(map[string]any)) == 0 &&
			slices.Equal(strs(dig(t, p, "spec", "policyTypes")), []string{"Ingress", "Egress"}) &&
			dig(t, p, "spec", "ingress") == nil && dig(t, p, "spec", "egress") == nil
	})
	assert.GreaterOrEqual(t, deny, 0, "a default-deny policy in %s", ns)

	var cidrs []string
	for _, p := range inNS {
		for _, rule := range asList(dig(t, p, "spec", "egress")) {
			for _, port := range asList(dig(t, rule, "ports")) {
				assert.Equal(t, "TCP", dig(t, port, "protocol"))
				assert.InDelta(t, 50000, dig(t, port, "port"), 0, "apid's port only")
			}
			for _, to := range asList(dig(t, rule, "to")) {
				cidrs = append(cidrs, dig(t, to, "ipBlock", "cidr").(string))
			}
		}
	}
	var want []string
	for _, ip := range talos.ControlPlaneIPs() {
		want = append(want, netip.PrefixFrom(ip, 32).String())
	}
	assert.ElementsMatch(t, want, cidrs, "the Talos API on the control-plane nodes only")

	cilium := plan.Plain(res.Cloud.Get(typeChart, "cilium").Inputs)
	assert.Contains(t, strs(dig(t, cilium, "values", "policyCIDRMatchMode")), "nodes",
		"Cilium must match node addresses by CIDR, or the Talos API rule matches nothing")

	var fqdn []string
	for _, p := range res.Cloud.ByType(typeCiliumPolicy) {
		in := plan.Plain(p.Inputs)
		if dig(t, in, "metadata", "namespace") != ns {
			continue
		}
		for _, rule := range asList(dig(t, in, "spec", "egress")) {
			for _, n := range asList(dig(t, rule, "toFQDNs")) {
				fqdn = append(fqdn, dig(t, n, "matchName").(string))
				assert.Equal(t, "443", dig(t, rule, "toPorts", 0, "ports", 0, "port"))
			}
		}
	}
	assert.Contains(t, fqdn, "hybrid-platform-prod-backups.nyc3.digitaloceanspaces.com",
		"talos-backup's virtual-hosted requests go to the bucket's own name")
	for _, n := range fqdn {
		assert.Regexp(t, regexp.MustCompile(`^[a-z0-9.-]+\.digitaloceanspaces\.com$`), n, "exact Spaces names, no pattern")
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// The stale-snapshot alert follows the schedule's RPO (plus a run's
// deadline), on the CronJob's kube-state-metrics series, and waits for the
// monitoring CRDs.
func TestEtcdBackupAlertFollowsTheRPO(t *testing.T) {
	for _, tc := range []struct {
		schedule string
		stale    string // seconds: RPO + 30 min
	}{
		{"20 * * * *", "> 5400"},
		{"0 */6 * * *", "> 23400"},
	} {
		t.Run(tc.schedule, func(t *testing.T) {
			res := runEtcdBackup(t, func(m map[string]any) { m["etcdBackup"] = map[string]any{"schedule": tc.schedule} })
			_, cj := etcdCronJob(t, res)
			ns := dig(t, cj, "metadata", "namespace").(string)
			var rule *mockcloud.Resource
			for _, r := range res.Cloud.ByType("kubernetes:monitoring.coreos.com/v1:PrometheusRule") {
				if dig(t, plan.Plain(r.Inputs), "metadata", "namespace") == ns {
					rule = r
				}
			}
			require.NotNil(t, rule, "a PrometheusRule in %s", ns)
			alerts := map[string]map[string]any{}
			for _, g := range dig(t, plan.Plain(rule.Inputs), "spec", "groups").([]any) {
				for _, r := range dig(t, g, "rules").([]any) {
					alerts[dig(t, r, "alert").(string)] = r.(map[string]any)
				}
			}
			require.Contains(t, alerts, "EtcdSnapshotStale")
			expr := alerts["EtcdSnapshotStale"]["expr"].(string)
			assert.Contains(t, expr, "kube_cronjob_status_last_successful_time")
			assert.Contains(t, expr, `namespace="`+ns+`"`)
			assert.Contains(t, expr, `cronjob="`+dig(t, cj, "metadata", "name").(string)+`"`)
			assert.True(t, strings.HasSuffix(expr, tc.stale), "%s: stale after the RPO plus the run's deadline", expr)
			assert.Contains(t, alerts, "EtcdSnapshotMissing")
			crds := res.Cloud.Get(typeChart, "prometheus-operator-crds")
			require.NotNil(t, crds)
			assert.Contains(t, rule.DependsOn, crds.URN, "the PrometheusRule kind must exist first")
		})
	}
}
