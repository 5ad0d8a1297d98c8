// Package storage is the on-prem Storage component: the Talos cluster's
// StorageClasses and their provisioners. Local SSD volumes (hostPath on each
// node, local-path-provisioner) are the default class; shared RWX volumes
// come from the NFS server (nfs-subdir-external-provisioner). Ceph is not
// built: the config rejects it.
package storage

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/argcheck"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/versions"
)

// StorageClass names.
const (
	LocalClass  = "local-ssd" // the default class: node-local, ReadWriteOnce
	SharedClass = "nfs"       // shared, ReadWriteMany
)

// Provisioner names, set in the charts and used by the StorageClasses.
const (
	localProvisioner = "rancher.io/local-path"
	nfsProvisioner   = "k8s-sigs.io/nfs-subdir-external-provisioner"
)

// Type is the component's type token; OldType the one it had, which
// existing stacks hold.
const (
	Type    = "hybrid:storage:Storage"
	OldType = "hybrid:storage:OnpremStorage"
)

// Storage is the cluster's storage.
type Storage struct {
	pulumi.ResourceState

	// DefaultClass is the default StorageClass (local SSD).
	DefaultClass pulumi.StringOutput `pulumi:"defaultClass"`
	// SharedClass is the RWX StorageClass on NFS.
	SharedClass pulumi.StringOutput `pulumi:"sharedClass"`

	// Ready lists the provisioners and classes that workloads with volumes
	// wait for. Depending on the component itself would not do: the SDK
	// expands a component to the children registered so far, which races
	// with their registration.
	Ready []pulumi.Resource
}

// Args configures Storage.
type Args struct {
	// Provider is the Talos cluster's Kubernetes provider.
	Provider *kubernetes.Provider
	// Storage is the validated stack config.
	Storage config.Storage
	// Cni is the resource that gives pods a network; the provisioners wait
	// for it.
	Cni pulumi.Resource
	// ChartRepository, when set, is the one Helm repository every chart
	// comes from (platform.chartRepository); empty means upstream.
	ChartRepository string
}

func (a *Args) check() error {
	if a == nil {
		return argcheck.Nil("storage")
	}
	e := argcheck.For("storage")
	e.Required("Provider", a.Provider == nil)
	e.RequiredFor("Cni", a.Cni == nil, "(provisioner pods need pod networking)")
	e.Required("Storage.LocalPath", a.Storage.LocalPath == "")
	e.Required("Storage.NFSServer", a.Storage.NFSServer == "")
	e.Required("Storage.NFSPath", a.Storage.NFSPath == "")
	if a.Storage.Ceph {
		e.Invalid("Storage.Ceph", "Ceph is not built by this component")
	}
	return e.Err()
}

