package plan

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/hybridcloud/platform/components/ingress"
	"github.com/hybridcloud/platform/internal/config"
	"github.com/hybridcloud/platform/internal/diagram"
	"github.com/hybridcloud/platform/internal/mockcloud"
)

// Figures are the recovery and sizing numbers of a plan, derived from the
// recorded resources, the stack outputs and the validated config.
type Figures struct {
	// Failover is the Cloudflare failover detection (prod only).
	Failover *FailoverFigure `json:"failover,omitempty"`
	// ClusterStateRPO is the longest gap between backups of every namespace.
	ClusterStateRPO *ScheduleRPO `json:"clusterStateRpo,omitempty"`
	// EtcdRPO is the longest gap between etcd snapshots of the Talos
	// cluster (onprem only): what a restore of a lost control plane loses.
	EtcdRPO *ScheduleRPO `json:"etcdRpo,omitempty"`
	// DatabaseRPO is the managed PostgreSQL recovery point (prod only).
	DatabaseRPO *DatabaseRPO `json:"databaseRpo,omitempty"`
	// Nodes are the node bounds of each pool or role.
	Nodes []NodeBound `json:"nodes"`
	// Components count the resources under each component.
	Components []diagram.ComponentCount `json:"resourcesPerComponent"`
	// OutsideComponents counts the resources under no component.
	OutsideComponents int `json:"resourcesOutsideComponents"`
	// LongestChain is the critical path of a first `pulumi up`, with
	// assumed create durations (durations.json).
	LongestChain *Chain `json:"longestChain,omitempty"`
	// OriginChain is the longest chain to the stack's public origin: the
	// Cloudflare load balancer (prod), the ingress Service that gets the
	// failover origin's address (onprem).
	OriginChain *Chain `json:"originChain,omitempty"`
}

// FailoverFigure is the worst-case time for Cloudflare to mark an origin down.
type FailoverFigure struct {
	// DetectionSeconds is an upper bound (config.Edge.Detection), not the
	// interval formula; Derivation says how it is made up.
	DetectionSeconds int    `json:"detectionSeconds"`
	ObjectiveSeconds int    `json:"objectiveSeconds"`
	Derivation       string `json:"derivation,omitempty"`
}

// ScheduleRPO is the cluster-state recovery point the Velero schedules give.
type ScheduleRPO struct {
	Seconds          int64  `json:"seconds"`
	Duration         string `json:"duration"`
	Schedule         string `json:"schedule"`
	Cron             string `json:"cron"`
	ObjectiveSeconds int64  `json:"objectiveSeconds"`
}

// DatabaseRPO is the recovery point of the managed database.
type DatabaseRPO struct {
	Summary    string `json:"summary"`
	Engine     string `json:"engine"`
	Version    string `json:"version"`
	Nodes      int    `json:"nodes"`
	WindowDays int    `json:"pitrWindowDays"`
}

// NodeBound is the node count range of one DOKS pool or one Talos role.
type NodeBound struct {
	Cluster string `json:"cluster"`
	Pool    string `json:"pool"`
	Size    string `json:"size,omitempty"`
	Min     int    `json:"min"`
	Max     int    `json:"max"`
}

// managedPGPITRDays is DigitalOcean managed PostgreSQL's point-in-time
// recovery window: daily backups plus continuous WAL archiving, restorable
// to any moment of the last seven days (a fixed property of the service, not
// a setting).
const managedPGPITRDays = 7

