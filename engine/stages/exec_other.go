//go:build !unix

package stages

import "os/exec"

// killGroup leaves the default: a cancelled context kills the process.
func killGroup(cmd *exec.Cmd) {}
