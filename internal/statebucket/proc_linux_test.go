package statebucket

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal kills the server if the test binary dies before it
// can stop it (a panic or a timeout), so no gateway is left listening.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
