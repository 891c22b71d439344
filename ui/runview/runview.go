package runview

import (
	"context"
	"fmt"
	"sort"
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
		{common.Nav.Up, common.Nav.Down, keys.Details, keys.Model},
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
	if m.live == nil || !m.live.Live(r.ID) {
		return common.Errorf(fmt.Sprintf("run %d runs in another process (pid %d on %s): stop it there", r.ID, r.PID, r.Host))
	}
	id := r.ID
	m.confirm = common.NewConfirm(m.ctx.Styles, fmt.Sprintf("Cancel run %d (%s)?", r.ID, r.Pipeline),
		"Unfinished stages stop and are marked cancelled.", func() tea.Msg { return common.CancelRunMsg{ID: id} })
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

// board is a tuning stage's leaderboard, built from its candidate-fold
// log lines as the folds finish.
type board struct {
	cands      map[int]*candidate
	candidates int
	folds      int
	done       int
}

type candidate struct {
	n      int
	params map[string]any
	scores map[int]float64
}

func (b *board) add(c engine.CandidateFold) {
	b.candidates = max(b.candidates, c.Candidates)
	b.folds = max(b.folds, c.Folds)
	x := b.cands[c.Candidate]
	if x == nil {
		x = &candidate{n: c.Candidate, params: c.Params, scores: map[int]float64{}}
		b.cands[c.Candidate] = x
	}
	if _, dup := x.scores[c.Fold]; !dup {
		b.done++
	}
	x.scores[c.Fold] = c.Score
}

func (c *candidate) mean() float64 {
	s := 0.0
	for _, v := range c.scores {
		s += v
	}
	return s / float64(len(c.scores))
}

// variance is the population variance of the fold scores (ddof=0, as
// scikit-learn's std_test_score).
func (c *candidate) variance() float64 {
	mu, s := c.mean(), 0.0
	for _, v := range c.scores {
		s += (v - mu) * (v - mu)
	}
	return s / float64(len(c.scores))
}

// ranked returns the candidates best mean first (ties: lower number).
func (b *board) ranked() []*candidate {
	out := make([]*candidate, 0, len(b.cands))
	for _, c := range b.cands {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		mi, mj := out[i].mean(), out[j].mean()
		if mi != mj {
			return mi > mj
		}
		return out[i].n < out[j].n
	})
	return out
}

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
