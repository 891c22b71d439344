package runs

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/report"
)

// reportView is a run's evaluation drawn as charts (v): ROC and
// precision-recall curves per class, the confusion matrix, residuals,
// importances and leaderboards, scrolled with ↑/↓ and pgup/pgdn.
type reportView struct {
	ctx  *common.Context
	id   int64
	doc  *report.Doc
	err  error
	vp   viewport.Model
	w, h int
}

type reportMsg struct {
	id  int64
	doc *report.Doc
	err error
}

func (m *Model) openReport(id int64) tea.Cmd {
	src, ok := m.store.(report.Source)
	if !ok {
		return common.Errorf("this store keeps no reports")
	}
	m.report = &reportView{ctx: m.ctx, id: id}
	m.report.vp = viewport.New(10, 5)
	m.report.vp.KeyMap = viewport.KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k")),
		Down:     key.NewBinding(key.WithKeys("down", "j")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d", " ")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u")),
	}
	m.report.vp.MouseWheelEnabled = true
	m.report.resize(m.w, m.h)
	ctx, store := m.ctx.Ctx, m.store
	return func() tea.Msg {
		r, err := store.Run(ctx, id)
		if err != nil {
			return reportMsg{id: id, err: err}
		}
		doc, err := report.Load(ctx, src, r, "")
		return reportMsg{id: id, doc: doc, err: err}
	}
}

func (v *reportView) resize(w, h int) {
	v.w, v.h = w, h
	v.vp.Width, v.vp.Height = w, max(h-1, 1)
	v.render()
}

func (v *reportView) render() {
	if v.doc != nil {
		v.vp.SetContent(report.Charts(v.doc, v.ctx.Styles, v.w))
	}
}

func (v *reportView) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	v.vp, cmd = v.vp.Update(msg)
	return cmd
}

func (v *reportView) view() string {
	st := v.ctx.Styles
	head := st.Title.Render(fmt.Sprintf("REPORT OF RUN %d", v.id))
	switch {
	case v.err != nil:
		return common.Block(head+"\n"+st.Error.Render(v.err.Error()), v.w, v.h)
	case v.doc == nil:
		return common.Block(head+"\n"+st.Subtle.Render("Reading the report…"), v.w, v.h)
	}
	head += st.Subtle.Render(fmt.Sprintf("  %s · %d%% · ↑/↓ pgup/pgdn scroll · esc back", v.doc.Pipeline, int(v.vp.ScrollPercent()*100)))
	return common.Block(common.Fit(head, v.w)+"\n"+v.vp.View(), v.w, v.h)
}
