//go:build unix

package stages

import (
	"os/exec"
	"syscall"
	"time"
)

// killGroup runs the command in its own process group and makes a
// cancelled context stop the whole group: SIGTERM first, then SIGKILL for
// whatever is still there after execWaitDelay.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		pgid := -cmd.Process.Pid
		err := syscall.Kill(pgid, syscall.SIGTERM)
		time.AfterFunc(execWaitDelay, func() { _ = syscall.Kill(pgid, syscall.SIGKILL) })
		return err
	}
}
