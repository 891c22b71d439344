package ui

import (
	"context"
	"fmt"
	"sort"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// Bridge tuning: after the first event arrives, the bridge keeps reading
// for up to coalesceWindow or maxBurst events and delivers them as one
// message. At most one burst is in Bubble Tea's queue at a time, so keys
// never wait behind thousands of log lines.
const (
	coalesceWindow = 16 * time.Millisecond
	maxBurst       = 8192
)

// waitForEvents is the event bridge: a command that blocks for the next
// event, gathers what follows it for a moment, and returns the burst.
// Update re-arms it after each burst (bubbletea's realtime example).
func waitForEvents(ch <-chan engine.Event) tea.Cmd {
	return func() tea.Msg {
		e, ok := <-ch
		if !ok {
			return eventsMsg{closed: true}
		}
		evs := make([]engine.Event, 1, 64)
		evs[0] = e
		timer := time.NewTimer(coalesceWindow)
		defer timer.Stop()
		for len(evs) < maxBurst {
			// What is queued already is taken before the timer is looked
			// at, so a backlog comes out in full bursts however late this
			// goroutine runs.
			var e engine.Event
			var ok bool
			select {
			case e, ok = <-ch:
			default:
				select {
				case e, ok = <-ch:
				case <-timer.C:
					return eventsMsg{events: evs}
				}
			}
			if !ok {
				return eventsMsg{events: evs, closed: true}
			}
			evs = append(evs, e)
		}
		return eventsMsg{events: evs}
	}
}

// numbering is the recorder of one run the workbench starts: it passes
// everything on and reports the run's number as soon as it has one.
type numbering struct {
	engine.Recorder
	ids chan<- int64
}

func (n *numbering) BeginRun(ctx context.Context, r *engine.Run) (int64, error) {
	id, err := n.Recorder.BeginRun(ctx, r)
	if err == nil {
		n.ids <- id
	}
	return id, err
}

// startRun loads, validates and runs a pipeline file in this process. The
// command returns once the run has its number (launchedMsg, carrying a
// channel for the end) or could not start (launchFailedMsg).
func (m *Model) startRun(msg common.RunFileMsg) tea.Cmd {
	reg, q, ctx, now := m.deps.Registry, m.deps.Queue, m.ctx.Ctx, m.ctx.Now()
	return m.launchWith(msg.Path, engine.RunOptions{Sweep: msg.Sweep}, msg.Item, func() (*engine.Plan, error) {
		if msg.Item > 0 && q != nil {
			ok, err := q.Claim(ctx, msg.Item)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("queue item %d is no longer queued (another process took it, or it was cancelled)", msg.Item)
			}
		}
		overrides, err := engine.ParseOverrides(msg.Sets)
		if err != nil {
			return nil, err
		}
		// A run started here is a manual run, as with sluice run: its
		// logical time is now, and a triggered pipeline reads the newest
		// file its trigger matches.
		return engine.LoadPlanFor(msg.Path, reg, overrides, engine.ManualRun(now))
	})
}

// startRerun runs a recorded run again: the pipeline text and overrides
// recorded with it (engine.RerunPlan). The stage cache reuses what
// finished, so on a failed or interrupted run this resumes it.
func (m *Model) startRerun(msg common.RerunMsg) tea.Cmd {
	reg, st, ctx := m.deps.Registry, m.deps.Store, m.ctx.Ctx
	return m.launch(fmt.Sprintf("run %d", msg.ID), func() (*engine.Plan, error) {
		if st == nil {
			return nil, fmt.Errorf("no store to read run %d from", msg.ID)
		}
		r, err := st.Run(ctx, msg.ID)
		if err != nil {
			return nil, err
		}
		return engine.RerunPlan(r, reg)
	})
}

// launch plans (in the command, off the update loop) and starts a run.
func (m *Model) launch(path string, load func() (*engine.Plan, error)) tea.Cmd {
	return m.launchWith(path, engine.RunOptions{}, 0, load)
}

