package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/progress"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// reporter prints a run's progress to stderr: a redrawn block of bars on
// a terminal, plain timestamped lines otherwise.
type reporter struct {
	w      io.Writer
	tty    bool
	plan   *engine.Plan
	mu     sync.Mutex
	states map[string]*stageView
	order  []string
	drawn  int // lines drawn by the last redraw
	bar    progress.Model
	runID  int64
}

type stageView struct {
	status   engine.Status
	progress engine.Progress
	started  time.Time
	seconds  float64
	last     string
}

func newReporter(w io.Writer, plan *engine.Plan) *reporter {
	r := &reporter{w: w, tty: isTerminal(w), plan: plan, states: map[string]*stageView{}}
	for _, s := range plan.Stages {
		r.order = append(r.order, s.Spec.ID)
		r.states[s.Spec.ID] = &stageView{}
	}
	r.bar = progress.New(progress.WithWidth(24), progress.WithoutPercentage(), progress.WithSolidFill("12"))
	return r
}

// follow consumes events until the channel closes.
func (r *reporter) follow(events <-chan engine.Event) {
	var tick <-chan time.Time
	if r.tty {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			r.handle(ev)
		case <-tick:
			r.redraw()
		}
	}
}

func (r *reporter) handle(ev engine.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ts := ev.Time.Format("15:04:05")
	if ev.Kind == engine.EventRunStarted {
		r.runID = ev.RunID
		if !r.tty {
			fmt.Fprintf(r.w, "%s run %d %s: started (%d stages)\n", ts, ev.RunID, ev.Pipeline, len(r.order))
		}
		return
	}
	st := r.states[ev.Stage]
	if st == nil {
		return
	}
	switch ev.Kind {
	case engine.EventStageStarted:
		st.status = engine.StatusRunning
		st.started = ev.Time
		if !r.tty {
			attempt := ""
			if ev.Attempt > 1 {
				attempt = fmt.Sprintf(" (attempt %d)", ev.Attempt)
			}
			why := ""
			if ev.Reason != "" && ev.Attempt <= 1 {
				why = " (" + ev.Reason + ")"
			}
			fmt.Fprintf(r.w, "%s %s: started%s%s\n", ts, ev.Stage, attempt, why)
		}
	case engine.EventProgress:
		if !r.tty && ev.Progress.Phase != "" && ev.Progress.Phase != st.progress.Phase {
			fmt.Fprintf(r.w, "%s %s: %s\n", ts, ev.Stage, ev.Progress.Phase)
		}
		st.progress = ev.Progress
	case engine.EventLog:
		st.last = ev.Line.Text
		if !r.tty {
			fmt.Fprintf(r.w, "%s %s | %s\n", ts, ev.Stage, ev.Line.Text)
		}
	case engine.EventStageFinished:
		st.status = ev.Status
		st.seconds = ev.Seconds
		if !r.tty {
			line := fmt.Sprintf("%s %s: %s", ts, ev.Stage, ev.Status)
			if ev.Status == engine.StatusSucceeded {
				line += " in " + common.Seconds(ev.Seconds)
			}
			if ev.Status == engine.StatusCached && ev.Reason != "" {
				line += " (" + ev.Reason + ")"
			}
			if m := metricsText(ev.Metrics, 6); m != "" {
				line += "  " + m
			}
			if ev.Err != "" && ev.Status != engine.StatusSkipped {
				line += ": " + ev.Err
			}
			fmt.Fprintln(r.w, line)
		}
	case engine.EventRunStarted, engine.EventRunFinished: // the run itself: above, and by the caller
	}
}

// redraw repaints the block of stage lines in place.
func (r *reporter) redraw() {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	if r.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", r.drawn)
	}
	width := 0
	for _, id := range r.order {
		width = max(width, len(id))
	}
	for _, id := range r.order {
		st := r.states[id]
		frac := 0.0
		if st.status == engine.StatusSucceeded || st.status == engine.StatusCached {
			frac = 1
		} else if st.progress.Total > 0 {
			frac = float64(st.progress.Done) / float64(st.progress.Total)
		}
		elapsed := st.seconds
		if st.status == engine.StatusRunning {
			elapsed = time.Since(st.started).Seconds()
		}
		detail := ""
		if st.status == engine.StatusRunning {
			detail = common.ProgressText(st.progress)
			if detail == "" && st.last != "" {
				detail = truncate(st.last, 40)
			}
		}
		time := ""
		if st.status != engine.StatusPending {
			time = common.Seconds(elapsed)
		}
		fmt.Fprintf(&b, "\x1b[2K%s %-*s %s %6s %s\n", common.StatusIcon(st.status), width, id, r.bar.ViewAs(frac), time, detail)
	}
	r.drawn = len(r.order)
	_, _ = io.WriteString(r.w, b.String()) // progress on the terminal: nowhere better to report a failed write
}

// final prints the end state once the run is over.
func (r *reporter) final(run *engine.Run) {
	if r.tty {
		for _, s := range run.Stages {
			if st := r.states[s.ID]; st != nil {
				st.status = s.Status
				st.seconds = s.Seconds
			}
		}
		r.redraw()
		return
	}
	fmt.Fprintf(r.w, "%s run %d %s: %s in %s\n", time.Now().Format("15:04:05"), run.ID, run.Pipeline, run.Status, common.Seconds(run.Seconds))
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
