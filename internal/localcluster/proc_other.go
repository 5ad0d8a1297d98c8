//go:build !linux

package localcluster

import "os/exec"

// SetDieWithParent is Linux-only; elsewhere Stop must be called.
func SetDieWithParent(*exec.Cmd) {}
