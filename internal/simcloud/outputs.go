package simcloud

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Compute returns the id and the state a real provider returns when it
// creates an object: its inputs plus the computed outputs the program reads.
// vpcRange resolves a VPC id to its address range, as the cloud would when it
// places a Droplet; it may be nil.
func Compute(o Object, vpcRange func(id string) (string, bool)) (string, resource.PropertyMap) {
	in := o.Inputs
	out := in.Copy()
	set := func(k string, v any) { out[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	str := func(k string) string { return String(in, k) }
	id := uuid(o.URN)
	n := seed(o.URN)

	switch o.Type {
	case "digitalocean:index/vpc:Vpc":
		set("urn", "do:vpc:"+id)
		set("default", false)

	case "digitalocean:index/droplet:Droplet":
		id = strconv.FormatUint(400000000+n%99999999, 10)
		set("ipv4Address", publicIP(n))
		set("ipv4AddressPrivate", privateIP(vpcRange, str("vpcUuid"), n))
		set("urn", "do:droplet:"+id)
		set("status", "active")

	case "digitalocean:index/reservedIp:ReservedIp":
		id = publicIP(n + 1)
		set("ipAddress", id)
		set("urn", "do:reservedip:"+id)

	case "digitalocean:index/kubernetesCluster:KubernetesCluster":
		endpoint := "https://" + id + ".k8s.ondigitalocean.com"
		// DOKS reports the CA as base64 PEM (certificate-authority-data).
		ca := base64.StdEncoding.EncodeToString([]byte(fakePEM("CERTIFICATE", "doks-ca:"+id)))
		set("endpoint", endpoint)
		set("ipv4Address", publicIP(n+2))
		set("clusterUrn", "do:kubernetes:"+id)
		set("status", "running")
		set("urn", "do:kubernetes:"+id)
		set("kubeConfigs", []any{map[string]any{
			"host":                 endpoint,
			"clusterCaCertificate": ca,
			"token":                "doks-token-" + hexID("token:"+id, 40),
			"expiresAt":            "2099-01-01T00:00:00Z",
			"rawConfig":            Kubeconfig(endpoint, ca, o.Name, "token: doks-token-"+hexID("token:"+id, 40)),
			"clientCertificate":    "",
			"clientKey":            "",
		}})
		if pool, ok := in["nodePool"]; ok && pool.IsObject() {
			p := pool.ObjectValue().Copy()
			p["id"] = resource.NewProperty(uuid("pool:" + id))
			p["actualNodeCount"] = minNodes(p)
			out["nodePool"] = resource.NewProperty(p)
		}

	case "digitalocean:index/kubernetesNodePool:KubernetesNodePool":
		set("actualNodeCount", minNodes(in))

	case "digitalocean:index/containerRegistry:ContainerRegistry":
		id = str("name")
		set("endpoint", "registry.digitalocean.com/"+id)
		set("serverUrl", "registry.digitalocean.com")
		set("storageUsageBytes", 0)

	case "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials":
		auth := base64.StdEncoding.EncodeToString([]byte("mock:" + hexID("registry-token:"+id, 32)))
		set("dockerCredentials", `{"auths":{"registry.digitalocean.com":{"auth":"`+auth+`"}}}`)
		id = str("registryName")

	case "digitalocean:index/spacesKey:SpacesKey":
		id = "DO" + hexID("access:"+o.URN, 18)
		set("accessKey", id)
		set("secretKey", base64.StdEncoding.EncodeToString([]byte(hexID("secret:"+o.URN, 30))))
		set("createdAt", "2026-01-01T00:00:00Z")

	case "digitalocean:index/spacesBucket:SpacesBucket":
		region := str("region")
		id = str("name")
		set("bucketDomainName", id+"."+region+".digitaloceanspaces.com")
		set("endpoint", region+".digitaloceanspaces.com")
		set("urn", "do:space:"+id)

	case "digitalocean:index/databaseCluster:DatabaseCluster":
		host := "db-" + hexID(id, 8) + "-do-user-1.db.ondigitalocean.com"
		privateHost := "private-" + host
		password := "AVNS_" + hexID("dbpass:"+id, 20)
		set("host", host)
		set("privateHost", privateHost)
		set("port", 25060)
		set("user", "doadmin")
		set("password", password)
		set("database", "defaultdb")
		set("uri", fmt.Sprintf("postgresql://doadmin:%s@%s:25060/defaultdb?sslmode=require", password, host))
		set("privateUri", fmt.Sprintf("postgresql://doadmin:%s@%s:25060/defaultdb?sslmode=require", password, privateHost))
		set("urn", "do:dbaas:"+id)

	case "digitalocean:index/databaseUser:DatabaseUser":
		set("password", "AVNS_"+hexID("userpass:"+o.URN, 20))
		set("role", "normal")
		id = str("name")

	case "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool":
		password := "AVNS_" + hexID("poolpass:"+o.URN, 20)
		host := "db-" + hexID(o.URN, 8) + "-do-user-1.db.ondigitalocean.com"
		set("host", host)
		set("privateHost", "private-"+host)
		set("port", 25061)
		set("password", password)
		set("uri", fmt.Sprintf("postgresql://%s:%s@%s:25061/%s?sslmode=require", str("user"), password, host, str("name")))
		set("privateUri", fmt.Sprintf("postgresql://%s:%s@private-%s:25061/%s?sslmode=require", str("user"), password, host, str("name")))

	case "talos:machine/secrets:Secrets":
		set("machineSecrets", talosMachineSecrets(id))
		set("clientConfiguration", map[string]any{
			"caCertificate":     base64.StdEncoding.EncodeToString([]byte(fakePEM("CERTIFICATE", "talos-os-ca:"+id))),
			"clientCertificate": base64.StdEncoding.EncodeToString([]byte(fakePEM("CERTIFICATE", "talos-admin:"+id))),
			"clientKey":         base64.StdEncoding.EncodeToString([]byte(fakePEM("ED25519 PRIVATE KEY", "talos-admin-key:"+id))),
		})

	case "talos:machine/configurationApply:ConfigurationApply":
		set("machineConfiguration", str("machineConfigurationInput"))

	case "kubernetes:core/v1:Service":
		// A LoadBalancer Service gets an address: the one Cilium LB-IPAM was
		// asked for (on-prem), else a public one as DigitalOcean assigns.
		if spec, ok := in["spec"]; ok && spec.IsObject() {
			if t := spec.ObjectValue()["type"]; t.IsString() && t.StringValue() == "LoadBalancer" {
				ip := annotation(in, "lbipam.cilium.io/ips")
				if ip == "" {
					ip = publicIP(n + 3)
				}
				set("status", map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": ip}}}})
			}
		}

	case "talos:cluster/kubeconfig:Kubeconfig":
		host := "https://" + str("endpoint") + ":6443"
		ca := fakePEM("CERTIFICATE", "talos-k8s-ca:"+id)
		cert := fakePEM("CERTIFICATE", "talos-k8s-admin:"+id)
		key := fakePEM("EC PRIVATE KEY", "talos-k8s-admin-key:"+id)
		set("kubeconfigRaw", Kubeconfig(host, base64.StdEncoding.EncodeToString([]byte(ca)), "admin@talos",
			"client-certificate-data: "+base64.StdEncoding.EncodeToString([]byte(cert))+
				"\n    client-key-data: "+base64.StdEncoding.EncodeToString([]byte(key))))
		set("kubernetesClientConfiguration", map[string]any{
			"host":              host,
			"caCertificate":     base64.StdEncoding.EncodeToString([]byte(ca)),
			"clientCertificate": base64.StdEncoding.EncodeToString([]byte(cert)),
			"clientKey":         base64.StdEncoding.EncodeToString([]byte(key)),
		})
	}
	if o.ImportID != "" {
		id = o.ImportID
	}
	if !o.Custom {
		id = ""
	}
	return id, out
}

// annotation returns a Kubernetes object's annotation from its inputs.
func annotation(in resource.PropertyMap, key string) string {
	meta, ok := in["metadata"]
	if !ok || !meta.IsObject() {
		return ""
	}
	ann, ok := meta.ObjectValue()["annotations"]
	if !ok || !ann.IsObject() {
		return ""
	}
	if v := ann.ObjectValue()[resource.PropertyKey(key)]; v.IsString() {
		return v.StringValue()
	}
	return ""
}

func minNodes(m resource.PropertyMap) resource.PropertyValue {
	if v, ok := m["minNodes"]; ok && v.IsNumber() {
		return v
	}
	if v, ok := m["nodeCount"]; ok && v.IsNumber() {
		return v
	}
	return resource.NewProperty(1.0)
}

// publicIP returns a stable address in 198.51.100.0/24 (TEST-NET-2).
func publicIP(n uint64) string {
	return fmt.Sprintf("198.51.100.%d", 10+n%240)
}

// privateIP returns a stable host address inside the VPC a resource is placed in.
func privateIP(vpcRange func(string) (string, bool), vpcID string, n uint64) string {
	if vpcRange != nil {
		if r, ok := vpcRange(vpcID); ok {
			if pfx, err := netip.ParsePrefix(r); err == nil {
				a := pfx.Addr().As4()
				a[2] += byte(n % 8)
				a[3] = byte(2 + n%250)
				return netip.AddrFrom4(a).String()
			}
		}
	}
	return fmt.Sprintf("10.10.0.%d", 2+n%250)
}

// fakePEM returns a PEM block of stable bytes; it is not a usable key.
func fakePEM(kind, s string) string {
	body := base64.StdEncoding.EncodeToString([]byte(hexID(s, 64) + hexID("2"+s, 64)))
	return "-----BEGIN " + kind + "-----\n" + body + "\n-----END " + kind + "-----\n"
}

// Kubeconfig renders a kubeconfig; caData is base64 PEM.
func Kubeconfig(server, caData, name, userAuth string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[3]s
  cluster:
    server: %[1]s
    certificate-authority-data: %[2]s
contexts:
- name: %[3]s
  context:
    cluster: %[3]s
    user: %[3]s-admin
current-context: %[3]s
users:
- name: %[3]s-admin
  user:
    %[4]s
`, server, caData, name, userAuth)
}

func talosMachineSecrets(id string) map[string]any {
	cert := func(name string) map[string]any {
		return map[string]any{
			"cert": base64.StdEncoding.EncodeToString([]byte(fakePEM("CERTIFICATE", name+id))),
			"key":  base64.StdEncoding.EncodeToString([]byte(fakePEM("PRIVATE KEY", name+"-key"+id))),
		}
	}
	return map[string]any{
		"certs": map[string]any{
			"etcd":              cert("etcd"),
			"k8s":               cert("k8s"),
			"k8sAggregator":     cert("k8s-aggregator"),
			"k8sServiceaccount": map[string]any{"key": base64.StdEncoding.EncodeToString([]byte(fakePEM("PRIVATE KEY", "sa"+id)))},
			"os":                cert("os"),
		},
		"cluster": map[string]any{"id": hexID("cluster-id"+id, 43), "secret": hexID("cluster-secret"+id, 43)},
		"secrets": map[string]any{
			"bootstrapToken":            hexID("bt1"+id, 6) + "." + hexID("bt2"+id, 16),
			"secretboxEncryptionSecret": base64.StdEncoding.EncodeToString([]byte(hexID("secretbox"+id, 32))),
		},
		"trustdinfo": map[string]any{"token": hexID("trustd1"+id, 6) + "." + hexID("trustd2"+id, 16)},
	}
}
