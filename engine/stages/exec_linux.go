//go:build linux

package stages

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

const prSetChildSubreaper = 36 // PR_SET_CHILD_SUBREAPER, linux/prctl.h

var (
	subreaper sync.Once
	nsOnce    sync.Once
	nsFlags   uintptr // the namespaces a command gets; 0 when none can be made
)

// platformExec gives the command SIGKILL as its parent-death signal, so a
// sluice killed with SIGKILL takes its commands down with it, and makes
// sluice the subreaper of its descendants: a grandchild that left the
// command's process group (setsid) is handed to sluice, not to init, when
// its parent exits, where reapOrphans finds it.
//
// Where the system allows it, the command also starts in a PID namespace
// of its own (with a user namespace mapping only the user's own ids when
// sluice is not root), whose first process it is. When that process dies
// the kernel kills everything else in the namespace, so even a setsid
// grandchild cannot outlive the command, however sluice ends: a SIGKILL of
// sluice kills the command by the parent-death signal, and the kernel the
// rest.
func platformExec(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
	subreaper.Do(func() {
		_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
	})
	nsOnce.Do(probeNamespaces)
	withNamespaces(attr, nsFlags)
}

// withNamespaces sets attr up to start a process in new namespaces.
func withNamespaces(attr *syscall.SysProcAttr, flags uintptr) {
	attr.Cloneflags |= flags
	if flags&syscall.CLONE_NEWUSER != 0 {
		uid, gid := os.Getuid(), os.Getgid()
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
}

// probeNamespaces finds which namespaces a command can start in: a PID
// namespace alone for root (CAP_SYS_ADMIN), with a user namespace for
// anyone else where unprivileged user namespaces are allowed, or none
// (containers without the capability, kernels or policies that forbid
// them). It starts a process that fails to exec a path that does not
// exist: ENOENT means the namespaces were made.
func probeNamespaces() {
	try := []uintptr{syscall.CLONE_NEWPID, syscall.CLONE_NEWPID | syscall.CLONE_NEWUSER}
	if os.Geteuid() != 0 {
		try = try[1:]
	}
	for _, flags := range try {
		attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		withNamespaces(attr, flags)
		_, err := syscall.ForkExec("/nonexistent/sluice-namespace-probe", []string{"probe"}, &syscall.ProcAttr{Sys: attr})
		if errors.Is(err, syscall.ENOENT) {
			nsFlags = flags
			return
		}
	}
}

// ExecIsolated reports whether exec commands run in a PID namespace of
// their own on this system, so nothing they start outlives them.
func ExecIsolated() bool {
	nsOnce.Do(probeNamespaces)
	return nsFlags != 0
}

// running holds the pids of exec commands still running, which
// reapOrphans must leave alone; reapMu keeps reapOrphans from seeing a
// command between its start and its entry here.
var (
	reapMu  sync.Mutex
	running = map[int]bool{}
)

// startExec starts the command and records it as running.
func startExec(cmd *exec.Cmd) error {
	reapMu.Lock()
	defer reapMu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	running[cmd.Process.Pid] = true
	return nil
}

func untrackExec(pid int) {
	reapMu.Lock()
	delete(running, pid)
	reapMu.Unlock()
}

// reapOrphans kills and reaps every child of this process that is neither
// a running exec command nor in sluice's own process group: descendants of
// exec commands that left their command's group (setsid) and were handed
// to sluice when their parent exited.
func reapOrphans() {
	reapMu.Lock()
	defer reapMu.Unlock()
	own := syscall.Getpgrp()
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil || pid <= 0 {
				continue
			}
			if running[pid] {
				continue
			}
			if pg, err := syscall.Getpgid(pid); err != nil || pg == own {
				continue
			}
			_ = syscall.Kill(pid, syscall.SIGKILL)
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, 0, nil)
		}
	}
}
