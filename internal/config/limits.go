package config

// Bounds the configuration is validated against. The guardrails in
// internal/policy hold the planned resources to the same constants, so a
// config that validates cannot fail the plan on a bound, and a bound changed
// here changes both (tests/limits_test.go checks each at and past its edge).
const (
	// ProdMinPoolNodes is the smallest production default pool: one node can
	// be drained for an upgrade while two keep the workloads and the ingress
	// replicas on separate nodes.
	ProdMinPoolNodes = 3

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
)

// MinDefaultPoolNodes is the floor of the default pool: ProdMinPoolNodes in a
// production environment, MinPoolNodes elsewhere.
func MinDefaultPoolNodes(production bool) int {
	if production {
		return ProdMinPoolNodes
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
