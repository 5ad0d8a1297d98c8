package localcluster

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/hybridcloud/platform/internal/config"
)

// Volumes, simulated. A real cluster's provisioners create a volume for each
// claim: on DOKS, DigitalOcean's CSI driver (block storage) behind the
// do-block-storage StorageClass that DOKS installs; on Talos, the
// provisioners the program itself deploys (local-path, NFS), whose
// controllers never run here because no container does. The storage loop
// plays their part: it creates a PersistentVolume for each pending claim of
// a known StorageClass, pre-bound to the claim, and the real
// kube-controller-manager's volume binder binds the two. No data is ever
// stored; the volume source is a CSI handle that names the provisioner, or
// a hostPath for provisioners whose name is not a CSI driver's.

// doksStorageClass is the class DOKS installs for its CSI driver. Its name
// and provisioner are the ones DigitalOcean documents for DOKS block storage
// volumes (do-block-storage, dobs.csi.digitalocean.com); that it is the
// default class and binds immediately is unverified here (a DOKS cluster's
// `kubectl get storageclass do-block-storage -o yaml` settles it).
func doksStorageClass() map[string]any {
	return map[string]any{
		"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
		"metadata": map[string]any{"name": "do-block-storage",
			"annotations": map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		"provisioner":          "dobs.csi.digitalocean.com",
		"allowVolumeExpansion": true,
		"reclaimPolicy":        "Delete",
		"volumeBindingMode":    "Immediate",
	}
}

// installStorageClasses creates the classes the cluster itself provides.
func (c *Cluster) installStorageClasses(ctx context.Context) error {
	if c.Kind != config.ClusterDOKS {
		return nil
	}
	err := c.Client.Create(ctx, storageClassesPath, doksStorageClass())
	if IsStatus(err, http.StatusConflict) {
		return nil
	}
	return err
}

type storageClass struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Provisioner       string `json:"provisioner"`
	ReclaimPolicy     string `json:"reclaimPolicy"`
	VolumeBindingMode string `json:"volumeBindingMode"`
}

type claim struct {
	Metadata struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		UID         string            `json:"uid"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		StorageClassName *string  `json:"storageClassName"`
		AccessModes      []string `json:"accessModes"`
		VolumeName       string   `json:"volumeName"`
		VolumeMode       *string  `json:"volumeMode"`
		Resources        struct {
			Requests map[string]string `json:"requests"`
		} `json:"resources"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase"`
	} `json:"status"`
}

// selectedNode is the annotation the scheduler sets on a claim of a
// WaitForFirstConsumer class once it has placed the pod that uses it
// (checked: k8s.io/component-helpers v0.35.4 storage/volume/pv_helpers.go,
// AnnSelectedNode).
const selectedNode = "volume.kubernetes.io/selected-node"

// The collections the storage loop reads.
const (
	storageClassesPath = "/apis/storage.k8s.io/v1/storageclasses"
	claimsPath         = "/api/v1/persistentvolumeclaims"
)

var storageCollections = []string{storageClassesPath, claimsPath}

// provisionVolumes creates a volume for every pending claim that a
// provisioner would serve now: a claim of a known class, unbound, and, for
// a WaitForFirstConsumer class, placed by the scheduler.
func (c *Cluster) provisionVolumes(ctx context.Context) error {
	var classes struct{ Items []storageClass }
	if err := c.Client.Get(ctx, storageClassesPath, &classes); err != nil {
		return err
	}
	byName := map[string]storageClass{}
	for _, sc := range classes.Items {
		byName[sc.Metadata.Name] = sc
	}
	var claims struct{ Items []claim }
	if err := c.Client.Get(ctx, claimsPath, &claims); err != nil {
		return err
	}
	sort.Slice(claims.Items, func(i, j int) bool { return claims.Items[i].Metadata.UID < claims.Items[j].Metadata.UID })
	for _, pvc := range claims.Items {
		if pvc.Status.Phase != "Pending" || pvc.Spec.VolumeName != "" || pvc.Spec.StorageClassName == nil {
			continue
		}
		sc, ok := byName[*pvc.Spec.StorageClassName]
		if !ok {
			continue // no such class: the claim stays pending, as it would
		}
		if sc.VolumeBindingMode == "WaitForFirstConsumer" && pvc.Metadata.Annotations[selectedNode] == "" {
			continue
		}
		if err := c.Client.Create(ctx, "/api/v1/persistentvolumes", volumeFor(pvc, sc)); err != nil && !IsStatus(err, http.StatusConflict) {
			return fmt.Errorf("volume for %s/%s: %w", pvc.Metadata.Namespace, pvc.Metadata.Name, err)
		}
	}
	return nil
}

// volumeFor is the PersistentVolume a provisioner would create for a claim.
func volumeFor(pvc claim, sc storageClass) map[string]any {
	name := "pvc-" + pvc.Metadata.UID
	reclaim := sc.ReclaimPolicy
	if reclaim == "" {
		reclaim = "Delete"
	}
	spec := map[string]any{
		"capacity":                      map[string]string{"storage": pvc.Spec.Resources.Requests["storage"]},
		"accessModes":                   pvc.Spec.AccessModes,
		"storageClassName":              sc.Metadata.Name,
		"persistentVolumeReclaimPolicy": reclaim,
		"claimRef": map[string]string{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
			"namespace": pvc.Metadata.Namespace, "name": pvc.Metadata.Name, "uid": pvc.Metadata.UID},
	}
	if strings.Contains(sc.Provisioner, "/") {
		// An in-tree-style provisioner name (rancher.io/local-path, an NFS
		// provisioner's): those create hostPath, local or nfs volumes, and a
		// CSI driver name may not hold a "/" (the API server refuses it).
		spec["hostPath"] = map[string]string{"path": "/var/lib/simulated-volumes/" + name}
	} else {
		spec["csi"] = map[string]string{"driver": sc.Provisioner, "volumeHandle": name}
	}
	if pvc.Spec.VolumeMode != nil {
		spec["volumeMode"] = *pvc.Spec.VolumeMode
	}
	if node := pvc.Metadata.Annotations[selectedNode]; node != "" {
		spec["nodeAffinity"] = map[string]any{"required": map[string]any{"nodeSelectorTerms": []any{map[string]any{
			"matchExpressions": []any{map[string]any{"key": "kubernetes.io/hostname", "operator": "In", "values": []string{node}}}}}}}
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "PersistentVolume",
		"metadata": map[string]any{"name": name,
			"annotations": map[string]string{"pv.kubernetes.io/provisioned-by": sc.Provisioner}},
		"spec": spec,
	}
}
