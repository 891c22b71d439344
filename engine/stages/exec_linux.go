//go:build linux

package stages

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

const prSetChildSubreaper = 36 // PR_SET_CHILD_SUBREAPER, linux/prctl.h

var subreaper sync.Once

// platformExec gives the command SIGKILL as its parent-death signal, so a
// sluice killed with SIGKILL takes its commands down with it, and makes
// sluice the subreaper of its descendants: a grandchild that left the
// command's process group (setsid) is handed to sluice, not to init, when
// its parent exits, where reapOrphans finds it.
func platformExec(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
	subreaper.Do(func() {
		_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
	})
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
