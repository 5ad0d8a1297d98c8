// Command pulumi-resource-standin serves the simulated clouds of
// internal/standin as Pulumi provider plugins. It is installed once per
// package, under the real plugin names:
//
//	pulumi plugin install resource digitalocean 4.76.0 --file bin/pulumi-resource-standin
//
// and learns which package and version it serves from where it was installed
// (.../resource-digitalocean-v4.76.0/pulumi-resource-digitalocean). The
// simulated cloud's objects live in $HYBRID_STANDIN_DIR (default
// $PULUMI_HOME/standin-cloud, else ~/.pulumi/standin-cloud).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/hybridcloud/platform/internal/standin"
)

func main() {
	exe, err := os.Executable()
	if err != nil {
		fail(err)
	}
	pkg, version := identity(exe)
	dir, err := storeDir()
	if err != nil {
		fail(err)
	}
	store, err := standin.OpenStore(dir, pkg)
	if err != nil {
		fail(err)
	}
	err = provider.Main(pkg, func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return standin.New(pkg, version, store, host.EngineConn())
	})
	if err != nil {
		fail(err)
	}
}

// identity reads the package from the file name (pulumi-resource-NAME) and
// the version from the plugin directory (resource-NAME-vVERSION).
func identity(exe string) (pkg, version string) {
	pkg = strings.TrimPrefix(filepath.Base(exe), "pulumi-resource-")
	version = "0.0.0"
	if v, ok := strings.CutPrefix(filepath.Base(filepath.Dir(exe)), "resource-"+pkg+"-v"); ok {
		version = v
	}
	return pkg, version
}

func storeDir() (string, error) {
	if d := os.Getenv("HYBRID_STANDIN_DIR"); d != "" {
		return d, nil
	}
	if h := os.Getenv("PULUMI_HOME"); h != "" {
		return filepath.Join(h, "standin-cloud"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".pulumi", "standin-cloud"), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pulumi-resource-standin:", err)
	os.Exit(1)
}
