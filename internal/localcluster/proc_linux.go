package localcluster

import (
	"os/exec"
	"syscall"
)

// SetDieWithParent makes a server die with the process that started it, so
// a killed test run leaves no server behind.
func SetDieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
