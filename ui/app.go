package ui

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/compare"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/model"
	"github.com/sluice-ml/sluice/ui/pipelines"
	"github.com/sluice-ml/sluice/ui/runs"
	"github.com/sluice-ml/sluice/ui/runview"
)

// MinWidth and MinHeight are the smallest terminal the workbench lays out
// in; a smaller one gets a message instead.
const (
	MinWidth  = 80
	MinHeight = 24
)

// Run opens the workbench and returns when the user quits (or ctx ends).
// Runs started from it are cancelled on the way out and recorded before
// Run returns.
func Run(ctx context.Context, deps Deps) error {
	m := New(ctx, deps)
	opts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx)}
	if deps.Input != nil {
		opts = append(opts, tea.WithInput(deps.Input))
	}
	if deps.Output != nil {
		opts = append(opts, tea.WithOutput(deps.Output))
	}
	p := tea.NewProgram(m, opts...)
	_, err := p.Run()
	m.Shutdown(10 * time.Second)
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // interrupted: not an error of the workbench
	}
	return err
}

// Model is the workbench's root model: it owns the screens, routes keys
// and messages to them, starts and cancels runs, and bridges engine
// events into Bubble Tea.
type Model struct {
	deps Deps
	ctx  *common.Context
	stop context.CancelFunc

	pipelines *pipelines.Model
	runview   *runview.Model
	runs      *runs.Model
	compare   *compare.Model
	model     *model.Model
	screens   [5]common.Screen
	active    int
	history   []int

	w, h     int
	help     help.Model
	showHelp bool
	status   string
	isErr    bool
	statusAt time.Time
	confirm  *common.Confirm
	palette  *palette

	broker    *engine.Broker
	events    <-chan engine.Event
	exec      *engine.Executor
	launchSeq int
	pending   map[int]context.CancelFunc   // launches without a number yet
	cancels   map[int64]context.CancelFunc // live runs, by number
	wg        *sync.WaitGroup
	poll      time.Duration
	sweep     *sweep // the sweep under way, if any
}

// New returns the root model. Its context ends with ctx or on Shutdown.
func New(ctx context.Context, deps Deps) *Model {
	ctx, stop := context.WithCancel(ctx)
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	rec := deps.Recorder
	if rec == nil {
		rec = &engine.NopRecorder{}
	}
	c := &common.Context{Ctx: ctx, Styles: newStyles(monochrome(&deps)), Now: now, Registry: deps.Registry, Version: deps.Version, Dir: deps.Dir, DB: deps.DBPath, ReadOnly: deps.ReadOnly}
	if c.Dir == "" {
		c.Dir = "."
	}
	if c.Registry == nil {
		c.Registry = engine.NewRegistry()
	}
	m := &Model{
		deps: deps, ctx: c, stop: stop,
		help:    help.New(),
		broker:  &engine.Broker{},
		pending: map[int]context.CancelFunc{},
		cancels: map[int64]context.CancelFunc{},
		wg:      &sync.WaitGroup{},
		poll:    deps.Poll,
		w:       100, h: 30,
	}
	if m.poll == 0 {
		m.poll = time.Second
	}
	m.events = m.broker.Subscribe(ctx)
	m.exec = &engine.Executor{Recorder: rec, Cache: deps.Cache, Artifacts: deps.Artifacts, Events: m.broker, MaxParallel: deps.Workers, Version: deps.Version}
	var ms model.Service
	if deps.Models != nil {
		ms = modelService{deps.Models}
	}
	m.pipelines = pipelines.New(c, deps.Store, deps.Paths, deps.Roots)
	m.runview = runview.New(c, deps.Store, m)
	m.runs = runs.New(c, deps.Store, m)
	m.compare = compare.New(c, deps.Store)
	m.model = model.New(c, deps.Store, ms)
	m.screens = [5]common.Screen{m.pipelines, m.runview, m.runs, m.compare, m.model}
	m.resize()
	return m
}

// CancelsWorkflows reports whether c can cancel a Temporal run's workflow.
func (m *Model) CancelsWorkflows() bool { return m.deps.CancelWorkflow != nil }

// Live reports whether run id is running in this process.
func (m *Model) Live(id int64) bool {
	_, ok := m.cancels[id]
	return ok
}

// Shutdown cancels the runs still going and waits up to d for them to
// be recorded.
func (m *Model) Shutdown(d time.Duration) {
	for _, c := range m.pending {
		c()
	}
	for _, c := range m.cancels {
		c()
	}
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
	m.stop()
}

// Init starts the screens' first reads, the event bridge and the clock.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{waitForEvents(m.events)}
	for _, s := range m.screens {
		cmds = append(cmds, s.Init())
	}
	if m.poll > 0 {
		cmds = append(cmds, tick(m.poll))
	}
	return tea.Batch(cmds...)
}

func (m *Model) bodyHeight() int { return m.h - 3 }

