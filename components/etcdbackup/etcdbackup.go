// Package etcdbackup takes scheduled snapshots of the Talos cluster's etcd
// and stores them, encrypted, in the Spaces backups bucket: Siderolabs'
// talos-backup as a CronJob. Velero restores Kubernetes objects into a
// running cluster; a lost control plane comes back only from such a
// snapshot, with `talosctl bootstrap --recover-from`
// (docs/runbooks/restore-talos-etcd.md).
//
// How the job reaches etcd: the control-plane machine configs enable
// machine.features.kubernetesTalosAPIAccess for the os:etcd:backup role and
// this namespace only (components/talos/machineconfig). The talos.dev
// ServiceAccount declared here makes Talos write a Secret of the same name
// holding a talosconfig with a client certificate of that role and the
// endpoint talos.default (Talos' Service of the control-plane apid
// addresses, port 50000); the pod mounts it where the Talos client looks
// (/var/run/secrets/talos.dev/config). Checked: siderolabs/talos v1.12.11
// internal/app/machined/pkg/controllers/kubeaccess/serviceaccount/crd_controller.go:73
// (endpoint), :598-615 (the Secret: the ServiceAccount's name, key config,
// owned by it; :310 refuses a Secret it does not own, so this package
// declares none), kubeaccess/endpoint.go:179-200 (Service talos, port
// 50000), pkg/machinery/client/config/path.go:60 (the mount path).
//
// What the job does (talos-backup v0.1.0-beta.3,
// cmd/talos-backup/service/service.go): EtcdSnapshot over the Talos API,
// check the snapshot's SHA-256 trailer, encrypt it with age to
// AGE_X25519_PUBLIC_KEY (the public key only: the private key stays offline
// with the operator), and upload <S3_PREFIX>/<CLUSTER_NAME>-<RFC 3339
// time>.snap.age. The environment it reads: pkg/config/service.go:25-47 at
// the tag.
package etcdbackup

import (
	"fmt"
	"time"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/components/baseline"
	"github.com/hybridcloud/platform/internal/argcheck"
	"github.com/hybridcloud/platform/internal/ciliumpolicy"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/kube"
	"github.com/hybridcloud/platform/internal/versions"
)

// Type is the component's type token.
const Type = "hybrid:etcdbackup:EtcdBackup"

// Names fixed by this component.
const (
	// Name is the CronJob's, the container's and the talos.dev
	// ServiceAccount's (hence the talosconfig Secret's) name.
	Name = "talos-backup"
	// CredentialsSecret holds the Spaces key and the age recipient.
	CredentialsSecret = "talos-backup-spaces"
	// ServiceAccountAPIVersion and ServiceAccountKind are Talos' CRD
	// (machinery v1.12.5 constants/constants.go:1151-1158).
	ServiceAccountAPIVersion = "talos.dev/v1alpha1"
	ServiceAccountKind       = "ServiceAccount"
	// BackupRole is the one Talos role the job asks for (machinery v1.12.5
	// role/role.go:33).
	BackupRole = "os:etcd:backup"
	// TalosAPIPort is apid's port on the control-plane nodes.
	TalosAPIPort = 50000
	// TalosSecretsMount is where the Talos client reads its talosconfig in
	// a pod (machinery v1.12.5 constants.ServiceAccountMountPath).
	TalosSecretsMount = "/var/run/secrets/talos.dev"
	// Policy names in the namespace.
	DefaultDenyName  = "default-deny"
	TalosAPIName     = "allow-talos-api"
	SpacesEgressName = "allow-spaces-backups-bucket"
)

// Args configures the snapshots.
type Args struct {
	// Namespace is config.EtcdBackupNamespace; pass the namespace's output.
	Namespace pulumi.StringInput
	// ClusterName names the snapshot files; Prefix is where they go in
	// Bucket (config.EtcdBackupPrefix).
	ClusterName string
	Prefix      string
	Schedule    string
	// Bucket is the Spaces backups bucket, Region its region (nyc3);
	// Endpoint is the Spaces S3 URL (https://nyc3.digitaloceanspaces.com).
	Bucket   pulumi.StringInput
	Region   pulumi.StringInput
	Endpoint pulumi.StringInput
	// AccessKey and SecretKey are a Spaces key with write access to Bucket.
	AccessKey pulumi.StringInput
	SecretKey pulumi.StringInput
	// AgeRecipient is the age public key the snapshots are encrypted to.
	AgeRecipient pulumi.StringInput
	// ControlPlaneIPs are the addresses the Talos API is reached on.
	ControlPlaneIPs []string
	// RPO is the schedule's longest gap (config.EtcdBackup.RPO): the
	// stale-snapshot alert fires when the last success is older.
	RPO time.Duration
	// After lists resources every child waits for; AlertsAfter what the
	// PrometheusRule waits for besides (the monitoring CRDs).
	After       []pulumi.Resource
	AlertsAfter []pulumi.Resource
}

