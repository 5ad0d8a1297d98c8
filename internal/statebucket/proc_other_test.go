//go:build !linux

package statebucket

import "os/exec"

// setParentDeathSignal has no portable equivalent off Linux; TestMain stops
// the server on a normal exit.
func setParentDeathSignal(*exec.Cmd) {}
