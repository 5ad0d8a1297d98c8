package localcluster

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVolumeForAClaim(t *testing.T) {
	class := func(name, provisioner, reclaim string) storageClass {
		var sc storageClass
		sc.Metadata.Name, sc.Provisioner, sc.ReclaimPolicy = name, provisioner, reclaim
		return sc
	}
	pvc := func(node string) claim {
		var c claim
		c.Metadata.Name, c.Metadata.Namespace, c.Metadata.UID = "data", "monitoring", "u1"
		c.Spec.AccessModes = []string{"ReadWriteOnce"}
		c.Spec.Resources.Requests = map[string]string{"storage": "20Gi"}
		if node != "" {
			c.Metadata.Annotations = map[string]string{selectedNode: node}
		}
		return c
	}
	for _, tt := range []struct {
		name          string
		sc            storageClass
		claim         claim
		wantSource    string
		wantReclaim   string
		wantNodeBound bool
	}{
		{"DO CSI driver", class("do-block-storage", "dobs.csi.digitalocean.com", "Delete"), pvc(""), "csi", "Delete", false},
		{"local-path after the scheduler placed the pod", class("local-ssd", "rancher.io/local-path", "Retain"), pvc("worker-1"), "hostPath", "Retain", true},
		{"no reclaim policy is Delete", class("nfs", "cluster.local/nfs-provisioner", ""), pvc(""), "hostPath", "Delete", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pv := volumeFor(tt.claim, tt.sc)
			spec := pv["spec"].(map[string]any)
			assert.Contains(t, spec, tt.wantSource)
			assert.Equal(t, tt.wantReclaim, spec["persistentVolumeReclaimPolicy"])
			assert.Equal(t, map[string]string{"storage": "20Gi"}, spec["capacity"])
			assert.Equal(t, tt.sc.Metadata.Name, spec["storageClassName"])
			ref := spec["claimRef"].(map[string]string)
			assert.Equal(t, "u1", ref["uid"], "pre-bound to this claim only")
			_, bound := spec["nodeAffinity"]
			assert.Equal(t, tt.wantNodeBound, bound)
		})
	}
}
