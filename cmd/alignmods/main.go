// Command alignmods puts every module that the program and the tool
// wrappers both build at one version (internal/localcloud, modalign.go),
// so that a cold build compiles each shared package once:
//
//	go run ./cmd/alignmods        # raise what drifted, in place
//	go run ./cmd/alignmods -check # only list it; exit 1 if anything has
//
// Run it after changing any go.mod here; then build and test as usual.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hybridcloud/platform/internal/localcloud"
)

func main() {
	check := flag.Bool("check", false, "only list the modules at more than one version")
	root := flag.String("root", ".", "the repository root")
	flag.Parse()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "alignmods: "+format+"\n", args...) }
	var skews []localcloud.Skew
	var err error
	if *check {
		skews, err = localcloud.RepoSkews(*root)
	} else {
		skews, err = localcloud.Align(*root, logf)
	}
	if err != nil {
		logf("%v", err)
		os.Exit(1)
	}
	for _, s := range skews {
		logf("%s", s)
	}
	if len(skews) > 0 {
		logf("%d modules at more than one version", len(skews))
		os.Exit(1)
	}
	logf("every shared module is at one version")
}
