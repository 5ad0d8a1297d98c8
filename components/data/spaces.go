package data

import (
	"encoding/json"

	"github.com/pulumi/pulumi-digitalocean/sdk/v4/go/digitalocean"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hybridcloud/platform/internal/config"
)

// newSpaces declares the buckets through a provider that carries a
// provisioning Spaces key, then one read-write key per consumer, each granted
// only its own bucket.
func newSpaces(ctx *pulumi.Context, name string, args *Args, d *Services, parent pulumi.ResourceOption) error {
	s := args.Spaces
	// The provisioning key is what Pulumi itself uses to manage buckets; the
	// DO API token already implies this access. Workloads never get it.
	admin, err := digitalocean.NewSpacesKey(ctx, name+"-spaces-provisioner", &digitalocean.SpacesKeyArgs{
		Name: pulumi.String(args.Prefix + "-pulumi-provisioner"),
		Grants: digitalocean.SpacesKeyGrantArray{
			digitalocean.SpacesKeyGrantArgs{Bucket: pulumi.String(""), Permission: pulumi.String("fullaccess")},
		},
	}, parent, pulumi.AdditionalSecretOutputs([]string{"secretKey"}))
	if err != nil {
		return err
	}
	provider, err := digitalocean.NewProvider(ctx, name+"-spaces", &digitalocean.ProviderArgs{
		SpacesAccessId:  admin.AccessKey,
		SpacesSecretKey: pulumi.ToSecret(admin.SecretKey).(pulumi.StringOutput),
		SpacesEndpoint:  pulumi.String("https://" + s.Region + ".digitaloceanspaces.com"),
	}, parent)
	if err != nil {
		return err
	}

	buckets := s.ConsumerBuckets()
	names := pulumi.StringMap{}
	creds := pulumi.Map{}
	for _, consumer := range config.SpacesConsumers {
		bucket, err := newBucket(ctx, name+"-"+consumer, buckets[consumer], s.Region, s.NoncurrentVersionDays, s.AbortIncompleteUploadDays, provider, parent)
		if err != nil {
			return err
		}
		key, err := digitalocean.NewSpacesKey(ctx, name+"-"+consumer+"-key", &digitalocean.SpacesKeyArgs{
			Name: pulumi.String(args.Prefix + "-" + consumer),
			Grants: digitalocean.SpacesKeyGrantArray{
				digitalocean.SpacesKeyGrantArgs{Bucket: bucket.Name, Permission: pulumi.String("readwrite")},
			},
		}, parent, pulumi.AdditionalSecretOutputs([]string{"secretKey"}))
		if err != nil {
			return err
		}
		secret := pulumi.ToSecret(key.SecretKey).(pulumi.StringOutput)
		d.Keys[consumer] = SpacesCredentials{AccessKey: key.AccessKey, SecretKey: secret}
		names[consumer] = bucket.Name
		creds[consumer] = pulumi.StringMap{"accessKey": key.AccessKey, "secretKey": secret}
	}
	d.Buckets = names.ToStringMapOutput()
	d.SpacesEndpoint = pulumi.String(s.Region + ".digitaloceanspaces.com").ToStringOutput()
	d.Credentials = pulumi.ToSecret(creds.ToMapOutput()).(pulumi.MapOutput)
	return nil
}

// newBucket declares a private, versioned bucket whose old versions and
// abandoned uploads expire, with a policy that keeps it private.
func newBucket(ctx *pulumi.Context, name, bucketName, region string, noncurrentDays, abortDays int,
	provider *digitalocean.Provider, parent pulumi.ResourceOption,
) (*digitalocean.SpacesBucket, error) {
	bucket, err := digitalocean.NewSpacesBucket(ctx, name+"-bucket", &digitalocean.SpacesBucketArgs{
		Name:         pulumi.String(bucketName),
		Region:       pulumi.String(region),
		Acl:          pulumi.String("private"),
		ForceDestroy: pulumi.Bool(false),
		Versioning:   &digitalocean.SpacesBucketVersioningArgs{Enabled: pulumi.Bool(true)},
		LifecycleRules: digitalocean.SpacesBucketLifecycleRuleArray{
			digitalocean.SpacesBucketLifecycleRuleArgs{
				Id:                                 pulumi.String("expire-noncurrent-and-abort-uploads"),
				Enabled:                            pulumi.Bool(true),
				AbortIncompleteMultipartUploadDays: pulumi.Int(abortDays),
				NoncurrentVersionExpiration: &digitalocean.SpacesBucketLifecycleRuleNoncurrentVersionExpirationArgs{
					Days: pulumi.Int(noncurrentDays),
				},
			},
		},
	}, parent, pulumi.Provider(provider), pulumi.Protect(true))
	if err != nil {
		return nil, err
	}
	if _, err := digitalocean.NewSpacesBucketPolicy(ctx, name+"-policy", &digitalocean.SpacesBucketPolicyArgs{
		Region: pulumi.String(region),
		Bucket: bucket.Name,
		Policy: bucket.Name.ApplyT(bucketPolicy).(pulumi.StringOutput),
	}, parent, pulumi.Provider(provider)); err != nil {
		return nil, err
	}
	return bucket, nil
}

// bucketPolicy denies plain-HTTP access and any ACL change, so neither a
// client nor a later edit can make the bucket or its objects public.
func bucketPolicy(bucket string) (string, error) {
	resources := []string{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
				"Resource":  resources,
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			},
			map[string]any{
				"Sid": "DenyAclChanges", "Effect": "Deny", "Principal": "*",
				"Action":   []string{"s3:PutBucketAcl", "s3:PutObjectAcl"},
				"Resource": resources,
			},
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
