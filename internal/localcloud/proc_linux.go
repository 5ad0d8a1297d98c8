package localcloud

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes a server die with the process that started it, so a
// killed test run leaves no server behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
