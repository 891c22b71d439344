package runview

import (
	"context"
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// Store is what the Run screen reads, for runs of other processes and to
// complete the log of a run once it ends.
type Store interface {
	Run(ctx context.Context, id int64) (*engine.Run, error)
	Logs(ctx context.Context, run int64, stage string, from int) ([]engine.LogLine, error)
}

// maxLines is how many log lines are kept per run; the pane shows the
// newest of them.
const maxLines = 20000

// paneLines is how many lines the log pane holds at once.
const paneLines = 3000

type keyMap struct {
	Cancel, AllLogs, Follow, Scroll, Model, Details, Rerun key.Binding
}

var keys = common.RegisterKeys("run", &keyMap{
	Cancel:  common.Binding("c", "cancel run", "c"),
	AllLogs: common.Binding("a", "all/one stage logs", "a"),
	Follow:  common.Binding("f", "follow log", "f", "end"),
	Scroll:  common.Binding("pgup/pgdn", "scroll log", "pgup", "pgdown"),
	Model:   common.Binding("m", "model", "m"),
	Details: common.Binding("enter", "run details", "enter"),
	Rerun:   common.Binding("R", "rerun/resume", "R"),
}, "Scroll")

// watched is one run the screen knows.
type watched struct {
	r        *engine.Run
	logs     []engine.LogLine
	external bool // followed through the store, not events
	ended    bool // ended in this process: the store has it all, events are stale
	logFrom  int  // lines read from the store so far
	fetching bool
	boards   map[string]*board
	// started is when this process first saw each stage running.
	started map[string]time.Time
}

// Model is the Run screen.
type Model struct {
	ctx   *common.Context
	store Store
	live  common.LiveChecker
	w, h  int

	runs    map[int64]*watched
	cur     int64
	stage   int
	allLogs bool
	follow  bool

	vp      viewport.Model
	bar     progress.Model
	confirm *common.Confirm

	// fmtLines caches the formatted log pane lines of the current view.
	fmtLines []string
	fmtKey   string
	fmtCount int
}

// New returns the Run screen.
func New(ctx *common.Context, store Store, live common.LiveChecker) *Model {
	m := &Model{ctx: ctx, store: store, live: live, runs: map[int64]*watched{}, allLogs: true, follow: true}
	m.vp = viewport.New(80, 5)
	m.vp.KeyMap = viewport.KeyMap{
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u")),
	}
	m.vp.MouseWheelEnabled = true
	opts := []progress.Option{progress.WithoutPercentage(), progress.WithWidth(20)}
	if ctx.Styles.Mono {
		opts = append(opts, progress.WithColorProfile(termenv.Ascii))
	} else {
		opts = append(opts, progress.WithDefaultGradient())
	}
	m.bar = progress.New(opts...)
	return m
}

// Init does nothing: the screen waits for a run.
func (m *Model) Init() tea.Cmd { return nil }

// Current returns the run shown, 0 when none.
func (m *Model) Current() int64 { return m.cur }

// Resize sets the screen's size.
func (m *Model) Resize(w, h int) {
	m.w, m.h = w, h
	m.fmtKey = ""
	m.layout()
}

// Keys are the screen's bindings.
func (m *Model) Keys() help.KeyMap {
	short := []key.Binding{common.Nav.Up, common.Nav.Down, keys.AllLogs, keys.Follow, keys.Scroll, keys.Cancel, keys.Details, keys.Model}
	return common.KeyMap{Short: short, Full: [][]key.Binding{
		{common.Nav.Up, common.Nav.Down, common.Nav.Top, common.Nav.Bottom, keys.Details, keys.Model},
		{keys.AllLogs, keys.Follow, keys.Scroll},
		{keys.Cancel, m.ctx.Mutating(keys.Rerun)},
	}}
}

// Capturing reports whether the cancel question is open.
func (m *Model) Capturing() bool { return m.confirm != nil }

// Back closes the cancel question.
func (m *Model) Back() bool {
	if m.confirm != nil {
		m.confirm = nil
		return true
	}
	return false
}

type fetchedMsg struct {
	id    int64
	run   *engine.Run
	lines []engine.LogLine
	from  int
	full  bool // the lines are the whole log, replacing what is held
	err   error
}

func (m *Model) fetch(id int64, from int, full bool) tea.Cmd {
	w := m.runs[id]
	if w == nil || w.fetching {
		return nil
	}
	w.fetching = true
	store, ctx := m.store, m.ctx.Ctx
	return func() tea.Msg {
		r, err := store.Run(ctx, id)
		if err != nil {
			return fetchedMsg{id: id, err: err}
		}
		lines, err := store.Logs(ctx, id, "", from)
		return fetchedMsg{id: id, run: r, lines: lines, from: from, full: full, err: err}
	}
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.EventsMsg:
		return m.events(msg.Events)
	case common.WatchRunMsg:
		return m.watch(msg.ID)
	case common.RunEndedMsg:
		w := m.runs[msg.ID]
		if w == nil {
			return nil
		}
		if msg.Run != nil {
			w.r = msg.Run
		}
		// Events may have been dropped under load, or still be on their
		// way: read the whole log back, and ignore events from now on.
		w.ended = true
		m.fmtKey = ""
		m.layout()
		return m.fetch(msg.ID, 0, true)
	case fetchedMsg:
		w := m.runs[msg.id]
		if w == nil {
			return nil
		}
		w.fetching = false
		if msg.err != nil {
			return common.Err(fmt.Errorf("run %d: %w", msg.id, msg.err))
		}
		if w.external || w.r == nil || msg.run.Status.Done() {
			w.r = msg.run
		}
		switch {
		case msg.full:
			w.logs, w.boards = nil, nil
			m.addLines(w, msg.lines)
			w.logFrom = len(msg.lines)
		default:
			m.addLines(w, msg.lines)
			w.logFrom = msg.from + len(msg.lines)
		}
		if msg.id == m.cur {
			m.fmtKey = ""
			m.layout()
		}
		return nil
	case common.TickMsg:
		var cmds []tea.Cmd
		for id, w := range m.runs {
			if w.external && w.r != nil && !w.r.Status.Done() && id == m.cur {
				cmds = append(cmds, m.fetch(id, w.logFrom, false))
			}
		}
		return tea.Batch(cmds...)
	case tea.KeyMsg:
		return m.key(msg)
	case tea.MouseMsg:
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		m.follow = m.vp.AtBottom()
		return cmd
	}
	if m.confirm != nil {
		return common.UpdateModal(&m.confirm, msg)
	}
	return nil
}

