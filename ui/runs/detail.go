package runs

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// Sections of the run detail, for the selected stage.
const (
	secStage = iota
	secParams
	secMetrics
	secData
	secLogs
	numSections
)

var sectionNames = [numSections]string{"Stage", "Params", "Metrics", "Data", "Logs"}

// detail is one run stepped into: its stages on the left, and the
// selected stage's details on the right.
type detail struct {
	ctx   *common.Context
	store Store
	id    int64
	w, h  int

	run     *engine.Run
	arts    []engine.ArtifactInfo
	err     error
	stage   int
	section int
	// wantStage selects a stage by id once the run is loaded (after [ or ]).
	wantStage string
	// filter (/) narrows the stage list; shown are the indexes into
	// run.Stages it keeps, in order.
	filter common.Filter
	shown  []int

	previews map[string]*engine.Preview
	prevErr  map[string]error
	logs     map[string][]engine.LogLine
	logErr   map[string]error

	vp      viewport.Model
	seq     common.Seq
	loading bool
}

func newDetail(ctx *common.Context, store Store, id int64, w, h int) *detail {
	d := &detail{ctx: ctx, store: store, id: id, previews: map[string]*engine.Preview{}, prevErr: map[string]error{},
		logs: map[string][]engine.LogLine{}, logErr: map[string]error{}}
	d.filter = common.NewFilter("text, status:failed, uses:train_*, accuracy>0.9, param.STAGE.NAME=V", ctx.Now)
	d.vp = viewport.New(10, 5)
	d.vp.KeyMap = viewport.KeyMap{
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u")),
	}
	d.vp.MouseWheelEnabled = true
	d.resize(w, h)
	return d
}

type runMsg struct {
	seq  int
	id   int64
	run  *engine.Run
	arts []engine.ArtifactInfo
	err  error
}

type previewMsg struct {
	id    int64
	stage string
	p     *engine.Preview
	err   error
}

type logsMsg struct {
	id    int64
	stage string
	lines []engine.LogLine
	err   error
}

func (d *detail) load() tea.Cmd {
	seq, store, ctx, id := d.seq.Next(), d.store, d.ctx.Ctx, d.id
	d.loading = true
	return func() tea.Msg {
		r, err := store.Run(ctx, id)
		if err != nil {
			return runMsg{seq: seq, id: id, err: err}
		}
		arts, err := store.Artifacts(ctx, id)
		return runMsg{seq: seq, id: id, run: r, arts: arts, err: err}
	}
}

// tick reloads a run that is still going, with the log being read.
func (d *detail) tick() tea.Cmd {
	if d.run == nil || d.run.Status.Done() || d.loading {
		return nil
	}
	delete(d.logs, d.stageID())
	return tea.Batch(d.load(), d.fetch())
}

func (d *detail) events(evs []engine.Event) tea.Cmd {
	for _, e := range evs {
		if e.RunID == d.id && e.Kind == engine.EventRunFinished {
			d.previews, d.logs = map[string]*engine.Preview{}, map[string][]engine.LogLine{}
			return d.load()
		}
	}
	return nil
}

func (d *detail) stageID() string {
	if d.run == nil || d.stage < 0 || d.stage >= len(d.run.Stages) {
		return ""
	}
	return d.run.Stages[d.stage].ID
}

// fetch reads what the section needs for the selected stage, once.
func (d *detail) fetch() tea.Cmd {
	stage := d.stageID()
	if stage == "" {
		return nil
	}
	store, ctx, id := d.store, d.ctx.Ctx, d.id
	switch d.section {
	case secData:
		if _, ok := d.previews[stage]; ok {
			return nil
		}
		if _, ok := d.prevErr[stage]; ok {
			return nil
		}
		return func() tea.Msg {
			p, err := store.Preview(ctx, id, stage)
			return previewMsg{id: id, stage: stage, p: p, err: err}
		}
	case secLogs:
		if _, ok := d.logs[stage]; ok {
			return nil
		}
		return func() tea.Msg {
			lines, err := store.Logs(ctx, id, stage, 0)
			return logsMsg{id: id, stage: stage, lines: lines, err: err}
		}
	}
	return nil
}

