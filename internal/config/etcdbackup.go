package config

import (
	"fmt"
	"strings"
	"time"
)

// EtcdBackup is talos.etcdBackup: scheduled snapshots of the Talos
// cluster's etcd, encrypted to the etcdBackupAgeRecipient secret and stored
// in the Spaces backups bucket under EtcdBackupPrefix. Velero restores
// Kubernetes objects into a running cluster; a lost control plane comes
// back only from such a snapshot (talosctl bootstrap --recover-from).
type EtcdBackup struct {
	// Schedule is a Kubernetes CronJob schedule, evaluated in UTC.
	Schedule string `json:"schedule"`
}

// EtcdBackupNamespace is where the snapshot CronJob runs, and the one
// namespace the control-plane machine configs allow Talos API access from
// (machine.features.kubernetesTalosAPIAccess).
const EtcdBackupNamespace = "etcd-backup"

// EtcdBackupTimeZone is the CronJob's spec.timeZone: the schedule is read in
// UTC whatever the controller manager's zone, as the RPO derivation assumes.
const EtcdBackupTimeZone = "Etc/UTC"

// EtcdBackupPrefix is where a stack's snapshots go in the backups bucket:
// beside Velero's prefix (the stack name), not inside it. Velero marks a
// backup location unavailable when its prefix holds a directory it does
// not own (IsValid, pkg/persistence/object_store.go:219 at
// vmware-tanzu/velero v1.18.1: only backups, restores, restic, metadata,
// plugins and kopia), so "onprem/etcd" would break Velero's own location.
func EtcdBackupPrefix(stack string) string { return stack + "-etcd" }

// RPO is the etcd recovery point the schedule gives: the longest time
// between two consecutive snapshots (CronMaxGap, in UTC). Validation has
// proved the schedule parses and runs.
func (b EtcdBackup) RPO() (time.Duration, error) {
	return BackupSchedule{Cron: b.Schedule}.MaxGap()
}

func validateEtcdBackup(p *problems, b EtcdBackup) {
	const key = "talos.etcdBackup.schedule"
	// The Kubernetes API refuses TZ or CRON_TZ in a CronJob's schedule
	// once spec.timeZone is set (k8s.io/kubernetes v1.35.4
	// pkg/apis/batch/validation/validation.go:833-847); the rest it parses
	// with robfig/cron's ParseStandard, as parseCron does.
	if strings.Contains(b.Schedule, "TZ") {
		p.add(key, b.Schedule, "a cron expression without TZ or CRON_TZ: the CronJob runs in "+EtcdBackupTimeZone)
		return
	}
	gap, err := CronMaxGap(b.Schedule)
	switch {
	case err != nil:
		p.add(key, b.Schedule, "a Kubernetes CronJob schedule (minute hour day-of-month month day-of-week, UTC) or a descriptor such as @hourly: "+err.Error())
	case gap == 0:
		p.add(key, b.Schedule, "a cron expression that runs at least once (this one never matches a date)")
	case gap > ClusterStateRPO:
		p.add(key, b.Schedule, fmt.Sprintf("a schedule that snapshots etcd at least every %s, the cluster-state RPO (this one leaves gaps of %s)", ClusterStateRPO, gap))
	}
}
