//go:build unix

package engine

import "syscall"

// syscallNonblock makes opening a FIFO return at once.
const syscallNonblock = syscall.O_NONBLOCK
