package config

// Bounds the configuration is validated against. The guardrails in
// internal/policy hold the planned resources to the same constants, so a
// config that validates cannot fail the plan on a bound, and a bound changed
// here changes both (tests/limits_test.go checks each at and past its edge).
const (
	// ProdMinPoolNodes is the smallest production workload pool
	// (doks.nodePool): one node can be drained for an upgrade while two keep
	// the workloads and the ingress replicas on separate nodes.
	ProdMinPoolNodes = 3

	// ProdMinSystemPoolNodes is the smallest production system pool
	// (doks.systemPool, the cluster's default pool): one node can be drained
	// for an upgrade while the other keeps the cluster's own pods running.
	// The workload capacity is ProdMinPoolNodes, in doks.nodePool.
	ProdMinSystemPoolNodes = 2

	// ProdSystemPoolSize is the Droplet size the prod cluster's default pool
	// was created with, the only one doks.systemPool.size may have. The size
	// of a pool is ForceNew (checked: terraform-provider-digitalocean
	// v2.96.0, the version pulumi-digitalocean v4.76.0 bridges,
	// digitalocean/kubernetes/kubernetes.go:25-30, nodePoolSchema "size"),
	// and the cluster's default pool is that schema nested in the cluster
	// (resource_kubernetes_cluster.go:185-192, "node_pool", MaxItems 1), so
	// a new size replaces the whole KubernetesCluster, which is protected:
	// the `up` fails. docs/runbooks/resize-doks-pool.md is the procedure
	// that changes it without a new cluster, and this constant with it.
	ProdSystemPoolSize = "s-4vcpu-8gb"

	// MinPoolNodes is the smallest minNodes of any other pool. The DOKS
	// cluster autoscaler scales down to 1, not 0 (DigitalOcean's
	// "Kubernetes Limits" page: "The cluster autoscaler supports automated
	// scaling down to 1"; a pool at 0 needs a manual resize).
	MinPoolNodes = 1

	// MaxPoolNodes bounds every pool's autoscaling (cost and blast radius).
	// It is this project's bound, not DigitalOcean's: neither the API nor the
	// provider caps a pool (checked: digitalocean/openapi
	// specification/resources/kubernetes/models/node_pool.yml, max_nodes has
	// no maximum; terraform-provider-digitalocean digitalocean/kubernetes/kubernetes.go
	// nodePoolSchema, max_nodes has no ValidateFunc; pulumi-digitalocean
	// sdk/v4 v4.76.0 kubernetesNodePool.go:133 only describes the field).
	// What does cap it is the account's Droplet limit, 25 by default and
	// raised on request (DigitalOcean's "How to Enable Cluster Autoscaler"
	// page); 20 leaves room for the gateway Droplet under the default.
	MaxPoolNodes = 20

	// ProdMinDatabaseNodes is the smallest production database: a primary
	// and a standby, so a node failure fails over instead of going down.
	ProdMinDatabaseNodes = 2

	// MaxDatabaseNodes is a primary and two standbys, the most a managed
	// PostgreSQL cluster has.
	MaxDatabaseNodes = 3

	// MinControlPlaneNodes is the fewest active Talos control-plane nodes
	// (talos.nodes with role controlplane); validateTalos also wants an odd
	// number. etcd needs a majority of its members to agree on every write:
	// 1 member tolerates no failure, 3 tolerate one (etcd's FAQ, "What is
	// failure tolerance?": size 3, majority 2, failure tolerance 1;
	// etcd-io/etcd Documentation/faq.md). With 3, one node can be rebooted
	// by cmd/talos-upgrade or fail while the API keeps answering.
	MinControlPlaneNodes = 3
)

// MinWorkloadPoolNodes is the floor of the workload pool (doks.nodePool):
// ProdMinPoolNodes in a production environment, MinPoolNodes elsewhere.
func MinWorkloadPoolNodes(production bool) int {
	if production {
		return ProdMinPoolNodes
	}
	return MinPoolNodes
}

// MinSystemPoolNodes is the floor of the system pool (doks.systemPool):
// ProdMinSystemPoolNodes in a production environment, MinPoolNodes
// elsewhere.
func MinSystemPoolNodes(production bool) int {
	if production {
		return ProdMinSystemPoolNodes
	}
	return MinPoolNodes
}

// MinDatabaseNodes is the floor of the database's nodeCount:
// ProdMinDatabaseNodes in a production environment, one node elsewhere.
func MinDatabaseNodes(production bool) int {
	if production {
		return ProdMinDatabaseNodes
	}
	return 1
}