// launchWith is launch with run options and the queue item it runs.
func (m *Model) launchWith(path string, opts engine.RunOptions, item int64, load func() (*engine.Plan, error)) tea.Cmd {
	m.launchSeq++
	launch := m.launchSeq
	ctx, cancel := context.WithCancel(m.ctx.Ctx)
	m.pending[launch] = cancel
	ex := *m.exec
	wg := m.wg
	wg.Add(1)
	return func() tea.Msg {
		plan, err := load()
		if err != nil {
			wg.Done()
			return launchFailedMsg{launch: launch, path: path, item: item, err: err}
		}
		ids := make(chan int64, 1)
		ex.Recorder = &numbering{Recorder: ex.Recorder, ids: ids}
		done := make(chan common.RunEndedMsg, 1)
		go func() {
			defer wg.Done()
			r, err := ex.RunWith(ctx, plan, opts)
			end := common.RunEndedMsg{Run: r, Err: err}
			if r != nil {
				end.ID = r.ID
			}
			done <- end
		}()
		select {
		case id := <-ids:
			return launchedMsg{launch: launch, id: id, path: path, item: item, done: done}
		case end := <-done:
			if end.Run != nil { // it ended before its number was read
				again := make(chan common.RunEndedMsg, 1)
				again <- end
				return launchedMsg{launch: launch, id: end.ID, path: path, item: item, done: again}
			}
			return launchFailedMsg{launch: launch, path: path, item: item, err: end.Err}
		}
	}
}

// waitEnd delivers the end of a run.
func waitEnd(done <-chan common.RunEndedMsg) tea.Cmd {
	return func() tea.Msg { return <-done }
}

func tick(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(t time.Time) tea.Msg { return common.TickMsg(t) })
}

// sweep is a sweep the workbench runs: its items, Parallel at a time.
type sweep struct {
	id       string
	path     string
	sets     [][]string
	items    []int64 // queue items (nil without a queue)
	parallel int
	next     int             // the next item to start
	running  int             // started, not yet ended
	runs     []int64         // the runs it became
	failed   int             // items that could not start
	launches map[int]int64   // launch number → queue item (0: none)
	byRun    map[int64]int64 // run → queue item
}

// queueSweep queues a sweep in the store (in a command).
func (m *Model) queueSweep(msg common.SweepMsg) tea.Cmd {
	q, ctx := m.deps.Queue, m.ctx.Ctx
	return func() tea.Msg {
		if q == nil {
			return sweepQueuedMsg{msg: msg, sweep: "", items: nil}
		}
		id, items, err := q.Enqueue(ctx, msg.Path, msg.Sets)
		return sweepQueuedMsg{msg: msg, sweep: id, items: items, err: err}
	}
}

// fillSweep starts the sweep's next runs, up to its parallel limit, and
// when every run has ended, opens Compare on them.
func (m *Model) fillSweep() tea.Cmd {
	s := m.sweep
	if s == nil {
		return nil
	}
	var cmds []tea.Cmd
	for s.running < s.parallel && s.next < len(s.sets) {
		msg := common.RunFileMsg{Path: s.path, Sets: s.sets[s.next], Sweep: s.id}
		if s.items != nil {
			msg.Item = s.items[s.next]
		}
		s.next++
		s.running++
		cmds = append(cmds, m.startRun(msg))
		s.launches[m.launchSeq] = msg.Item
	}
	if s.running == 0 && s.next >= len(s.sets) {
		m.sweep = nil
		ids := append([]int64{}, s.runs...)
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		m.setStatus(false, fmt.Sprintf("sweep %s: %d runs done; comparing them (/ sweep:%s finds them in Runs)", s.id, len(ids), s.id))
		if len(ids) >= 2 {
			cmds = append(cmds, func() tea.Msg { return common.CompareMsg{IDs: ids} })
		}
	}
	return tea.Batch(cmds...)
}
