package runview

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if m.confirm != nil {
		return common.UpdateModal(&m.confirm, msg)
	}
	w := m.runs[m.cur]
	n := 0
	if w != nil && w.r != nil {
		n = len(w.r.Stages)
	}
	switch {
	case key.Matches(msg, common.Nav.Up):
		if m.stage > 0 {
			m.stage--
			m.stageChanged()
		}
	case key.Matches(msg, common.Nav.Down):
		if m.stage < n-1 {
			m.stage++
			m.stageChanged()
		}
	case key.Matches(msg, keys.AllLogs):
		m.allLogs = !m.allLogs
		m.follow = true
		m.fmtKey = ""
		m.layout()
	case key.Matches(msg, keys.Follow):
		m.follow = true
		m.vp.GotoBottom()
	case key.Matches(msg, common.Nav.Top): // after Follow, which has end
		if m.stage != 0 {
			m.stage = 0
			m.stageChanged()
		}
	case key.Matches(msg, common.Nav.Bottom):
		if n > 0 && m.stage != n-1 {
			m.stage = n - 1
			m.stageChanged()
		}
	case key.Matches(msg, keys.Cancel):
		return m.askCancel()
	case key.Matches(msg, keys.Details):
		if m.cur == 0 {
			return nil
		}
		id := m.cur
		return tea.Batch(func() tea.Msg { return common.OpenRunMsg{ID: id} }, common.Switch(common.ScreenRuns))
	case key.Matches(msg, keys.Model):
		return m.openModel()
	case key.Matches(msg, keys.Rerun):
		// Run it again from its record: on a failed or interrupted run
		// this resumes it, since what finished is cached.
		w := m.runs[m.cur]
		if w == nil || w.r == nil {
			return nil
		}
		if !w.r.Status.Done() {
			return common.Errorf(fmt.Sprintf("run %d is still running", w.r.ID))
		}
		id := w.r.ID
		return func() tea.Msg { return common.RerunMsg{ID: id} }
	default:
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		m.follow = m.vp.AtBottom()
		return cmd
	}
	return nil
}

func (m *Model) stageChanged() {
	if !m.allLogs {
		m.fmtKey = ""
		m.follow = true
	}
	m.layout()
}

func (m *Model) askCancel() tea.Cmd {
	w := m.runs[m.cur]
	if w == nil || w.r == nil {
		return common.Errorf("no run to cancel")
	}
	r := w.r
	if r.Status.Done() {
		return common.Info(fmt.Sprintf("run %d already ended: %s", r.ID, r.Status))
	}
	id, workflow := r.ID, ""
	if m.live == nil || !m.live.Live(r.ID) {
		wc, ok := m.live.(common.WorkflowCanceller)
		switch {
		case r.WorkflowID == "":
			return common.Errorf(fmt.Sprintf("run %d runs in another process (pid %d on %s): stop it there", r.ID, r.PID, r.Host))
		case !ok || !wc.CancelsWorkflows():
			return common.Errorf(fmt.Sprintf("run %d runs on Temporal (workflow %s): open the workbench with SLUICE_TEMPORAL=HOST:PORT to cancel it", r.ID, r.WorkflowID))
		}
		workflow = r.WorkflowID
	}
	m.confirm = common.NewConfirm(m.ctx.Styles, fmt.Sprintf("Cancel run %d (%s)?", r.ID, r.Pipeline),
		"Unfinished stages stop and are marked cancelled.", func() tea.Msg { return common.CancelRunMsg{ID: id, WorkflowID: workflow} })
	return m.confirm.Init()
}

func (m *Model) openModel() tea.Cmd {
	w := m.runs[m.cur]
	if w == nil || w.r == nil {
		return nil
	}
	stage := ""
	if m.stage < len(w.r.Stages) {
		for _, a := range w.r.Stages[m.stage].Artifacts {
			if a.Name == "model" {
				stage = w.r.Stages[m.stage].ID
			}
		}
	}
	if stage == "" {
		for _, s := range w.r.Stages {
			for _, a := range s.Artifacts {
				if a.Name == "model" {
					stage = s.ID
				}
			}
		}
	}
	if stage == "" {
		if !w.r.Status.Done() {
			return common.Info("no model yet: the run is still going")
		}
		return common.Errorf("this run kept no model")
	}
	id := m.cur
	return tea.Batch(func() tea.Msg { return common.OpenModelMsg{Run: id, Stage: stage} }, common.Switch(common.ScreenModel))
}
