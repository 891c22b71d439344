package pipelines

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/table"
	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// folder is the folder every file is under ("sample-data/"), which the
// list leaves out of each name and shows once in its header; "" when
// the files are not all in one.
func (m *Model) folder() string {
	if len(m.files) == 0 {
		return ""
	}
	dir := filepath.Dir(m.files[0].path) + string(filepath.Separator)
	if dir == "."+string(filepath.Separator) {
		return ""
	}
	for _, f := range m.files[1:] {
		for !strings.HasPrefix(f.path, dir) {
			parent := filepath.Dir(strings.TrimSuffix(dir, string(filepath.Separator)))
			if parent == "." || parent == string(filepath.Separator) || parent+string(filepath.Separator) == dir {
				return ""
			}
			dir = parent + string(filepath.Separator)
		}
	}
	return dir
}

func (m *Model) columns(w int) []table.Column {
	fileW, nameW, lastW := 10, 8, 20
	dir := m.folder()
	for _, f := range m.files {
		fileW = max(fileW, len(strings.TrimPrefix(f.path, dir)))
		if f.spec != nil {
			nameW = max(nameW, len(f.spec.Name))
		}
	}
	nameW = min(nameW, 20)
	// Every column is followed by a space; the marker column comes first.
	state := func() int { return w - 7 - 1 - 1 - fileW - nameW - 6 - lastW }
	// The state (validity, or the first problem) gets 24 cells at least:
	// the last run, then the name, then the file give way.
	for _, shrink := range []*int{&lastW, &nameW, &fileW} {
		floor := map[*int]int{&lastW: 12, &nameW: 10, &fileW: 16}[shrink]
		if d := 24 - state(); d > 0 {
			*shrink = max(*shrink-d, floor)
		}
	}
	m.lastW = lastW
	return []table.Column{
		{Title: " ", Width: 1},
		{Title: "FILE", Width: fileW},
		{Title: "PIPELINE", Width: nameW},
		{Title: "STAGES", Width: 6},
		{Title: "LAST RUN", Width: lastW},
		{Title: "STATE", Width: max(state(), 8)},
	}
}

func (m *Model) setRows() {
	st := m.ctx.Styles
	m.shown = m.shown[:0]
	for i, f := range m.files {
		if m.filter.Empty() || m.filter.Match(fileSubject{f}) {
			m.shown = append(m.shown, i)
		}
	}
	rows := make([]table.Row, len(m.shown))
	dir := m.folder()
	for r, i := range m.shown {
		f := m.files[i]
		icon, name, stages, last, state := "…", "", "", "", "checking…"
		if f.spec != nil {
			name = f.spec.Name
			stages = fmt.Sprint(len(f.spec.Stages))
		}
		if f.last != nil {
			last = fmt.Sprintf("#%d %s", f.last.ID, common.StatusIcon(f.last.Status))
			if h := common.HeadlineFit(f.last.Metrics, m.lastW-common.Width(last)-1); h != "" {
				last += " " + h
			}
		}
		if f.checked {
			if f.valid() {
				icon, state = "✓", "valid"
				if f.spec.Description != "" {
					state = f.spec.Description
				}
			} else {
				icon, state = "✗", f.firstProblemShort()
				if n := len(f.problems); n > 1 {
					state = fmt.Sprintf("%s (+%d more)", state, n-1)
				}
			}
		}
		_ = st
		rows[r] = table.Row{icon, strings.TrimPrefix(f.path, dir), name, stages, last, state}
	}
	m.table.SetRows(rows)
}

// View renders the list, or the composer.
func (m *Model) View() string {
	st := m.ctx.Styles
	if m.composer != nil {
		return m.composer.view()
	}
	if m.form != nil {
		return lipgloss.Place(m.w, m.h, lipgloss.Center, lipgloss.Center, m.form.View(st, min(m.w, 90), m.h))
	}
	if m.confirm != nil {
		return m.confirm.View(st, m.w, m.h)
	}
	valid := 0
	for _, f := range m.files {
		if f.valid() {
			valid++
		}
	}
	head := st.Title.Render("PIPELINES") + st.Subtle.Render(fmt.Sprintf("  %d file%s, %d valid", len(m.files), common.Plural(len(m.files)), valid))
	if dir := m.folder(); dir != "" {
		head += st.Subtle.Render(" in " + dir)
	}
	switch {
	case m.filter.Active():
		head = m.filter.View(st, m.w)
	case m.filter.Set():
		head += st.Subtle.Render(fmt.Sprintf("  /%s  %d shown", m.filter.Value(), len(m.shown)))
	}
	if len(m.files) == 0 {
		return common.Block(head+"\n\n"+st.Subtle.Render("No pipeline files (*.yaml) here. n composes a new one; or start sluice with a folder or file: sluice sample-data"), m.w, m.h)
	}
	tableView := m.table.View()
	if len(m.shown) == 0 {
		tableView = common.Block(st.Subtle.Render("No pipeline file matches the filter. esc clears it."), m.w, m.tableHeight())
	}
	used := 2 + m.tableHeight()
	detail := m.detailView(m.h - used - 1)
	return common.Block(head+"\n\n"+tableView+"\n"+detail, m.w, m.h)
}

