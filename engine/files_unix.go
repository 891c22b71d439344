//go:build unix

package engine

import "syscall"

// syscallNonblock makes opening a FIFO return at once.
const syscallNonblock = syscall.O_NONBLOCK

// processAlive reports whether a process with this id exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
