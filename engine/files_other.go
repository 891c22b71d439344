//go:build !unix

package engine

// syscallNonblock is 0 where FIFOs do not block an open.
const syscallNonblock = 0