// detailView shows the selected file: its stages, or all its problems.
func (m *Model) detailView(h int) string {
	st := m.ctx.Styles
	f := m.selected()
	if f == nil || h <= 0 {
		return ""
	}
	var b []string
	rule := st.Subtle.Render(strings.Repeat("─", m.w))
	b = append(b, rule)
	switch {
	case !f.checked:
		b = append(b, st.Subtle.Render("Checking "+f.path+"…"))
	case !f.valid():
		n := len(f.problems)
		if n == 0 {
			n = 1
		}
		b = append(b, st.Error.Render(fmt.Sprintf("%s: %d problem%s", f.path, n, common.Plural(n))))
		for _, p := range f.problems {
			b = append(b, "  "+p.Error())
		}
		if f.err != nil {
			b = append(b, "  "+f.err.Error())
		}
	default:
		s := f.spec
		line := st.Bold.Render(s.Name) + st.Subtle.Render(fmt.Sprintf("  seed %d · %d stages", s.Seed, len(s.Stages)))
		if f.last != nil {
			line += st.Subtle.Render(fmt.Sprintf(" · last run #%d ", f.last.ID)) + st.StatusText(f.last.Status) + st.Subtle.Render(" "+common.Ago(m.ctx.Now(), f.last.Started))
		}
		b = append(b, line)
		if s.Description != "" {
			b = append(b, st.Subtle.Render(s.Description))
		}
		if a := automationText(&s.Automation, m.ctx.Now()); a != "" {
			b = append(b, st.Subtle.Render(a))
		}
		idW, usesW, needsW := 4, 4, 4
		for _, ps := range f.plan.Stages {
			idW, usesW = max(idW, len(ps.Spec.ID)), max(usesW, len(ps.Type.Name))
			if len(ps.Inputs) > 0 {
				needsW = max(needsW, common.Width("← "+strings.Join(ps.Inputs, ", ")))
			}
		}
		needsW = min(needsW, 30)
		for _, ps := range f.plan.Stages {
			needs := ""
			if len(ps.Inputs) > 0 {
				needs = "← " + strings.Join(ps.Inputs, ", ")
			}
			var with []string
			for _, d := range engine.DraftSpec(&engine.Spec{Stages: []*engine.StageSpec{ps.Spec}})[0].With {
				with = append(with, d.Name+": "+engine.FormatValue(d.Value))
			}
			params := ""
			if len(with) > 0 {
				params = "{" + strings.Join(with, ", ") + "}"
			}
			b = append(b, fmt.Sprintf("  %-*s  %-*s  %s %s", idW, ps.Spec.ID, usesW, ps.Type.Name, common.Fit(needs, needsW), st.Subtle.Render(params)))
		}
	}
	return common.Block(strings.Join(b, "\n"), m.w, h)
}

// automationText says when a pipeline runs on its own: its schedule and
// the next time a run comes due, and its trigger; "" when it does not.
func automationText(a *engine.Automation, now time.Time) string {
	var parts []string
	if tt := a.Schedule; tt != nil {
		next := tt.Next(now)
		due := "none within five years"
		if !next.IsZero() {
			due = next.In(a.Location).Format("2006-01-02 15:04 MST")
		}
		parts = append(parts, fmt.Sprintf("schedule %s (%s) · next due %s · catchup %s · overlap %s", tt, a.Location, due, a.Catchup, a.Overlap))
	}
	if t := a.Trigger; t != nil {
		parts = append(parts, fmt.Sprintf("trigger %s (settle %s)", t.Glob, t.Settle))
	}
	return strings.Join(parts, " · ")
}
