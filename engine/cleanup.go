package engine

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ExecScratchPrefix starts the name of the folder an exec attempt keeps
// its input in, under the system's temporary folder:
// "sluice-exec-PID-RANDOM".
const ExecScratchPrefix = "sluice-exec-"

// CleanStaleTemps removes what killed sluice processes left behind: in
// each folder of dirs, the temporary files of atomic writes (named by
// TempOwner) whose writing process is gone, and in the system's
// temporary folder the exec scratch folders of processes that are gone.
// Only names sluice gives, with the id of a process that no longer runs,
// are touched: a write in progress in another sluice is left alone. It
// returns how many it removed; failures to remove are ignored (the next
// run tries again).
func CleanStaleTemps(dirs []string) int {
	removed := 0
	seen := map[string]bool{}
	for _, dir := range dirs {
		if seen[dir] {
			continue
		}
		seen[dir] = true
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			pid, ok := TempOwner(e.Name())
			if !ok || !e.Type().IsRegular() || processAlive(pid) {
				continue
			}
			if os.Remove(filepath.Join(dir, e.Name())) == nil {
				removed++
			}
		}
	}
	tmp := os.TempDir()
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), ExecScratchPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		if os.RemoveAll(filepath.Join(tmp, e.Name())) == nil {
			removed++
		}
	}
	return removed
}

// outputDirs returns the folders a plan writes files into, and the
// pipeline's own folder.
func (p *Plan) outputDirs() []string {
	dirs := []string{p.Spec.Dir}
	for _, ps := range p.Stages {
		for _, abs := range writesOf(ps, p.Spec.Dir) {
			dirs = append(dirs, filepath.Dir(abs))
		}
	}
	return dirs
}