// EtcdBackup is the snapshot CronJob and what it needs.
type EtcdBackup struct {
	pulumi.ResourceState

	// Location is where the snapshots go: s3://bucket/prefix.
	Location pulumi.StringOutput `pulumi:"location"`
	// CronJob is the CronJob's name.
	CronJob pulumi.StringOutput `pulumi:"cronJob"`
}

func (a *Args) check() error {
	if a == nil {
		return argcheck.Nil("etcdbackup")
	}
	e := argcheck.For("etcdbackup")
	e.Required("Namespace", a.Namespace == nil)
	e.Required("ClusterName", a.ClusterName == "")
	e.Required("Prefix", a.Prefix == "")
	e.Required("Schedule", a.Schedule == "")
	e.Required("Bucket", a.Bucket == nil)
	e.Required("Region", a.Region == nil)
	e.Required("Endpoint", a.Endpoint == nil)
	e.Required("AccessKey", a.AccessKey == nil)
	e.Required("SecretKey", a.SecretKey == nil)
	e.Required("AgeRecipient", a.AgeRecipient == nil)
	e.RequiredFor("ControlPlaneIPs", len(a.ControlPlaneIPs) == 0, "(the Talos API's addresses)")
	e.RequiredFor("RPO", a.RPO <= 0, "for the stale-snapshot alert")
	return e.Err()
}

// New declares the snapshot CronJob, its talos.dev ServiceAccount, its
// credentials and its network policies.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*EtcdBackup, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	b := &EtcdBackup{}
	if err := ctx.RegisterComponentResource(Type, name, b, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Composite(pulumi.Parent(b), pulumi.DependsOn(args.After))
	if err := policies(ctx, args, child); err != nil {
		return nil, err
	}
	creds, err := kube.Secret(ctx, CredentialsSecret, args.Namespace, "Opaque", pulumi.StringMap{
		"AWS_ACCESS_KEY_ID":     args.AccessKey,
		"AWS_SECRET_ACCESS_KEY": args.SecretKey,
		"AGE_X25519_PUBLIC_KEY": args.AgeRecipient,
	}, child)
	if err != nil {
		return nil, err
	}
	// Talos answers it with the Secret Name, holding the talosconfig.
	tsa, err := kube.CustomResource(ctx, Name, ServiceAccountAPIVersion, ServiceAccountKind,
		kube.Meta(Name, args.Namespace, nil),
		map[string]any{"spec": map[string]any{"roles": []any{BackupRole}}}, child)
	if err != nil {
		return nil, err
	}
	cj, err := batchv1.NewCronJob(ctx, Name, &batchv1.CronJobArgs{
		Metadata: kube.Meta(Name, args.Namespace, nil),
		Spec:     cronJobSpec(args),
	}, child, pulumi.DependsOn([]pulumi.Resource{creds, tsa}))
	if err != nil {
		return nil, err
	}
	if _, err := kube.CustomResource(ctx, Name+"-alerts", "monitoring.coreos.com/v1", "PrometheusRule",
		kube.Meta(Name+"-alerts", args.Namespace, nil), map[string]any{"spec": map[string]any{"groups": []any{
			map[string]any{"name": "etcd-backup", "rules": alertRules(args.RPO)},
		}}}, child, pulumi.DependsOn(args.AlertsAfter)); err != nil {
		return nil, err
	}
	b.Location = pulumi.Sprintf("s3://%s/%s", args.Bucket, args.Prefix)
	b.CronJob = cj.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(b, pulumi.Map{"location": b.Location, "cronJob": b.CronJob}); err != nil {
		return nil, err
	}
	return b, nil
}