// Figures computes the plan's figures.
func (r *Result) Figures() Figures {
	all := r.Cloud.Resources()
	f := Figures{Nodes: []NodeBound{}}
	f.Components, f.OutsideComponents = diagram.CountByComponent(all)
	if o, ok := r.Outputs["failoverDetectionSeconds"]; ok && o.Known {
		if n, ok := number(o.Value); ok {
			f.Failover = &FailoverFigure{DetectionSeconds: n}
			if r.Config != nil {
				f.Failover.ObjectiveSeconds = r.Config.Edge.DetectionObjectiveSeconds
				f.Failover.Derivation = r.Config.Edge.Detection().Derivation
			}
		}
	}
	if r.Config != nil {
		f.ClusterStateRPO = clusterStateRPO(r.Config.Platform.Backup.Schedules)
		if r.Config.Kind == config.KindOnprem {
			f.EtcdRPO = etcdRPO(r.Config.Talos.EtcdBackup)
		}
	}
	if d, err := LoadDurations(); err == nil {
		f.LongestChain = LongestChain(r.Stack, all, d)
		f.OriginChain = LongestChainTo(r.Stack, all, d, isOrigin)
	}
	for _, res := range all {
		in := Plain(res.Inputs)
		switch res.Type {
		case "digitalocean:index/databaseCluster:DatabaseCluster":
			d := &DatabaseRPO{Engine: text(in, "engine"), Version: text(in, "version"), WindowDays: managedPGPITRDays}
			d.Nodes, _ = number(in["nodeCount"])
			d.Summary = fmt.Sprintf("continuous (PITR), %d-day window", managedPGPITRDays)
			if d.Engine != "pg" {
				d.Summary = "daily backups (engine " + d.Engine + ")"
			}
			f.DatabaseRPO = d
		case "digitalocean:index/kubernetesCluster:KubernetesCluster":
			pool, _ := in["nodePool"].(map[string]any)
			f.Nodes = append(f.Nodes, poolBound("DOKS "+text(in, "name"), pool))
		case "digitalocean:index/kubernetesNodePool:KubernetesNodePool":
			f.Nodes = append(f.Nodes, poolBound("DOKS pool of "+res.Parent[strings.LastIndex(res.Parent, "::")+2:], in))
		}
	}
	if r.Config != nil && len(r.Config.Talos.Nodes) > 0 {
		for _, role := range []string{config.RoleControlPlane, config.RoleWorker} {
			n := 0
			for _, node := range r.Config.Talos.Nodes {
				if node.Role == role {
					n++
				}
			}
			f.Nodes = append(f.Nodes, NodeBound{Cluster: "Talos " + r.Config.Talos.ClusterName, Pool: role, Min: n, Max: n})
		}
	}
	return f
}

// clusterStateRPO is the shortest longest-gap among the schedules of every
// namespace (with several, backups are at least that frequent).
func clusterStateRPO(schedules []config.BackupSchedule) *ScheduleRPO {
	var best *ScheduleRPO
	for _, s := range schedules {
		if !s.CoversAll() {
			continue
		}
		gap, err := s.MaxGap()
		if err != nil {
			continue
		}
		if best == nil || int64(gap.Seconds()) < best.Seconds {
			best = &ScheduleRPO{Seconds: int64(gap.Seconds()), Duration: gap.String(), Schedule: s.Name, Cron: s.Cron,
				ObjectiveSeconds: int64(config.ClusterStateRPO.Seconds())}
		}
	}
	return best
}

// etcdRPO is the etcd snapshot schedule's longest gap, as config derives
// it (config.EtcdBackup.RPO).
func etcdRPO(b config.EtcdBackup) *ScheduleRPO {
	gap, err := b.RPO()
	if err != nil {
		return nil
	}
	return &ScheduleRPO{Seconds: int64(gap.Seconds()), Duration: gap.String(), Schedule: "talos.etcdBackup", Cron: b.Schedule,
		ObjectiveSeconds: int64(config.ClusterStateRPO.Seconds())}
}

func poolBound(cluster string, pool map[string]any) NodeBound {
	b := NodeBound{Cluster: cluster, Pool: text(pool, "name"), Size: text(pool, "size")}
	b.Min, _ = number(pool["minNodes"])
	b.Max, _ = number(pool["maxNodes"])
	if auto, _ := pool["autoScale"].(bool); !auto {
		n, _ := number(pool["nodeCount"])
		b.Min, b.Max = max(n, b.Min), max(n, b.Min)
	}
	return b
}

func text(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func number(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return int(n), true
	case int:
		return n, true
	}
	return 0, false
}

