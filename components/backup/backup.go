// Package backup is Velero on one cluster: backups of cluster state and
// volumes to the Spaces backups bucket with its own access key, on schedules
// from config that meet the 24 h cluster-state RPO.
//
// Volumes: on DOKS, CSI snapshots of DigitalOcean block storage (fast,
// crash-consistent, kept by DigitalOcean in the same region); on Talos,
// whose local-path and NFS volumes cannot be snapshotted, the node agent
// copies volume files into the bucket (kopia file-system backup).
package backup

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/argcheck"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/kube"
	"github.com/hybridcloud/platform/internal/versions"
)

// Names fixed by this component.
const (
	Release           = "velero"
	CredentialsSecret = "velero-spaces"
	// PrimaryLocation is this cluster's own backup location.
	PrimaryLocation = "default"
	// PeerLocation reads the other cluster's backups, for restores across
	// clusters; it is read-only so that neither cluster can delete the
	// other's backups.
	PeerLocation = "peer"
	// DOCSIDriver is the DigitalOcean block storage CSI driver.
	DOCSIDriver = "dobs.csi.digitalocean.com"
)

// Args configures Velero.
type Args struct {
	// Kind is config.ClusterDOKS or config.ClusterTalos.
	Kind string
	// Namespace is where Velero runs; pass the namespace's output.
	Namespace pulumi.StringInput
	// Bucket is the Spaces backups bucket, shared by both clusters: each
	// writes under its own Prefix and reads the other's PeerPrefix. An
	// environment without a peer (PeerPrefix "") has its own location only.
	Bucket     pulumi.StringInput
	Prefix     string
	PeerPrefix string
	// Endpoint is the Spaces S3 URL (https://nyc3.digitaloceanspaces.com)
	// and Region its region (nyc3).
	Endpoint pulumi.StringInput
	Region   pulumi.StringInput
	// AccessKey and SecretKey are Velero's own Spaces key.
	AccessKey pulumi.StringInput
	SecretKey pulumi.StringInput
	Schedules []config.BackupSchedule
	// After lists resources every child waits for, such as the
	// monitoring CRDs the chart's ServiceMonitors need.
	After []pulumi.Resource
	// ChartRepository, when set, is the one Helm repository every chart
	// comes from (platform.chartRepository); empty means upstream.
	ChartRepository string
}

// Backup is the Velero component.
type Backup struct {
	pulumi.ResourceState

	// Schedules lists the Velero Schedule names.
	Schedules pulumi.StringArrayOutput `pulumi:"schedules"`
	// Location is the bucket URL backups go to.
	Location pulumi.StringOutput `pulumi:"location"`
}

func (a *Args) check() error {
	if a == nil {
		return argcheck.Nil("backup")
	}
	e := argcheck.For("backup")
	e.OneOf("Kind", a.Kind, config.ClusterDOKS, config.ClusterTalos)
	e.Required("Namespace", a.Namespace == nil)
	e.Required("Bucket", a.Bucket == nil)
	e.Required("Endpoint", a.Endpoint == nil)
	e.Required("Region", a.Region == nil)
	e.Required("AccessKey", a.AccessKey == nil)
	e.Required("SecretKey", a.SecretKey == nil)
	e.Required("Prefix", a.Prefix == "")
	if a.Prefix != "" && a.Prefix == a.PeerPrefix {
		e.Invalid("PeerPrefix", "%q is this cluster's own prefix; the peer's must differ", a.PeerPrefix)
	}
	e.RequiredFor("Schedules", len(a.Schedules) == 0, "(at least one)")
	return e.Err()
}

// Type is the component's type token.
const Type = "hybrid:backup:Backup"

// New declares Velero.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Backup, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	b := &Backup{}
	if err := ctx.RegisterComponentResource(Type, name, b, opts...); err != nil {
		return nil, err
	}
	// Every child is parented here and waits for args.After.
	child := pulumi.Composite(pulumi.Parent(b), pulumi.DependsOn(args.After))
	creds, err := kube.Secret(ctx, CredentialsSecret, args.Namespace, "Opaque", pulumi.StringMap{
		"cloud": pulumi.Sprintf("[default]\naws_access_key_id=%s\naws_secret_access_key=%s\n", args.AccessKey, args.SecretKey),
	}, child)
	if err != nil {
		return nil, err
	}
	deps := []pulumi.Resource{creds}
	if args.Kind == config.ClusterDOKS {
		vsc, err := snapshotClass(ctx, child)
		if err != nil {
			return nil, err
		}
		deps = append(deps, vsc)
	}
	if _, err := kube.Chart(ctx, Release, versions.Velero.From(args.ChartRepository), args.Namespace, veleroValues(args), child, pulumi.DependsOn(deps)); err != nil {
		return nil, err
	}
	var names pulumi.StringArray
	for _, s := range args.Schedules {
		names = append(names, pulumi.String(Release+"-"+s.Name))
	}
	b.Schedules = names.ToStringArrayOutput()
	b.Location = pulumi.Sprintf("s3://%s/%s", args.Bucket, args.Prefix)
	if err := ctx.RegisterResourceOutputs(b, pulumi.Map{"schedules": b.Schedules, "location": b.Location}); err != nil {
		return nil, err
	}
	return b, nil
}

