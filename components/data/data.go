// Package data holds the stateful DigitalOcean services: Spaces buckets with
// one least-privilege key per consumer, and the managed PostgreSQL cluster.
package data

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/argcheck"
	"github.com/hybridcloud/platform/internal/config"
)

// Args configures the data services.
type Args struct {
	// Prefix names the DigitalOcean resources, e.g. "hybrid-prod".
	Prefix   string
	Region   string
	Spaces   config.Spaces
	Database config.Database
	// VpcID places the database on the private network.
	VpcID pulumi.StringInput
	// ClusterID and GatewayDropletID are the only clients the database
	// firewall admits.
	ClusterID        pulumi.StringInput
	GatewayDropletID pulumi.StringInput
}

// SpacesCredentials is one consumer's key pair.
type SpacesCredentials struct {
	AccessKey pulumi.StringOutput
	SecretKey pulumi.StringOutput // secret
}

// Type is the component's type token; OldType the one it had, which
// existing stacks hold.
const (
	Type    = "hybrid:data:Services"
	OldType = "hybrid:data:DataServices"
)

// Services are the buckets and the database.
type Services struct {
	pulumi.ResourceState

	// Buckets maps a consumer to its bucket name.
	Buckets pulumi.StringMapOutput `pulumi:"buckets"`
	// SpacesEndpoint is the S3 endpoint host, e.g. nyc3.digitaloceanspaces.com.
	SpacesEndpoint pulumi.StringOutput `pulumi:"spacesEndpoint"`
	// Credentials maps a consumer to {accessKey, secretKey}; it is a secret.
	Credentials pulumi.MapOutput `pulumi:"credentials"`
	// DatabaseURI is the application's connection string through the
	// connection pool on the private network; it is a secret.
	DatabaseURI pulumi.StringOutput `pulumi:"databaseUri"`
	// DatabasePassword is the application user's password; it is a secret.
	DatabasePassword pulumi.StringOutput `pulumi:"databasePassword"`
	// DatabaseHost is the private host name of the cluster.
	DatabaseHost pulumi.StringOutput `pulumi:"databaseHost"`
	// DatabaseClusterID is the managed cluster's id (for PITR restores).
	DatabaseClusterID pulumi.StringOutput `pulumi:"databaseClusterId"`

	// Keys holds each consumer's credentials for wiring inside the program.
	Keys map[string]SpacesCredentials
}

// New declares the Spaces layout and the database.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Services, error) {
	if err := args.check(); err != nil {
		return nil, err
	}
	d := &Services{Keys: map[string]SpacesCredentials{}}
	opts = append(opts, pulumi.Aliases([]pulumi.Alias{{Type: pulumi.String(OldType)}}))
	if err := ctx.RegisterComponentResource(Type, name, d, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(d)
	if err := newSpaces(ctx, name, args, d, parent); err != nil {
		return nil, err
	}
	if err := newDatabase(ctx, name, args, d, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"buckets":           d.Buckets,
		"spacesEndpoint":    d.SpacesEndpoint,
		"credentials":       d.Credentials,
		"databaseUri":       d.DatabaseURI,
		"databasePassword":  d.DatabasePassword,
		"databaseHost":      d.DatabaseHost,
		"databaseClusterId": d.DatabaseClusterID,
	}); err != nil {
		return nil, err
	}
	return d, nil
}

func (a *Args) check() error {
	if a == nil {
		return argcheck.Nil("data")
	}
	e := argcheck.For("data")
	e.Required("Prefix", a.Prefix == "")
	e.Required("Region", a.Region == "")
	e.Required("VpcID", a.VpcID == nil)
	e.Required("ClusterID", a.ClusterID == nil)
	e.Required("GatewayDropletID", a.GatewayDropletID == nil)
	return e.Err()
}