func (m *Model) resize() {
	for _, s := range m.screens {
		s.Resize(m.w, m.bodyHeight())
	}
	m.help.Width = m.w
}

func (m *Model) tooSmall() bool { return m.w < MinWidth || m.h < MinHeight }

// Update routes a message. A panic below it is caught and shown in the
// status line: the workbench stays up. The model is returned either way
// (a nil model would make Bubble Tea's own loop panic on View).
func (m *Model) Update(msg tea.Msg) (model tea.Model, cmd tea.Cmd) {
	model = m
	defer func() {
		if r := recover(); r != nil {
			m.setStatus(true, fmt.Sprintf("internal error (please report it): %v", r))
			model, cmd = m, nil
		}
	}()
	return m, m.update(msg)
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.resize()
		return nil
	case tea.KeyMsg:
		return m.key(msg)
	case tea.MouseMsg:
		if m.tooSmall() || m.showHelp || m.confirm != nil || m.palette != nil {
			return nil
		}
		if msg.Y == 0 {
			// The tab bar: a click selects a tab.
			if msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft {
				if n, ok := m.tabAt(msg.X); ok {
					m.switchTo(n)
				}
			}
			return nil
		}
		// Screens see coordinates within their body.
		msg.Y--
		return m.screens[m.active].Update(msg)
	case eventsMsg:
		var cmd tea.Cmd
		if len(msg.events) > 0 {
			ev := common.EventsMsg{Events: msg.events}
			cmd = tea.Batch(m.runview.Update(ev), m.runs.Update(ev))
		}
		if msg.closed {
			return cmd
		}
		return tea.Batch(cmd, waitForEvents(m.events))
	case common.TickMsg:
		if m.status != "" && !m.isErr && m.ctx.Now().Sub(m.statusAt) > 8*time.Second {
			m.status = ""
		}
		return tea.Batch(m.broadcast(msg), tick(m.poll))
	case common.RunFileMsg:
		if m.ctx.ReadOnly {
			return common.ReadOnlyMsg("running a pipeline")
		}
		m.setStatus(false, "starting "+msg.Path+"…")
		return m.startRun(msg)
	case common.RerunMsg:
		if m.ctx.ReadOnly {
			return common.ReadOnlyMsg("running a pipeline")
		}
		m.setStatus(false, fmt.Sprintf("running run %d again…", msg.ID))
		return m.startRerun(msg)
	case common.SweepMsg:
		if m.ctx.ReadOnly {
			return common.ReadOnlyMsg("running a sweep")
		}
		if m.sweep != nil {
			return common.Errorf(fmt.Sprintf("sweep %s is still running: %d of %d runs started", m.sweep.id, m.sweep.next, len(m.sweep.sets)))
		}
		m.setStatus(false, fmt.Sprintf("queueing %d runs of %s…", len(msg.Sets), msg.Path))
		return m.queueSweep(msg)
	case sweepQueuedMsg:
		if msg.err != nil {
			m.setStatus(true, "cannot queue the sweep: "+firstLine(msg.err))
			return nil
		}
		id := msg.sweep
		if id == "" {
			id = "here"
		}
		m.sweep = &sweep{id: msg.sweep, path: msg.msg.Path, sets: msg.msg.Sets, items: msg.items, parallel: max(msg.msg.Parallel, 1), byRun: map[int64]int64{}, launches: map[int]int64{}}
		m.setStatus(false, fmt.Sprintf("sweep %s: %d runs of %s, %d at a time", id, len(msg.msg.Sets), msg.msg.Path, m.sweep.parallel))
		return m.fillSweep()
	case launchedMsg:
		if c, ok := m.pending[msg.launch]; ok {
			m.cancels[msg.id] = c
			delete(m.pending, msg.launch)
		}
		if s := m.sweep; s != nil {
			if item, ok := s.launches[msg.launch]; ok {
				s.byRun[msg.id] = item
			}
		}
		m.setStatus(false, fmt.Sprintf("run %d started: %s", msg.id, msg.path))
		cmd := m.runview.Update(common.WatchRunMsg{ID: msg.id})
		m.switchTo(common.ScreenRun)
		return tea.Batch(cmd, waitEnd(msg.done))
	case launchFailedMsg:
		if c, ok := m.pending[msg.launch]; ok {
			c()
			delete(m.pending, msg.launch)
		}
		m.setStatus(true, fmt.Sprintf("cannot run %s: %s", msg.path, firstLine(msg.err)))
		if s := m.sweep; s != nil {
			if _, ok := s.launches[msg.launch]; ok {
				s.running--
				s.failed++
				return m.fillSweep()
			}
		}
		return nil
	case common.RunEndedMsg:
		if c, ok := m.cancels[msg.ID]; ok {
			c()
			delete(m.cancels, msg.ID)
		}
		switch {
		case msg.Err != nil:
			m.setStatus(true, fmt.Sprintf("run %d: %v", msg.ID, msg.Err))
		case msg.Run != nil:
			text := fmt.Sprintf("run %d %s %s in %s", msg.ID, msg.Run.Pipeline, msg.Run.Status, common.Seconds(msg.Run.Seconds))
			m.setStatus(msg.Run.Status != engine.StatusSucceeded, text)
		}
		var sweepCmds []tea.Cmd
		if s := m.sweep; s != nil {
			if item, ok := s.byRun[msg.ID]; ok {
				s.running--
				s.runs = append(s.runs, msg.ID)
				m.setStatus(false, fmt.Sprintf("sweep %s: %d of %d runs done (run %d %s)", s.id, len(s.runs), len(s.sets), msg.ID, runStatus(msg)))
				if item > 0 && m.deps.Queue != nil {
					q, ctx, id := m.deps.Queue, m.ctx.Ctx, msg.ID
					sweepCmds = append(sweepCmds, func() tea.Msg {
						if err := q.Finish(context.WithoutCancel(ctx), item, id); err != nil {
							return common.ErrMsg{Err: err}
						}
						return nil
					})
				}
				sweepCmds = append(sweepCmds, m.fillSweep())
			}
		}
		return tea.Batch(append(sweepCmds, m.broadcast(msg))...)
	case common.CancelRunMsg:
		if c, ok := m.cancels[msg.ID]; ok {
			c()
			m.setStatus(false, fmt.Sprintf("cancelling run %d…", msg.ID))
			return nil
		}
		if msg.WorkflowID != "" && m.deps.CancelWorkflow != nil {
			cancel, ctx, id, wf := m.deps.CancelWorkflow, m.ctx.Ctx, msg.ID, msg.WorkflowID
			m.setStatus(false, fmt.Sprintf("cancelling run %d's workflow %s…", id, wf))
			return func() tea.Msg {
				if err := cancel(ctx, wf); err != nil {
					return common.ErrMsg{Err: fmt.Errorf("cancel run %d's workflow %s: %w", id, wf, err)}
				}
				return common.InfoMsg(fmt.Sprintf("asked Temporal to cancel run %d (workflow %s); its record ends cancelled where it is followed", id, wf))
			}
		}
		return nil
	case common.SwitchMsg:
		m.switchTo(int(msg))
		return nil
	case common.WatchRunMsg:
		return m.runview.Update(msg)
	case common.OpenRunMsg:
		return m.runs.Update(msg)
	case common.CompareMsg:
		m.switchTo(common.ScreenCompare)
		return m.compare.Update(msg)
	case common.OpenModelMsg:
		return m.model.Update(msg)
	case common.ErrMsg:
		m.setStatus(true, firstLine(msg.Err))
		return nil
	case common.InfoMsg:
		m.setStatus(false, string(msg))
		return nil
	case quitMsg:
		m.Shutdown(0)
		return tea.Quit
	}
	// The screens' own replies go to every screen (only the one that sent
	// it knows the type), even while a dialog is up: a store poll answered
	// while the quit question was open would otherwise be lost, and the
	// runs screen would wait for it for ever. Library messages (forms,
	// cursors) go to the dialog, else to the active screen.
	if ours(msg) {
		return m.broadcast(msg)
	}
	if m.confirm != nil {
		return common.UpdateModal(&m.confirm, msg)
	}
	return m.screens[m.active].Update(msg)
}

