//go:build !unix

package stages

import "os/exec"

// killGroup leaves the default: a cancelled context kills the process.
func killGroup(cmd *exec.Cmd) {}

// endGroup has no group to end.
func endGroup(*exec.Cmd) {}

func startExec(cmd *exec.Cmd) error { return cmd.Start() }
func untrackExec(int)               {}

// ExecIsolated reports whether exec commands run in a PID namespace of
// their own: only on Linux.
func ExecIsolated() bool { return false }