// Resource figures of the job: an etcd snapshot is at most etcd's backend
// quota (2 GiB by default; unverified for Talos' etcd settings), and the
// job holds it twice in /tmp (plain, then encrypted) before it uploads in
// 10 MiB parts (pkg/s3/s3.go:62 at v0.1.0-beta.3).
const (
	tmpSizeLimit  = "5Gi"
	memoryLimit   = "256Mi"
	activeSeconds = 30 * 60
)

// alertRules watch the CronJob through kube-state-metrics (v2.20.0 in the
// kube-prometheus-stack 88.5.3 chart, cronjobs collector on):
// kube_cronjob_status_last_successful_time with the labels namespace and
// cronjob (internal/store/cronjob.go:48 and :181 at v2.20.0), absent until
// a first run succeeds. A run may take activeSeconds, hence the slack.
func alertRules(rpo time.Duration) []any {
	stale := int64((rpo + activeSeconds*time.Second).Seconds())
	sel := fmt.Sprintf(`kube_cronjob_status_last_successful_time{namespace=%q,cronjob=%q}`, config.EtcdBackupNamespace, Name)
	rule := func(alert, expr, forDuration, summary, description string) map[string]any {
		r := map[string]any{
			"alert": alert, "expr": expr,
			"labels":      map[string]any{"severity": "critical"},
			"annotations": map[string]any{"summary": summary, "description": description},
		}
		if forDuration != "" {
			r["for"] = forDuration
		}
		return r
	}
	return []any{
		rule("EtcdSnapshotStale", fmt.Sprintf("time() - %s > %d", sel, stale), "",
			"No etcd snapshot of the Talos cluster within the etcd RPO",
			fmt.Sprintf("The last successful talos-backup run is older than %s (the schedule's longest gap, plus a run's deadline): kubectl -n %s get jobs; a lost control plane would lose more than the RPO.", rpo, config.EtcdBackupNamespace)),
		rule("EtcdSnapshotMissing", "absent("+sel+")", fmt.Sprintf("%dm", stale/60),
			"talos-backup has never succeeded",
			"No successful etcd snapshot since the CronJob was created: check its Jobs' logs (Talos API access, Spaces key, age recipient)."),
	}
}

func cronJobSpec(a *Args) *batchv1.CronJobSpecArgs {
	env := corev1.EnvVarArray{}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AGE_X25519_PUBLIC_KEY"} {
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String(k), ValueFrom: &corev1.EnvVarSourceArgs{
			SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: pulumi.String(CredentialsSecret), Key: pulumi.String(k)},
		}})
	}
	plain := func(k string, v pulumi.StringInput) {
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String(k), Value: v})
	}
	plain("AWS_REGION", a.Region)
	plain("CUSTOM_S3_ENDPOINT", a.Endpoint)
	plain("BUCKET", a.Bucket)
	plain("CLUSTER_NAME", pulumi.String(a.ClusterName))
	plain("S3_PREFIX", pulumi.String(a.Prefix))
	// aws-sdk-go-v2 from config v1.29.0 sends CRC32 checksums on every
	// upload unless told to only where an operation requires one
	// (config@v1.32.31 CHANGELOG.md "v1.29.0", env_config.go:88-89);
	// Spaces rejects them, as Velero's location turns them off too
	// (components/backup). USE_PATH_STYLE stays unset: v0.1.0-beta.3 turns
	// path-style on only when it is "false" (pkg/config/service.go:43), and
	// the default virtual-hosted requests go to <bucket>.<region>.
	// digitaloceanspaces.com, which the Spaces egress policy allows.
	plain("AWS_REQUEST_CHECKSUM_CALCULATION", pulumi.String("when_required"))
	plain("AWS_RESPONSE_CHECKSUM_VALIDATION", pulumi.String("when_required"))

	container := corev1.ContainerArgs{
		Name:            pulumi.String(Name),
		Image:           pulumi.String(versions.TalosBackup.Ref()),
		ImagePullPolicy: pulumi.String("IfNotPresent"),
		Command:         pulumi.ToStringArray([]string{"/talos-backup"}),
		// It writes the snapshot to its working directory.
		WorkingDir: pulumi.String("/tmp"),
		Env:        env,
		// Pod Security "restricted" (the namespace enforces it).
		SecurityContext: &corev1.SecurityContextArgs{
			RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(65534), RunAsGroup: pulumi.Int(65534),
			AllowPrivilegeEscalation: pulumi.Bool(false), ReadOnlyRootFilesystem: pulumi.Bool(true),
			Capabilities:   &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
			SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String("50m"), "memory": pulumi.String("64Mi")},
			Limits:   pulumi.StringMap{"memory": pulumi.String(memoryLimit)},
		},
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")},
			corev1.VolumeMountArgs{Name: pulumi.String("talos-secrets"), MountPath: pulumi.String(TalosSecretsMount), ReadOnly: pulumi.Bool(true)},
		},
	}
	return &batchv1.CronJobSpecArgs{
		Schedule: pulumi.String(a.Schedule),
		TimeZone: pulumi.String(config.EtcdBackupTimeZone),
		// One snapshot at a time; a run that missed its start by more
		// than this is skipped, and the next one counts.
		ConcurrencyPolicy:          pulumi.String("Forbid"),
		StartingDeadlineSeconds:    pulumi.Int(600),
		SuccessfulJobsHistoryLimit: pulumi.Int(3),
		FailedJobsHistoryLimit:     pulumi.Int(3),
		JobTemplate: &batchv1.JobTemplateSpecArgs{
			Spec: &batchv1.JobSpecArgs{
				BackoffLimit:          pulumi.Int(2),
				ActiveDeadlineSeconds: pulumi.Int(activeSeconds),
				Template: &corev1.PodTemplateSpecArgs{
					Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(Name)}},
					Spec: &corev1.PodSpecArgs{
						RestartPolicy:                pulumi.String("Never"),
						AutomountServiceAccountToken: pulumi.Bool(false), // it talks to Talos, not to Kubernetes
						SecurityContext: &corev1.PodSecurityContextArgs{
							RunAsNonRoot:   pulumi.Bool(true),
							SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
						},
						Containers: corev1.ContainerArray{container},
						Volumes: corev1.VolumeArray{
							corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String(tmpSizeLimit)}},
							corev1.VolumeArgs{Name: pulumi.String("talos-secrets"), Secret: &corev1.SecretVolumeSourceArgs{SecretName: pulumi.String(Name)}},
						},
					},
				},
			},
		},
	}
}

