package redistest

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the server when the process that
// started it dies without stopping it (a crash, SIGKILL, SIGQUIT), so it
// neither lingers nor keeps file descriptors it inherited (a lock held
// through flock(1)).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