// snapshotClass is the VolumeSnapshotClass Velero's CSI support picks for
// DO block storage volumes (by the velero.io/csi-volumesnapshot-class
// label). Delete: when Velero expires a backup, its DO snapshot goes too.
func snapshotClass(ctx *pulumi.Context, opts ...pulumi.ResourceOption) (pulumi.Resource, error) {
	return kube.CustomResource(ctx, "velero-do-block-storage", "snapshot.storage.k8s.io/v1", "VolumeSnapshotClass",
		kube.Meta("velero-do-block-storage", nil, map[string]string{"velero.io/csi-volumesnapshot-class": "true"}),
		map[string]any{"driver": DOCSIDriver, "deletionPolicy": "Delete"}, opts...)
}

// location is a BackupStorageLocation on Spaces. Spaces speaks S3 with a
// custom URL; path-style requests avoid depending on per-bucket DNS and
// certificates, and checksumAlgorithm "" turns off the CRC32 checksums the
// AWS SDK sends by default, which Spaces rejects.
func location(name string, a *Args, prefix, access string, isDefault bool) map[string]any {
	return map[string]any{
		"name":       name,
		"provider":   "aws",
		"bucket":     a.Bucket,
		"prefix":     prefix,
		"default":    isDefault,
		"accessMode": access,
		"credential": map[string]any{"name": CredentialsSecret, "key": "cloud"},
		"config": map[string]any{
			"region":            a.Region,
			"s3Url":             a.Endpoint,
			"s3ForcePathStyle":  "true",
			"checksumAlgorithm": "",
		},
	}
}

// veleroValues are the velero chart values.
//
// helm/v4 renders the chart without hooks. Velero's hooks are the
// upgrade-CRDs Job (pre-install/pre-upgrade, kubectl apply of the CRDs) and
// the optional cleanup Job; both are off: helm/v4 installs the CRDs from the
// chart's crds/ directory and upgrades them with the chart, which is what the
// Job exists to do under Helm.
func veleroValues(a *Args) map[string]any {
	talos := a.Kind == config.ClusterTalos
	schedules := map[string]any{}
	for _, s := range a.Schedules {
		tmpl := map[string]any{
			"ttl":                s.TTL,
			"includedNamespaces": kube.Strings(orAll(s.IncludedNamespaces)),
			"excludedNamespaces": kube.Strings(s.ExcludedNamespaces),
			"storageLocation":    PrimaryLocation,
			"snapshotVolumes":    !talos,
		}
		if talos {
			tmpl["defaultVolumesToFsBackup"] = true
		}
		schedules[s.Name] = map[string]any{
			"disabled":                   false,
			"schedule":                   s.Cron,
			"useOwnerReferencesInBackup": false,
			"template":                   tmpl,
		}
	}
	locations := []any{location(PrimaryLocation, a, a.Prefix, "ReadWrite", true)}
	if a.PeerPrefix != "" {
		locations = append(locations, location(PeerLocation, a, a.PeerPrefix, "ReadOnly", false))
	}
	configuration := map[string]any{
		"backupStorageLocation":    locations,
		"volumeSnapshotLocation":   []any{},
		"uploaderType":             "kopia",
		"defaultVolumesToFsBackup": talos,
	}
	if !talos {
		configuration["features"] = "EnableCSI"
	}
	return map[string]any{
		"initContainers": []any{map[string]any{
			"name":            "velero-plugin-for-aws",
			"image":           versions.VeleroPluginForAWS.Ref(),
			"imagePullPolicy": "IfNotPresent",
			"volumeMounts":    []any{map[string]any{"mountPath": "/target", "name": "plugins"}},
		}},
		"credentials":      map[string]any{"useSecret": true, "existingSecret": CredentialsSecret},
		"configuration":    configuration,
		"snapshotsEnabled": false, // no provider VolumeSnapshotLocation: DOKS uses CSI snapshots
		"deployNodeAgent":  talos,
		"schedules":        schedules,
		"upgradeCRDs":      false,
		"cleanUpCRDs":      false,
		"metrics": map[string]any{
			"enabled":        true,
			"serviceMonitor": map[string]any{"enabled": true},
		},
	}
}

func orAll(ns []string) []string {
	if len(ns) == 0 {
		return []string{"*"}
	}
	return ns
}