// writeFigures prints the figures block of the text plan.
func (r *Result) writeFigures(w io.Writer) {
	f := r.Figures()
	fmt.Fprintln(w, "\nfigures:")
	if f.Failover != nil {
		fmt.Fprintf(w, "  failover detection: at most %d s (objective %d s)\n", f.Failover.DetectionSeconds, f.Failover.ObjectiveSeconds)
		if f.Failover.Derivation != "" {
			fmt.Fprintf(w, "    bound: %s\n", f.Failover.Derivation)
		}
	}
	if s := f.ClusterStateRPO; s != nil {
		fmt.Fprintf(w, "  RPO cluster state: %s (Velero schedule %s %q, every namespace; objective %s)\n",
			s.Duration, s.Schedule, s.Cron, time.Duration(s.ObjectiveSeconds)*time.Second)
	}
	if s := f.EtcdRPO; s != nil {
		fmt.Fprintf(w, "  RPO etcd (Talos control plane): %s (talos-backup CronJob %q, UTC; objective %s)\n",
			s.Duration, s.Cron, time.Duration(s.ObjectiveSeconds)*time.Second)
	}
	if d := f.DatabaseRPO; d != nil {
		fmt.Fprintf(w, "  RPO database: %s (managed %s %s, %d nodes)\n", d.Summary, d.Engine, d.Version, d.Nodes)
	}
	for _, n := range f.Nodes {
		size := ""
		if n.Size != "" {
			size = " (" + n.Size + ")"
		}
		fmt.Fprintf(w, "  nodes %s %s%s: %d..%d\n", n.Cluster, n.Pool, size, n.Min, n.Max)
	}
	for _, s := range r.Support {
		eol := "unknown (not in internal/cost/support.json)"
		if s.Known {
			eol = fmt.Sprintf("%s, %d days left", s.EndOfLife, s.DaysLeft)
			if s.Retired {
				eol = fmt.Sprintf("%s, retired %d days ago", s.EndOfLife, -s.DaysLeft)
			}
		}
		fmt.Fprintf(w, "  support %s %s %s: end of support %s\n", s.Cluster, s.Product, s.Version, eol)
	}
	if r.Config != nil && r.Config.Kind == config.KindOnprem {
		// No state holds what the nodes run: say so rather than guess.
		fmt.Fprintln(w, "  running Talos and Kubernetes versions: not known offline, and in no state (the provider's ConfigurationApply records the config it sent, never what the node runs);"+
			" `go run ./cmd/talos-upgrade --dry-run` reads them from the nodes (docs/runbooks/upgrade-talos.md)")
	}
	for _, warning := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warning)
	}
	writeChain(w, "longest create chain", f.LongestChain)
	writeChain(w, "create chain to the public origin", f.OriginChain)
	fmt.Fprintln(w, "  resources per component:")
	for _, c := range f.Components {
		fmt.Fprintf(w, "    %-40s %-14s %4s\n", c.Type, c.Name, strconv.Itoa(c.Resources))
	}
	fmt.Fprintf(w, "    %-55s %4d\n", "outside components", f.OutsideComponents)
}

// shortType is the last part of a type token: Chart, KubernetesCluster.
func shortType(t string) string {
	return t[strings.LastIndex(t, ":")+1:]
}

// isOrigin selects what makes a stack reachable from the Internet: the
// Cloudflare load balancer, or where there is none, the ingress Service.
func isOrigin(r *mockcloud.Resource) bool {
	return r.Type == "cloudflare:index/loadBalancer:LoadBalancer" ||
		(r.Type == "kubernetes:core/v1:Service" && resource.URN(r.Parent).Type() == ingress.Type)
}

func writeChain(w io.Writer, title string, c *Chain) {
	if c == nil {
		return
	}
	var steps []string
	for _, s := range c.Steps {
		steps = append(steps, fmt.Sprintf("%s %s (%s)", shortType(s.Type), s.Name, time.Duration(s.Seconds)*time.Second))
	}
	fmt.Fprintf(w, "  %s: %s with assumed durations (internal/plan/durations.json):\n    %s\n",
		title, time.Duration(c.Seconds)*time.Second, strings.Join(steps, "\n    -> "))
	if len(c.Unpriced) > 0 {
		fmt.Fprintf(w, "    (no duration assumed for %s)\n", strings.Join(c.Unpriced, ", "))
	}
}