// watch shows run id: one this process runs (events fill it in) or one
// read from the store.
func (m *Model) watch(id int64) tea.Cmd {
	if m.cur != id {
		m.cur, m.stage, m.follow = id, 0, true
		m.fmtKey = ""
	}
	if w, ok := m.runs[id]; ok {
		m.layout()
		if w.external && w.r != nil && !w.r.Status.Done() {
			return m.fetch(id, w.logFrom, false)
		}
		return nil
	}
	live := m.live != nil && m.live.Live(id)
	w := &watched{external: !live, started: map[string]time.Time{}}
	m.runs[id] = w
	m.layout()
	if live {
		return nil
	}
	return m.fetch(id, 0, true)
}

func (m *Model) events(evs []engine.Event) tea.Cmd {
	touched := false
	var cmds []tea.Cmd
	for i := range evs {
		e := &evs[i]
		w := m.runs[e.RunID]
		if w == nil {
			w = &watched{started: map[string]time.Time{}}
			m.runs[e.RunID] = w
		}
		if w.ended {
			continue
		}
		if w.r == nil && e.Run == nil {
			// Its start was missed: read the run from the store.
			if c := m.fetch(e.RunID, 0, true); c != nil {
				cmds = append(cmds, c)
			}
			continue
		}
		m.apply(w, e)
		if e.RunID == m.cur {
			touched = true
		}
	}
	if touched {
		m.layout()
	}
	return tea.Batch(cmds...)
}

// apply folds one event into the run's state.
func (m *Model) apply(w *watched, e *engine.Event) {
	if e.Run != nil {
		w.r = e.Run
		if e.Kind == engine.EventRunStarted {
			return
		}
	}
	if w.r == nil {
		return
	}
	s, ok := w.r.Stage(e.Stage)
	if !ok {
		return
	}
	switch e.Kind {
	case engine.EventStageStarted:
		s.Status = engine.StatusRunning
		s.Attempts = e.Attempt
		if s.Started.IsZero() {
			s.Started = e.Time
		}
	case engine.EventProgress:
		s.Status = engine.StatusRunning
		s.Progress = e.Progress
	case engine.EventLog:
		m.addLines(w, []engine.LogLine{e.Line})
	case engine.EventStageFinished:
		s.Status = e.Status
		s.Seconds = e.Seconds
		s.Error = e.Err
		if e.Metrics != nil {
			s.Metrics = e.Metrics
		}
		if e.Progress.Total > 0 {
			s.Progress = e.Progress
		}
		if s.Finished.IsZero() {
			s.Finished = e.Time
		}
	case engine.EventRunStarted, engine.EventRunFinished: // the run itself, above
	}
}

func (m *Model) addLines(w *watched, lines []engine.LogLine) {
	for _, l := range lines {
		if c := l.Fold; c != nil {
			if w.boards == nil {
				w.boards = map[string]*board{}
			}
			b := w.boards[l.Stage]
			if b == nil {
				b = &board{cands: map[int]*candidate{}}
				w.boards[l.Stage] = b
			}
			b.add(*c)
		}
	}
	w.logs = append(w.logs, lines...)
	if over := len(w.logs) - maxLines; over > 0 {
		// Drop the oldest lines, copying so the array does not grow forever.
		w.logs = append([]engine.LogLine(nil), w.logs[over+maxLines/10:]...)
		m.fmtKey = ""
	}
}