func (d *detail) resize(w, h int) {
	d.w, d.h = w, h
	d.vp.Width = max(d.rightWidth(), 10)
	d.vp.Height = max(h-4, 3)
	d.filter.SetWidth(d.leftWidth())
	d.render()
}

func (d *detail) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case runMsg:
		if !d.seq.Current(msg.seq) || msg.id != d.id {
			return nil
		}
		d.loading = false
		if msg.err != nil {
			d.err = msg.err
			return common.Err(fmt.Errorf("run %d: %w", d.id, msg.err))
		}
		d.run, d.arts, d.err = msg.run, msg.arts, nil
		if d.wantStage != "" {
			for i, s := range d.run.Stages {
				if s.ID == d.wantStage {
					d.stage = i
				}
			}
			d.wantStage = ""
		}
		if d.stage >= len(d.run.Stages) {
			d.stage = max(len(d.run.Stages)-1, 0)
		}
		d.refilter()
		d.render()
		return d.fetch()
	case previewMsg:
		if msg.id != d.id {
			return nil
		}
		if msg.err != nil {
			d.prevErr[msg.stage] = msg.err
		} else {
			d.previews[msg.stage] = msg.p
		}
		d.render()
		return nil
	case logsMsg:
		if msg.id != d.id {
			return nil
		}
		if msg.err != nil {
			d.logErr[msg.stage] = msg.err
		} else {
			d.logs[msg.stage] = msg.lines
		}
		d.render()
		return nil
	case tea.KeyMsg:
		if d.filter.Active() {
			switch msg.String() {
			case "up":
				return d.move(-1)
			case "down":
				return d.move(+1)
			}
			changed, cmd := d.filter.Update(msg)
			if changed {
				before := d.stage
				d.refilter()
				if d.stage != before {
					d.vp.GotoTop()
				}
				d.render()
				return tea.Batch(cmd, d.fetch())
			}
			return cmd
		}
		switch {
		case key.Matches(msg, keys.Filter):
			return d.filter.Focus()
		case key.Matches(msg, common.Nav.Up):
			return d.move(-1)
		case key.Matches(msg, common.Nav.Down):
			return d.move(+1)
		case key.Matches(msg, common.Nav.Top):
			return d.move(-d.shownAt())
		case key.Matches(msg, common.Nav.Bottom):
			return d.move(len(d.shown) - 1 - d.shownAt())
		case key.Matches(msg, keys.Section):
			d.section = (d.section + 1) % numSections
			d.vp.GotoTop()
			d.render()
			return d.fetch()
		case key.Matches(msg, keys.SectionBack):
			d.section = (d.section + numSections - 1) % numSections
			d.vp.GotoTop()
			d.render()
			return d.fetch()
		case key.Matches(msg, keys.Watch):
			id := d.id
			return tea.Batch(func() tea.Msg { return common.WatchRunMsg{ID: id} }, common.Switch(common.ScreenRun))
		case key.Matches(msg, keys.Rerun):
			if d.run == nil {
				return nil
			}
			return rerun(d.id, d.run.Status)
		case key.Matches(msg, keys.Model):
			id, stage := d.id, d.modelStage()
			if stage == "" {
				return common.Errorf("this run kept no model")
			}
			return tea.Batch(func() tea.Msg { return common.OpenModelMsg{Run: id, Stage: stage} }, common.Switch(common.ScreenModel))
		}
		var cmd tea.Cmd
		d.vp, cmd = d.vp.Update(msg)
		return cmd
	case tea.MouseMsg:
		var cmd tea.Cmd
		d.vp, cmd = d.vp.Update(msg)
		return cmd
	}
	return nil
}

// move selects the stage by stages down the shown list (-1: the one
// above).
func (d *detail) move(by int) tea.Cmd {
	p := d.shownAt() + by
	if by == 0 || d.shownAt() < 0 || p < 0 || p >= len(d.shown) {
		return nil
	}
	d.stage = d.shown[p]
	d.vp.GotoTop()
	d.render()
	return d.fetch()
}

// modelStage is the selected stage if it kept a model, else the last
// stage that did.
func (d *detail) modelStage() string {
	sel := d.stageID()
	last := ""
	for _, a := range d.arts {
		if a.Name == "model" {
			if a.Stage == sel {
				return sel
			}
			last = a.Stage
		}
	}
	return last
}
