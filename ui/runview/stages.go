package runview

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// layers returns each stage's DAG layer (0: no inputs).
func layers(r *engine.Run) []int {
	idx := map[string]int{}
	for i, s := range r.Stages {
		idx[s.ID] = i
	}
	layer := make([]int, len(r.Stages))
	for range r.Stages { // relax until stable; runs are small
		changed := false
		for i, s := range r.Stages {
			l := 0
			for _, n := range s.Needs {
				if j, ok := idx[n]; ok {
					l = max(l, layer[j]+1)
				}
			}
			if l != layer[i] {
				layer[i], changed = l, true
			}
		}
		if !changed {
			break
		}
	}
	return layer
}

// order lists stage indexes by layer, then file order.
func order(r *engine.Run, layer []int) []int {
	out := make([]int, len(r.Stages))
	for i := range out {
		out[i] = i
	}
	sort.SliceStable(out, func(a, b int) bool { return layer[out[a]] < layer[out[b]] })
	return out
}

// dependents counts the stages that read each stage.
func dependents(r *engine.Run) map[string]int {
	out := map[string]int{}
	for _, s := range r.Stages {
		for _, n := range s.Needs {
			out[n]++
		}
	}
	return out
}

func (m *Model) elapsedAt(s *engine.StageRun, now time.Time) float64 {
	switch {
	case s.Status == engine.StatusRunning && !s.Started.IsZero():
		return now.Sub(s.Started).Seconds()
	case s.Status.Done():
		return s.Seconds
	}
	return -1
}

// eta estimates the time left from the progress made so far; none while
// the stage is in a phase its count does not measure.
func eta(s *engine.StageRun, elapsed float64) string {
	p := s.Progress
	if s.Status != engine.StatusRunning || p.Total <= 0 || p.Done <= 0 || elapsed <= 0 || p.Phase != "" {
		return ""
	}
	left := elapsed * float64(p.Total-p.Done) / float64(p.Done)
	return "eta " + common.Seconds(left)
}

func unitText(p engine.Progress) string { return common.ProgressText(p) }

func (m *Model) percent(s *engine.StageRun) float64 {
	p := s.Progress
	switch {
	case s.Status == engine.StatusSucceeded || s.Status == engine.StatusCached:
		return 1
	case p.Total > 0:
		return float64(p.Done) / float64(p.Total)
	}
	return 0
}

// stageRows lays out the stage table's header and rows; etaDropped
// reports that the screen is too narrow for the ETA column.
func (m *Model) stageRows(w *watched, rows int, now time.Time) (out []string, etaDropped bool) {
	st := m.ctx.Styles
	r := w.r
	layer := layers(r)
	ord := order(r, layer)
	deps := dependents(r)
	idW, usesW, needsW := 5, 4, 5
	for _, s := range r.Stages {
		idW = max(idW, common.Width(s.ID))
		usesW = max(usesW, common.Width(s.Uses))
		needsW = max(needsW, common.Width(needsText(s.Needs)))
	}
	wantUses := usesW
	idW, usesW, needsW = min(idW, 14), min(usesW, 20), min(needsW, 18)
	const countW, elapsedW = 18, 7
	etaW := 10
	// cursor, layer and branch, icon, then each column and its space
	fixed := func() int {
		return 2 + 4 + 2 + idW + 1 + usesW + 1 + needsW + 1 + 1 + countW + 1 + elapsedW + 1 + etaW
	}
	// On a wide terminal the stage type's name is whole when the bar
	// keeps its full width beside it.
	if full := min(wantUses, 32); full > usesW && m.w-fixed()-(full-usesW) >= 24 {
		usesW = full
	}
	// On a narrow terminal the stage type's name gives way first, then
	// the ETA column goes: a column is never cut short.
	if short := 6 - (m.w - fixed()); short > 0 {
		usesW = max(usesW-short, min(usesW, 8))
	}
	if m.w-fixed() < 6 {
		etaW = -1 // with its space
	}
	barW := min(max(m.w-fixed(), 6), 24)
	bar := m.bar
	bar.Width = barW

	// The cells are joined by one space each; a dropped ETA column takes
	// its space with it. (Trimming a trailing space off the joined row
	// does not work once the empty cell is styled: its ANSI codes follow
	// the space, the row is one cell too wide and the time is cut.)
	join := func(cells ...string) string {
		if etaW < 0 {
			cells = cells[:len(cells)-1]
		}
		return strings.Join(cells, " ")
	}
	header := join(" ", "L  ", " ",
		common.Fit("STAGE", idW), common.Fit("USES", usesW), common.Fit("NEEDS", needsW),
		common.Fit(progressLabel(barW), barW), common.Fit("", countW), common.FitRight("TIME", elapsedW), common.Fit("ETA", etaW))
	out = []string{st.Header.Render(common.Fit(header, m.w))}

	// Keep the selected stage in view.
	pos := 0
	for i, k := range ord {
		if k == m.stage {
			pos = i
		}
	}
	start := 0
	if pos >= rows {
		start = pos - rows + 1
	}
	end := min(start+rows, len(ord))
	for i := start; i < end; i++ {
		k := ord[i]
		s := &r.Stages[k]
		cursor := " "
		if k == m.stage {
			cursor = common.Cursor
		}
		l := "  "
		if i == 0 || layer[ord[i-1]] != layer[k] {
			l = fmt.Sprintf("%-2d", layer[k]+1)
		}
		branch := "│"
		switch {
		case i == len(ord)-1 || layer[ord[i+1]] != layer[k]:
			branch = "└"
		case i == 0 || layer[ord[i-1]] != layer[k]:
			branch = "┬"
		}
		if (i == 0 || layer[ord[i-1]] != layer[k]) && (i == len(ord)-1 || layer[ord[i+1]] != layer[k]) {
			branch = "─"
		}
		icon := st.Status(s.Status).Render(common.StatusIcon(s.Status))
		needs := needsText(s.Needs)
		if d := deps[s.ID]; d > 1 {
			needs = common.Fit(needs, needsW-3) + fmt.Sprintf("→%d", d)
		}
		var barText string
		if s.Status == engine.StatusPending || s.Status == engine.StatusSkipped {
			barText = st.Subtle.Render(strings.Repeat("·", barW))
		} else {
			barText = bar.ViewAs(m.percent(s))
		}
		count := unitText(s.Progress)
		if s.Status == engine.StatusSkipped || s.Status == engine.StatusCancelled || s.Status == engine.StatusFailed {
			count = s.Status.String()
		}
		elapsed := ""
		if e := m.elapsedAt(s, now); e >= 0 {
			elapsed = common.Seconds(e)
		}
		row := join(cursor, st.Subtle.Render(l)+st.Subtle.Render(branch), icon, common.Fit(s.ID, idW), st.Subtle.Render(common.Fit(s.Uses, usesW)),
			st.Subtle.Render(common.Fit(needs, needsW)), barText, common.Fit(count, countW), common.FitRight(elapsed, elapsedW),
			st.Subtle.Render(common.Fit(eta(s, m.elapsedAt(s, now)), etaW)))
		out = append(out, common.Fit(row, m.w))
	}
	return out, etaW < 0
}

// progressLabel is the PROGRESS column's title in w cells: whole, or
// shortened at a word's end rather than cut.
func progressLabel(w int) string {
	if w >= len("PROGRESS") {
		return "PROGRESS"
	}
	return "PROG"
}

func needsText(needs []string) string {
	if len(needs) == 0 {
		return ""
	}
	return "← " + strings.Join(needs, ", ")
}
