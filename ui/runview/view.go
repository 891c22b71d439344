package runview

import (
	"fmt"
	"strings"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// sections are the heights of the screen's parts for the current run.
type sections struct {
	stages  int // stage rows shown
	metrics int // metric lines (with title), 0: none
	board   int // leaderboard lines (with title), 0: none
	logs    int // log pane lines
}

func (m *Model) current() *watched {
	w := m.runs[m.cur]
	if w == nil || w.r == nil {
		return nil
	}
	return w
}

func (m *Model) metricLines(w *watched) []string {
	st := m.ctx.Styles
	var out []string
	idW := 0
	for _, s := range w.r.Stages {
		if len(s.Metrics) > 0 {
			idW = max(idW, len(s.ID))
		}
	}
	for _, s := range w.r.Stages {
		if len(s.Metrics) == 0 {
			continue
		}
		out = append(out, common.Fit(fmt.Sprintf("  %-*s  %s", idW, s.ID, common.MetricsFit(s.Metrics, m.w-idW-4)), m.w))
	}
	if len(out) > 0 {
		title := "METRICS"
		if !w.r.Status.Done() {
			title += st.Subtle.Render("  so far")
		}
		out = append([]string{st.Header.Render(title)}, out...)
	}
	return out
}

// boardStage is the stage whose leaderboard shows: the selected one if it
// has one, else a running one, else the last one.
func (m *Model) boardStage(w *watched) string {
	if len(w.boards) == 0 {
		return ""
	}
	if m.stage < len(w.r.Stages) {
		if _, ok := w.boards[w.r.Stages[m.stage].ID]; ok {
			return w.r.Stages[m.stage].ID
		}
	}
	last := ""
	for _, s := range w.r.Stages {
		if _, ok := w.boards[s.ID]; ok {
			if s.Status == engine.StatusRunning {
				return s.ID
			}
			last = s.ID
		}
	}
	return last
}

func (m *Model) sizes(w *watched) sections {
	var sec sections
	avail := m.h - 2 - 1 - 1 // header, stage title, log title
	n := len(w.r.Stages)
	sec.stages = min(n, max(3, avail/3))
	avail -= sec.stages
	if ml := len(m.metricLines(w)); ml > 0 {
		sec.metrics = min(ml, 5)
		avail -= sec.metrics
	}
	if id := m.boardStage(w); id != "" {
		sec.board = min(len(w.boards[id].cands), 5) + 2
		if avail-sec.board < 4 {
			sec.board = max(avail-4, 0)
		}
		avail -= sec.board
	}
	sec.logs = max(avail, 2)
	return sec
}

// layout sizes the log pane and refreshes its content.
func (m *Model) layout() {
	w := m.current()
	if w == nil {
		return
	}
	sec := m.sizes(w)
	m.vp.Width = m.w
	m.vp.Height = sec.logs
	m.refreshLogs(w)
}

func (m *Model) selectedStageID(w *watched) string {
	if m.stage < len(w.r.Stages) {
		return w.r.Stages[m.stage].ID
	}
	return ""
}

// refreshLogs formats the lines added since the last call (all of them
// when the view changed) and gives the pane the newest paneLines.
func (m *Model) refreshLogs(w *watched) {
	st := m.ctx.Styles
	stage := ""
	if !m.allLogs {
		stage = m.selectedStageID(w)
	}
	k := fmt.Sprintf("%d|%s|%v|%d", m.cur, stage, m.allLogs, m.w)
	if k != m.fmtKey || m.fmtCount > len(w.logs) {
		m.fmtKey, m.fmtLines, m.fmtCount = k, m.fmtLines[:0], 0
		// Start far enough back to fill the pane, not from the beginning.
		start, kept := len(w.logs), 0
		for start > 0 && kept < paneLines {
			start--
			if stage == "" || w.logs[start].Stage == stage {
				kept++
			}
		}
		m.fmtCount = start
	}
	idW := 0
	for _, s := range w.r.Stages {
		idW = max(idW, len(s.ID))
	}
	idW = min(idW, 14)
	added := false
	for _, l := range w.logs[m.fmtCount:] {
		if stage != "" && l.Stage != stage {
			continue
		}
		text := l.Text
		if l.Stream == "stderr" {
			text = st.Warn.Render(text)
		}
		line := st.Subtle.Render(l.Time.Local().Format("15:04:05.000")) + " "
		if stage == "" {
			line += st.Bold.Render(common.Fit(l.Stage, idW)) + " "
		}
		m.fmtLines = append(m.fmtLines, common.Fit(line+text, m.w))
		added = true
	}
	m.fmtCount = len(w.logs)
	if over := len(m.fmtLines) - paneLines; over > paneLines/2 {
		m.fmtLines = append([]string(nil), m.fmtLines[over:]...)
	}
	if !added && m.vp.TotalLineCount() > 0 && k == m.fmtKey && len(m.fmtLines) == m.vp.TotalLineCount() {
		return
	}
	lines := m.fmtLines
	if len(lines) > paneLines {
		lines = lines[len(lines)-paneLines:]
	}
	if len(lines) == 0 {
		msg := "No log lines yet."
		if stage != "" {
			msg = fmt.Sprintf("Stage %s has logged nothing yet. a shows every stage.", stage)
		}
		m.vp.SetContent(st.Subtle.Render(msg))
		return
	}
	m.vp.SetContent(strings.Join(lines, "\n"))
	if m.follow {
		m.vp.GotoBottom()
	}
}

// View renders the screen.
func (m *Model) View() string {
	st := m.ctx.Styles
	w := m.current()
	if w == nil {
		text := st.Title.Render("RUN") + "\n\n" + st.Subtle.Render("No run to show yet. Press 1 for the pipelines and r to run one;\nin Runs (3), w shows a run live, even one started by `sluice run` in another terminal.")
		if m.cur != 0 {
			text = st.Title.Render(fmt.Sprintf("RUN %d", m.cur)) + "\n\n" + st.Subtle.Render("Reading the run…")
		}
		return common.Block(text, m.w, m.h)
	}
	if m.confirm != nil {
		return m.confirm.View(st, m.w, m.h)
	}
	r := w.r
	now := m.ctx.Now()
	sec := m.sizes(w)
	var out []string

	// Header.
	done := 0
	for _, s := range r.Stages {
		if s.Status.Done() {
			done++
		}
	}
	// The header gives way by whole parts, so no number is cut.
	head := []string{st.Title.Render(fmt.Sprintf("RUN %d", r.ID)) + "  " + st.Bold.Render(r.Pipeline) + "  " + st.StatusText(r.Status)}
	if r.Status.Done() {
		head = append(head, st.Subtle.Render(" in "+common.Seconds(r.Seconds)))
	} else {
		secs := 0.0
		if !r.Started.IsZero() {
			secs = now.Sub(r.Started).Seconds()
		}
		head = append(head, st.Subtle.Render(fmt.Sprintf("  %d/%d stages", done, len(r.Stages))), st.Subtle.Render(fmt.Sprintf(" · %s elapsed", common.Seconds(secs))))
	}
	rows, etaDropped := m.stageRows(w, sec.stages, now)
	if etaDropped && !r.Status.Done() {
		// While a stage runs its ETA matters: say where it went.
		head = append(head, st.Subtle.Render("  +1 (eta)"))
	}
	if w.external && !r.Status.Done() {
		head = append(head, st.Subtle.Render(fmt.Sprintf("  (pid %d, followed through the store)", r.PID)))
	}
	out = append(out, common.Parts(m.w, head...))
	info := st.Subtle.Render(r.File)
	if len(r.Overrides) > 0 {
		info += "  " + st.Warn.Render("--set "+strings.Join(r.Overrides, " --set "))
	}
	if r.Error != "" {
		info += "  " + st.Error.Render(r.Error)
	}
	out = append(out, common.Fit(info, m.w))

	// Stages by layer.
	out = append(out, rows...)

	// Metrics.
	if sec.metrics > 0 {
		ml := m.metricLines(w)
		if len(ml) > sec.metrics {
			ml = append(ml[:sec.metrics-1], st.Subtle.Render(fmt.Sprintf("  … %d more: Runs (enter) lists them all", len(ml)-sec.metrics+1)))
		}
		out = append(out, ml...)
	}

	// Leaderboard.
	if sec.board > 0 {
		out = append(out, m.boardLines(w, sec.board)...)
	}

	// Logs.
	title := "LOGS  "
	if m.allLogs {
		title += "all stages"
	} else {
		title += "stage " + m.selectedStageID(w)
	}
	state := " · following"
	if !m.follow {
		state = " · paused (" + keys.Follow.Help().Key + " follows)"
	}
	out = append(out, st.Header.Render(title)+st.Subtle.Render(state))
	out = append(out, m.vp.View())
	return common.Block(strings.Join(out, "\n"), m.w, m.h)
}
