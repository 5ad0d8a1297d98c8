//go:build !linux

package localcloud

import "os/exec"

// dieWithParent is Linux-only; elsewhere Stop must be called.
func dieWithParent(*exec.Cmd) {}
