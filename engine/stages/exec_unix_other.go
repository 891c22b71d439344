//go:build unix && !linux

package stages

import (
	"os/exec"
	"syscall"
)

// platformExec has nothing to add where there is no parent-death signal.
func platformExec(*syscall.SysProcAttr) {}

func startExec(cmd *exec.Cmd) error { return cmd.Start() }
func untrackExec(int)               {}

// reapOrphans has nothing to find without a subreaper.
func reapOrphans() {}

// ExecIsolated reports whether exec commands run in a PID namespace of
// their own: only on Linux.
func ExecIsolated() bool { return false }
