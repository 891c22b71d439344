// The Scheduler: its state, the loop and Tick, which look at every
// pipeline once a tick. What comes due is decided in due.go; how a due
// item is run, one per pipeline at a time under a lease, is in work.go.

package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// Store is where schedulers sharing a store keep each pipeline's state;
// *store.DB satisfies it.
type Store interface {
	Schedule(ctx context.Context, pipeline string) (engine.ScheduleState, error)
	UpdateSchedule(ctx context.Context, pipeline string, change func(*engine.ScheduleState) error) (engine.ScheduleState, error)
	Runs(ctx context.Context, f engine.RunFilter) ([]engine.RunSummary, error)
}

// Runner runs the pipeline file once for rc and returns the finished run.
// An error means no run was made (an invalid file) or it could not be
// recorded; a run that failed is a run with that status.
type Runner func(ctx context.Context, file string, rc engine.RunContext) (*engine.Run, error)

// Defaults of the Scheduler's durations.
const (
	DefaultPoll     = time.Second
	DefaultGrace    = 2 * time.Minute
	DefaultLeaseTTL = 30 * time.Second
	// maxDue bounds the intervals one evaluation lists for a pipeline
	// (the newest are kept), so a tiny @every after a long downtime
	// cannot flood the scheduler.
	maxDue = 10000
)

// Scheduler runs the pipelines in Files when their intervals come due or
// their trigger files settle. Set the fields, then call Once or Loop; the
// fields must not change after.
type Scheduler struct {
	Files    []string
	Store    Store
	Run      Runner
	Log      *slog.Logger     // one line per decision; nil: discard
	Holder   string           // this scheduler's name in leases; "": host:pid
	Poll     time.Duration    // how often Loop evaluates; 0: DefaultPoll
	Grace    time.Duration    // how late an interval may be seen and still be on time; 0: DefaultGrace
	LeaseTTL time.Duration    // how long a lease lasts unless renewed; 0: DefaultLeaseTTL
	Clock    func() time.Time // the real time, for leases and Loop; nil: time.Now

	started, failed atomic.Int64

	mu      sync.Mutex
	workers map[string]*worker
	wg      sync.WaitGroup
	said    map[string]string // file → the last problem logged for it
}

// item is work for one pipeline: the intervals of its schedule due at one
// evaluation (run in order, under one lease, so that a scheduler catching
// up owns the whole backlog), or one trigger file.
type item struct {
	key      string
	file     string // the pipeline file
	pipeline string
	overlap  engine.Overlap
	rc       engine.RunContext   // the first (or only) run
	rest     []engine.RunContext // the intervals after it
	hash     string              // trigger file content
}

func (it *item) what() []any {
	if it.rc.Trigger == engine.TriggerFile {
		return []any{"pipeline", it.pipeline, "trigger", "file", "file", it.rc.File}
	}
	out := []any{"pipeline", it.pipeline, "trigger", "schedule", "logical", it.rc.Logical.Format(time.RFC3339)}
	if len(it.rest) > 0 {
		out = append(out, "to", it.last().Format(time.RFC3339), "intervals", len(it.rest)+1)
	}
	return out
}

// last is the logical time of the item's newest interval.
func (it *item) last() time.Time {
	if len(it.rest) > 0 {
		return it.rest[len(it.rest)-1].Logical
	}
	return it.rc.Logical
}

// worker runs one pipeline's items, one at a time.
type worker struct {
	queue   []*item
	pending map[string]bool
	current *item
	cancel  context.CancelFunc
	active  bool
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s.Log
}

func (s *Scheduler) now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

func (s *Scheduler) holder() string {
	if s.Holder == "" {
		host, _ := os.Hostname()
		s.Holder = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	return s.Holder
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Once evaluates every pipeline at now, runs what is due and returns when
// those runs (and any queued behind them) have finished.
func (s *Scheduler) Once(ctx context.Context, now time.Time) error {
	s.holder()
	err := s.Tick(ctx, now)
	s.Wait()
	return err
}

// Loop evaluates every pipeline each Poll until ctx is cancelled, then
// cancels the runs still going (the executor marks them cancelled),
// waits for them and returns nil.
func (s *Scheduler) Loop(ctx context.Context) error {
	s.holder()
	t := time.NewTicker(orDefault(s.Poll, DefaultPoll))
	defer t.Stop()
	for {
		if err := s.Tick(ctx, s.now()); err != nil && ctx.Err() == nil {
			s.log().Error("evaluation failed", "error", err)
		}
		select {
		case <-ctx.Done():
			n := s.running()
			s.log().Info("stopping", "running", n)
			s.Wait()
			return nil
		case <-t.C:
		}
	}
}

// Counts returns how many runs the scheduler started and how many of them
// did not succeed (or could not be made).
func (s *Scheduler) Counts() (started, failed int) {
	return int(s.started.Load()), int(s.failed.Load())
}

// Wait returns when every run started by Tick has finished.
func (s *Scheduler) Wait() { s.wg.Wait() }

func (s *Scheduler) running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, w := range s.workers {
		if w.current != nil {
			n++
		}
	}
	return n
}

// Tick evaluates every pipeline at now and starts the runs that are due;
// it does not wait for them. Problems with one file are logged and do not
// stop the others; the error is the store's, if it failed.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) error {
	s.holder()
	var errs []error
	for _, file := range s.Files {
		if ctx.Err() != nil {
			return nil
		}
		spec, err := engine.LoadSpec(file)
		if err != nil {
			s.sayOnce(file, "invalid pipeline file, not scheduled", err)
			continue
		}
		a := &spec.Automation
		if !a.Scheduled() {
			s.sayOnce(file, "no schedule or trigger, not scheduled", nil)
			continue
		}
		s.sayOnce(file, "", nil)
		st, err := s.Store.Schedule(ctx, spec.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if a.Schedule != nil {
			if err := s.dueIntervals(ctx, file, spec, st, now); err != nil {
				errs = append(errs, err)
			}
		}
		if a.Trigger != nil {
			s.dueFiles(ctx, file, spec, st, now)
		}
	}
	return errors.Join(errs...)
}

// sayOnce logs a problem with a file once until it changes; an empty msg
// clears it.
func (s *Scheduler) sayOnce(file, msg string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.said == nil {
		s.said = map[string]string{}
	}
	text := msg
	if err != nil {
		text += ": " + err.Error()
	}
	if s.said[file] == text {
		return
	}
	s.said[file] = text
	if msg == "" {
		return
	}
	if err != nil {
		s.log().Warn(msg, "file", file, "error", err.Error())
	} else {
		s.log().Debug(msg, "file", file)
	}
}
