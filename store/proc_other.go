//go:build !unix

package store

// processAlive cannot tell on this platform, so it says yes: a run left
// running is then marked interrupted only once its heartbeat is stale.
func processAlive(pid int) bool { return true }
