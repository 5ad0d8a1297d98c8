package data

import (
	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newDatabase declares the HA PostgreSQL cluster on the private network, its
// backup hour, a firewall that admits only DOKS and the gateway, and the
// application's database, user and connection pool.
func newDatabase(ctx *pulumi.Context, name string, args *Args, d *Services, parent pulumi.ResourceOption) error {
	db := args.Database
	cluster, err := digitalocean.NewDatabaseCluster(ctx, name+"-pg", &digitalocean.DatabaseClusterArgs{
		Name:               pulumi.String(args.Prefix + "-pg"),
		Engine:             pulumi.String("pg"),
		Version:            pulumi.String(db.Version),
		Size:               pulumi.String(db.Size),
		Region:             pulumi.String(args.Region),
		NodeCount:          pulumi.Int(db.NodeCount),
		PrivateNetworkUuid: args.VpcID,
		MaintenanceWindows: digitalocean.DatabaseClusterMaintenanceWindowArray{
			digitalocean.DatabaseClusterMaintenanceWindowArgs{
				Day:  pulumi.String(db.Maintenance.Day),
				Hour: pulumi.String(db.Maintenance.StartTime),
			},
		},
		Tags: pulumi.StringArray{pulumi.String(args.Prefix)},
	}, parent, pulumi.Protect(true),
		pulumi.AdditionalSecretOutputs([]string{"password", "uri", "privateUri"}))
	if err != nil {
		return err
	}
	// Both are non-zero (config validation): the provider sends neither
	// when it is 0, which would leave a diff on every refresh.
	if _, err := digitalocean.NewDatabasePostgresqlConfig(ctx, name+"-pg-config", &digitalocean.DatabasePostgresqlConfigArgs{
		ClusterId:    cluster.ID(),
		BackupHour:   pulumi.Int(db.BackupHour),
		BackupMinute: pulumi.Int(db.BackupMinute),
	}, parent); err != nil {
		return err
	}
	// One firewall per cluster: it replaces all rules.
	if _, err := digitalocean.NewDatabaseFirewall(ctx, name+"-pg-firewall", &digitalocean.DatabaseFirewallArgs{
		ClusterId: cluster.ID(),
		Rules: digitalocean.DatabaseFirewallRuleArray{
			digitalocean.DatabaseFirewallRuleArgs{Type: pulumi.String("k8s"), Value: args.ClusterID},
			digitalocean.DatabaseFirewallRuleArgs{Type: pulumi.String("droplet"), Value: args.GatewayDropletID},
		},
	}, parent); err != nil {
		return err
	}
	database, err := digitalocean.NewDatabaseDb(ctx, name+"-pg-db", &digitalocean.DatabaseDbArgs{
		ClusterId: cluster.ID(),
		Name:      pulumi.String(db.DBName),
	}, parent, pulumi.Protect(true))
	if err != nil {
		return err
	}
	user, err := digitalocean.NewDatabaseUser(ctx, name+"-pg-user", &digitalocean.DatabaseUserArgs{
		ClusterId: cluster.ID(),
		Name:      pulumi.String(db.User),
	}, parent, pulumi.AdditionalSecretOutputs([]string{"password"}))
	if err != nil {
		return err
	}
	pool, err := digitalocean.NewDatabaseConnectionPool(ctx, name+"-pg-pool", &digitalocean.DatabaseConnectionPoolArgs{
		ClusterId: cluster.ID(),
		Name:      pulumi.String(db.DBName + "-pool"),
		Mode:      pulumi.String(db.PoolMode),
		Size:      pulumi.Int(db.PoolSize),
		DbName:    database.Name,
		User:      user.Name,
	}, parent, pulumi.AdditionalSecretOutputs([]string{"password", "uri", "privateUri"}))
	if err != nil {
		return err
	}
	d.DatabaseURI = pulumi.ToSecret(pool.PrivateUri).(pulumi.StringOutput)
	d.DatabasePassword = pulumi.ToSecret(user.Password).(pulumi.StringOutput)
	d.DatabaseHost = cluster.PrivateHost
	d.DatabaseClusterID = cluster.ID().ToStringOutput()
	return nil
}