// policies make the namespace default-deny and open what the job needs:
// the Talos API on the control-plane addresses (TCP 50000; Cilium matches
// node addresses by CIDR with policyCIDRMatchMode nodes, components/talos),
// and, by name, DNS and the backups bucket's Spaces endpoint on 443 (a
// CiliumNetworkPolicy: Spaces has no fixed CIDR, internal/ciliumpolicy).
func policies(ctx *pulumi.Context, a *Args, opts ...pulumi.ResourceOption) error {
	all := &metav1.LabelSelectorArgs{}
	var talos networkingv1.NetworkPolicyPeerArray
	for _, ip := range a.ControlPlaneIPs {
		talos = append(talos, networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(ip + "/32")}})
	}
	for _, p := range []struct {
		name   string
		types  []string
		egress networkingv1.NetworkPolicyEgressRuleArray
	}{
		{name: DefaultDenyName, types: []string{"Ingress", "Egress"}},
		{name: TalosAPIName, types: []string{"Egress"}, egress: networkingv1.NetworkPolicyEgressRuleArray{
			networkingv1.NetworkPolicyEgressRuleArgs{
				To:    talos,
				Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(TalosAPIPort)}},
			},
		}},
	} {
		if _, err := networkingv1.NewNetworkPolicy(ctx, Name+"-"+p.name, &networkingv1.NetworkPolicyArgs{
			Metadata: kube.Meta(p.name, a.Namespace, nil),
			Spec: &networkingv1.NetworkPolicySpecArgs{
				PodSelector: all,
				PolicyTypes: pulumi.ToStringArray(p.types),
				Egress:      p.egress,
			},
		}, opts...); err != nil {
			return err
		}
	}
	spec := pulumi.All(a.Region, a.Bucket).ApplyT(func(v []any) any {
		dns := ciliumpolicy.DNS(baseline.DNS.Namespace, baseline.DNS.Labels)
		return ciliumpolicy.FQDNEgressSpec(dns, ciliumpolicy.SpacesHosts(v[0].(string), v[1].(string)), ciliumpolicy.HTTPSPort)
	}).(pulumi.AnyOutput)
	_, err := kube.CustomResource(ctx, Name+"-"+SpacesEgressName, ciliumpolicy.APIVersion, ciliumpolicy.Kind,
		kube.Meta(SpacesEgressName, a.Namespace, nil), map[string]any{"spec": spec}, opts...)
	return err
}
