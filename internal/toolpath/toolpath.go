// Package toolpath finds the command-line tools that the test suite runs
// (versitygw, actionlint) where `go install` puts them.
package toolpath

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Find returns the path of the named binary: on PATH, else in
// $(go env GOPATH)/bin, where `go install` puts it even when that directory
// is not on PATH.
func Find(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New(name + " is not on PATH nor in $(go env GOPATH)/bin")
}