// New declares the provisioners and the StorageClasses.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Storage, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	s := &Storage{}
	opts = append(opts, pulumi.Aliases([]pulumi.Alias{{Type: pulumi.String(OldType)}}))
	if err := ctx.RegisterComponentResource(Type, name, s, opts...); err != nil {
		return nil, err
	}
	k8s := []pulumi.ResourceOption{pulumi.Parent(s), pulumi.Provider(args.Provider)}
	afterCni := []pulumi.ResourceOption{pulumi.Parent(s), pulumi.Provider(args.Provider), pulumi.DependsOn([]pulumi.Resource{args.Cni})}

	// local-path-provisioner's helper pods mount hostPath volumes: its
	// namespace must allow privileged pods (Talos enforces baseline).
	localNs, err := namespace(ctx, "local-path-storage", true, k8s)
	if err != nil {
		return nil, err
	}
	localChart, err := chart(ctx, versions.LocalPathProvisioner.From(args.ChartRepository), localNs, pulumi.Map{
		"storageClass": pulumi.Map{
			"create":          pulumi.Bool(false), // declared below
			"provisionerName": pulumi.String(localProvisioner),
		},
		"nodePathMap": pulumi.Array{pulumi.Map{
			"node":  pulumi.String("DEFAULT_PATH_FOR_NON_LISTED_NODES"),
			"paths": pulumi.ToStringArray([]string{args.Storage.LocalPath}),
		}},
	}, afterCni)
	if err != nil {
		return nil, err
	}
	local, err := storagev1.NewStorageClass(ctx, LocalClass, &storagev1.StorageClassArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name:        pulumi.String(LocalClass),
			Annotations: pulumi.StringMap{"storageclass.kubernetes.io/is-default-class": pulumi.String("true")},
		},
		Provisioner: pulumi.String(localProvisioner),
		// Bind where the pod is scheduled: the volume lives on that node.
		VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
		ReclaimPolicy:        pulumi.String("Delete"),
		AllowVolumeExpansion: pulumi.Bool(false),
	}, k8s...)
	if err != nil {
		return nil, err
	}

	nfsNs, err := namespace(ctx, "nfs-provisioner", false, k8s)
	if err != nil {
		return nil, err
	}
	nfsChart, err := chart(ctx, versions.NFSSubdirExternalProvisioner.From(args.ChartRepository), nfsNs, pulumi.Map{
		"replicaCount": pulumi.Int(2), // leader election keeps one active
		"nfs": pulumi.Map{
			"server": pulumi.String(args.Storage.NFSServer),
			"path":   pulumi.String(args.Storage.NFSPath),
		},
		"storageClass": pulumi.Map{
			"create":          pulumi.Bool(false), // declared below
			"provisionerName": pulumi.String(nfsProvisioner),
		},
	}, afterCni)
	if err != nil {
		return nil, err
	}
	shared, err := storagev1.NewStorageClass(ctx, SharedClass, &storagev1.StorageClassArgs{
		Metadata:    metav1.ObjectMetaArgs{Name: pulumi.String(SharedClass)},
		Provisioner: pulumi.String(nfsProvisioner),
		// A deleted claim's directory is renamed archived-*, not erased.
		Parameters:           pulumi.StringMap{"archiveOnDelete": pulumi.String("true")},
		MountOptions:         pulumi.ToStringArray([]string{"nfsvers=4.1", "hard"}),
		VolumeBindingMode:    pulumi.String("Immediate"),
		ReclaimPolicy:        pulumi.String("Delete"),
		AllowVolumeExpansion: pulumi.Bool(true),
	}, k8s...)
	if err != nil {
		return nil, err
	}

	s.Ready = []pulumi.Resource{localChart, local, nfsChart, shared}
	s.DefaultClass = local.Metadata.Name().Elem()
	s.SharedClass = shared.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{
		"defaultClass": s.DefaultClass,
		"sharedClass":  s.SharedClass,
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// namespace creates a namespace with an explicit Pod Security level:
// privileged for the local-path provisioner (hostPath helper pods), baseline
// otherwise (baseline admits the NFS volume the NFS provisioner mounts;
// restricted does not).
func namespace(ctx *pulumi.Context, name string, privileged bool, opts []pulumi.ResourceOption) (*corev1.Namespace, error) {
	level := "baseline"
	if privileged {
		level = "privileged"
	}
	labels := pulumi.StringMap{}
	for _, mode := range []string{"enforce", "audit", "warn"} {
		labels["pod-security.kubernetes.io/"+mode] = pulumi.String(level)
	}
	return corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(name), Labels: labels},
	}, opts...)
}

// chart installs a pinned chart into a namespace.
func chart(ctx *pulumi.Context, c versions.Chart, ns *corev1.Namespace, values pulumi.Map, opts []pulumi.ResourceOption) (*helmv4.Chart, error) {
	return helmv4.NewChart(ctx, c.Name, &helmv4.ChartArgs{
		Chart:          pulumi.String(c.Name),
		Version:        pulumi.String(c.Version),
		RepositoryOpts: helmv4.RepositoryOptsArgs{Repo: pulumi.String(c.Repo)},
		Namespace:      ns.Metadata.Name().Elem(),
		Values:         values,
	}, opts...)
}
