//go:build unix

package stages

import (
	"os/exec"
	"syscall"
	"time"
)

// killGroup runs the command in its own process group and makes a
// cancelled context stop the whole group: SIGTERM first, then SIGKILL for
// whatever is still there after execKillDelay. Where the system has one,
// the command also gets a parent-death signal (see platformExec).
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	platformExec(cmd.SysProcAttr)
	cmd.Cancel = func() error {
		pgid := -cmd.Process.Pid
		err := syscall.Kill(pgid, syscall.SIGTERM)
		time.AfterFunc(execKillDelay, func() { _ = syscall.Kill(pgid, syscall.SIGKILL) })
		return err
	}
}

// endGroup kills what is left of the command's process group once the
// command itself has exited (a background job it started and did not wait
// for), and on Linux any process of it that escaped the group with setsid
// and was handed to sluice when its parent exited. The run leaves nothing
// behind.
func endGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	reapOrphans()
}