var uiPkg = reflect.TypeOf(Model{}).PkgPath()

// ours reports whether msg is a type of the workbench's own packages.
func ours(msg tea.Msg) bool {
	t := reflect.TypeOf(msg)
	if t == nil {
		return false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return strings.HasPrefix(t.PkgPath(), uiPkg+"/")
}

func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.screens))
	for _, s := range m.screens {
		cmds = append(cmds, s.Update(msg))
	}
	return tea.Batch(cmds...)
}

func firstLine(err error) string {
	var list engine.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		s := list[0].Error()
		if len(list) > 1 {
			s += fmt.Sprintf(" (and %d more)", len(list)-1)
		}
		return s
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func (m *Model) setStatus(isErr bool, text string) {
	m.status, m.isErr, m.statusAt = text, isErr, m.ctx.Now()
}

// modelService adapts the ModelService given by the command line to the
// Model screen.
type modelService struct{ ModelService }

func (s modelService) Describe(ctx context.Context, run int64, stage string) (*model.Details, error) {
	return s.DescribeModel(ctx, run, stage)
}

func (s modelService) Export(ctx context.Context, run int64, stage, path string) (string, error) {
	return s.ExportModel(ctx, run, stage, path)
}

func (s modelService) Alias(ctx context.Context, run int64, stage, alias string) (string, error) {
	return s.SetAlias(ctx, run, stage, alias)
}

func runStatus(msg common.RunEndedMsg) string {
	if msg.Run == nil {
		return "not recorded"
	}
	return msg.Run.Status.String()
}
