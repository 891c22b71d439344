package pipelines

import (
	"context"
	"errors"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
)

type checkedMsg struct {
	seq   int
	files []*file
}

type statMsg struct {
	mods  map[string]time.Time // the files known, that still exist
	found []string             // the files under the roots (nil: no roots)
	err   error
}

// check loads, validates and finds the last run of every file.
func (m *Model) check() tea.Cmd {
	seq := m.seq.Next()
	paths := make([]string, len(m.files))
	for i, f := range m.files {
		paths[i] = f.path
	}
	reg, store, ctx := m.ctx.Registry, m.store, m.ctx.Ctx
	return func() tea.Msg {
		out := make([]*file, len(paths))
		for i, p := range paths {
			out[i] = checkFile(ctx, reg, store, p)
		}
		return checkedMsg{seq: seq, files: out}
	}
}

func checkFile(ctx context.Context, reg *engine.Registry, store Store, path string) *file {
	f := &file{path: path, checked: true}
	if fi, err := os.Stat(path); err == nil {
		f.mod = fi.ModTime()
	}
	spec, err := engine.LoadSpec(path)
	if err == nil {
		f.spec = spec
		f.plan, err = engine.Validate(spec, reg)
	} else if spec != nil {
		f.spec = spec
	}
	if err != nil {
		if !errors.As(err, &f.problems) {
			f.err = err
		}
	}
	if f.spec != nil && f.spec.Name != "" && store != nil {
		if runs, err := store.Runs(ctx, engine.RunFilter{Pipeline: f.spec.Name, Limit: 1}); err == nil && len(runs) > 0 {
			f.last = &runs[0]
		}
	}
	return f
}

// stat looks for files changed, created or deleted on disk (by another
// program): the known files are stat-ed and the roots walked again.
func (m *Model) stat() tea.Cmd {
	if m.stating || !m.loaded {
		return nil
	}
	m.stating = true
	paths := make([]string, len(m.files))
	for i, f := range m.files {
		paths[i] = f.path
	}
	roots := m.roots
	return func() tea.Msg {
		msg := statMsg{mods: map[string]time.Time{}}
		for _, p := range paths {
			if fi, err := os.Stat(p); err == nil {
				msg.mods[p] = fi.ModTime()
			}
		}
		if len(roots) > 0 {
			var kept []string
			for _, r := range roots {
				if _, err := os.Stat(r); err == nil {
					kept = append(kept, r)
				}
			}
			if len(kept) > 0 {
				msg.found, msg.err = Find(kept)
			}
			for _, p := range msg.found {
				if _, ok := msg.mods[p]; !ok {
					if fi, err := os.Stat(p); err == nil {
						msg.mods[p] = fi.ModTime()
					}
				}
			}
		}
		return msg
	}
}

// rescan applies what stat found: new files are added (in name order,
// after the known ones), deleted ones dropped, and everything validated
// again when anything changed.
func (m *Model) rescan(msg statMsg) tea.Cmd {
	changed := false
	var files []*file
	known := map[string]bool{}
	for _, f := range m.files {
		known[f.path] = true
		t, ok := msg.mods[f.path]
		if !ok {
			changed = true // deleted
			continue
		}
		if !t.Equal(f.mod) {
			changed = true
		}
		files = append(files, f)
	}
	for _, p := range msg.found {
		if !known[p] {
			if _, ok := msg.mods[p]; ok {
				files = append(files, &file{path: p})
				changed = true
			}
		}
	}
	if !changed {
		return nil
	}
	sel := m.selected()
	m.files = files
	m.Resize(m.w, m.h)
	m.setRows()
	m.reselect(sel)
	return m.check()
}

// reselect moves the cursor back to f's row, if it is shown.
func (m *Model) reselect(f *file) {
	if f == nil {
		return
	}
	for row, i := range m.shown {
		if m.files[i].path == f.path {
			m.table.SetCursor(row)
			return
		}
	}
}
