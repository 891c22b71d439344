package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
)

// findPipelines returns the pipeline files named by paths: files as
// given, and *.yaml / *.yml files under folders (not descending into
// hidden folders). No paths means the current folder.
func findPipelines(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			add(p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		for _, f := range found {
			add(f)
		}
	}
	return out, nil
}

// workbench opens the terminal workbench on the pipelines under paths.
func (e *env) workbench(paths []string) error {
	files, err := findPipelines(paths)
	if err != nil {
		return usageErr(err)
	}
	return e.listPipelines(files)
}

// listPipelines prints the pipelines found with their validation state
// and the recorded runs: what the workbench shows, as text.
func (e *env) listPipelines(files []string) error {
	w := e.stdout
	fmt.Fprintln(w, "PIPELINES")
	for _, f := range files {
		plan, err := engine.LoadPlan(f, e.reg, nil)
		if err != nil {
			first := err.Error()
			var list engine.ErrorList
			if errors.As(err, &list) && len(list) > 0 {
				first = fmt.Sprintf("%s (%d problem%s)", list[0].Error(), len(list), plural(len(list)))
			}
			fmt.Fprintf(w, "  ✗ %s\n      %s\n", f, first)
			continue
		}
		fmt.Fprintf(w, "  ✓ %-40s %s, %d stages\n", f, plan.Spec.Name, len(plan.Stages))
	}
	db, err := e.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	runs, err := db.Runs(e.ctx, store.RunFilter{Limit: 20})
	if err != nil {
		return usageErr(err)
	}
	fmt.Fprintf(w, "\nRUNS (%s)\n", e.cfg.DBPath)
	if len(runs) == 0 {
		fmt.Fprintln(w, "  none yet: sluice run FILE records one")
	}
	tw := newTable(w)
	for _, r := range runs {
		fmt.Fprintf(tw, "  %d\t%s\t%s %s\t%s\t%s\n", r.ID, r.Pipeline, statusIcon(r.Status), r.Status, fmtSeconds(r.Seconds), metricsText(r.Metrics, 3))
	}
	return tw.Flush()
}
