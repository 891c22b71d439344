package schedule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
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

// dueIntervals decides which of the intervals due since the last one
// handled to run, per catchup.
func (s *Scheduler) dueIntervals(ctx context.Context, file string, spec *engine.Spec, st engine.ScheduleState, now time.Time) error {
	a := &spec.Automation
	tt := a.Schedule
	due := tt.Due(st.Last, now, maxDue)
	if len(due) == 0 {
		return nil
	}
	// An interval that already has a successful run (a backfill, or a run
	// recorded before the scheduler's state) is not run again.
	done, err := Succeeded(ctx, s.Store, spec.Name)
	if err != nil {
		return err
	}
	newest := due[len(due)-1]
	var kept []time.Time
	for _, l := range due {
		if done[l.UnixNano()] {
			s.log().Info("already succeeded", "pipeline", spec.Name, "trigger", "schedule", "logical", l.Format(time.RFC3339))
			continue
		}
		kept = append(kept, l)
	}
	if due = kept; len(due) == 0 {
		_, err := s.Store.UpdateSchedule(ctx, spec.Name, func(st *engine.ScheduleState) error {
			if newest.After(st.Last) {
				st.Last = newest
			}
			return nil
		})
		return err
	}
	grace := orDefault(s.Grace, DefaultGrace)
	var run, skip []time.Time
	switch a.Catchup {
	case engine.CatchupAll:
		run = due
	case engine.CatchupNone:
		for _, l := range due {
			if now.Sub(tt.Next(l)) <= grace {
				run = append(run, l)
			} else {
				skip = append(skip, l)
			}
		}
	default: // latest
		run, skip = due[len(due)-1:], due[:len(due)-1]
	}
	if len(skip) > 0 {
		newest := skip[len(skip)-1]
		_, err := s.Store.UpdateSchedule(ctx, spec.Name, func(st *engine.ScheduleState) error {
			if newest.After(st.Last) {
				st.Last = newest
			}
			return nil
		})
		if err != nil {
			return err
		}
		s.log().Info("skip missed intervals", "pipeline", spec.Name, "trigger", "schedule", "catchup", string(a.Catchup),
			"count", len(skip), "from", skip[0].Format(time.RFC3339), "to", newest.Format(time.RFC3339))
	}
	if len(run) == 0 {
		return nil
	}
	it := &item{file: file, pipeline: spec.Name, overlap: a.Overlap}
	for i, l := range run {
		rc := engine.RunContext{Trigger: engine.TriggerSchedule, Logical: l, IntervalStart: l, IntervalEnd: tt.Next(l)}
		if i == 0 {
			it.rc = rc
		} else {
			it.rest = append(it.rest, rc)
		}
	}
	it.key = "schedule " + it.last().UTC().Format(time.RFC3339)
	s.submit(ctx, it)
	return nil
}

// dueFiles finds the trigger's settled files whose content has not been
// run yet.
func (s *Scheduler) dueFiles(ctx context.Context, file string, spec *engine.Spec, st engine.ScheduleState, now time.Time) {
	t := spec.Automation.Trigger
	matches, err := filepath.Glob(filepath.Join(spec.Dir, filepath.FromSlash(t.Glob)))
	if err != nil {
		s.sayOnce(file, "bad trigger glob", err)
		return
	}
	sort.Strings(matches)
	for _, m := range matches {
		fi, err := os.Stat(m)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if now.Sub(fi.ModTime()) < t.Settle {
			continue // still being written, or too fresh to tell
		}
		sum, err := hashFile(m, fi)
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(spec.Dir, m)
		if err != nil {
			continue
		}
		rel = filepath.ToSlash(rel)
		if st.Files[rel] == sum {
			continue
		}
		logical := now.UTC().Truncate(time.Second)
		rc := engine.RunContext{Trigger: engine.TriggerFile, Logical: logical, IntervalStart: logical, IntervalEnd: logical, File: rel}
		s.submit(ctx, &item{key: "file " + rel + " " + sum, file: file, pipeline: spec.Name, overlap: spec.Automation.Overlap, rc: rc, hash: sum})
	}
}

// hashFile returns the SHA-256 of a file's content, or an error when the
// file changed while it was read.
func hashFile(path string, before os.FileInfo) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	after, err := f.Stat()
	if err != nil {
		return "", err
	}
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return "", fmt.Errorf("%s changed while it was read", path)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// submit hands an item to its pipeline's worker, applying overlap when
// the worker is busy with another run.
func (s *Scheduler) submit(ctx context.Context, it *item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.workers == nil {
		s.workers = map[string]*worker{}
	}
	w := s.workers[it.pipeline]
	if w == nil {
		w = &worker{pending: map[string]bool{}}
		s.workers[it.pipeline] = w
	}
	if w.pending[it.key] || (w.current != nil && w.current.key == it.key) {
		return
	}
	if w.current != nil {
		switch it.overlap {
		case engine.OverlapSkip:
			w.pending[it.key] = true // decided; not again
			why := fmt.Sprintf("the run for %s is still going", w.current.label())
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.skip(ctx, it, why)
			}()
			return
		case engine.OverlapCancelRunning:
			s.log().Info("cancel running", append(it.what(), "running", w.current.label(), "overlap", string(it.overlap))...)
			w.cancel()
		default:
			s.log().Info("queued", append(it.what(), "behind", w.current.label(), "overlap", string(it.overlap))...)
		}
	}
	w.queue = append(w.queue, it)
	w.pending[it.key] = true
	if !w.active {
		w.active = true
		s.wg.Add(1)
		go s.work(ctx, it.pipeline, w)
	}
}

func (it *item) label() string {
	if it.rc.Trigger == engine.TriggerFile {
		return it.rc.File
	}
	return it.rc.Logical.Format(time.RFC3339)
}

// skip marks an item handled without running it.
func (s *Scheduler) skip(ctx context.Context, it *item, why string) {
	_, err := s.Store.UpdateSchedule(ctx, it.pipeline, func(st *engine.ScheduleState) error {
		it.markTaken(st)
		return nil
	})
	if err != nil {
		s.log().Error("skip failed", append(it.what(), "error", err)...)
		return
	}
	s.log().Info("skip", append(it.what(), "overlap", string(it.overlap), "why", why)...)
}

func (it *item) markTaken(st *engine.ScheduleState) {
	if it.rc.Trigger == engine.TriggerFile {
		if st.Files == nil {
			st.Files = map[string]string{}
		}
		st.Files[it.rc.File] = it.hash
		return
	}
	if l := it.last(); l.After(st.Last) {
		st.Last = l
	}
}

// taken reports whether another scheduler has started or skipped the
// item, and drops the intervals of a batch that are already taken.
func (it *item) taken(st *engine.ScheduleState) bool {
	if it.rc.Trigger == engine.TriggerFile {
		return st.Files[it.rc.File] == it.hash
	}
	if st.Last.IsZero() {
		return false
	}
	for it.rc.Logical.Compare(st.Last) <= 0 {
		if len(it.rest) == 0 {
			return true
		}
		it.rc, it.rest = it.rest[0], it.rest[1:]
	}
	return false
}

var errTaken = errors.New("taken")

// heldError is a lease held by another scheduler.
type heldError struct{ holder string }

func (e *heldError) Error() string { return "held by " + e.holder }

// work runs a pipeline's queue until it is empty.
func (s *Scheduler) work(ctx context.Context, pipeline string, w *worker) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if len(w.queue) == 0 || ctx.Err() != nil {
			if n := len(w.queue); n > 0 {
				s.log().Info("dropped on stop", "pipeline", pipeline, "queued", n)
			}
			w.queue, w.active, w.pending = nil, false, map[string]bool{}
			s.mu.Unlock()
			return
		}
		it := w.queue[0]
		w.queue = w.queue[1:]
		delete(w.pending, it.key)
		runCtx, cancel := context.WithCancel(ctx)
		w.current, w.cancel = it, cancel
		s.mu.Unlock()

		s.runItem(runCtx, ctx, it)
		cancel()

		s.mu.Lock()
		w.current, w.cancel = nil, nil
		s.mu.Unlock()
	}
}

// runItem takes the item and the pipeline's lease, runs it and releases
// the lease. runCtx stops the run (overlap cancel_running, shutdown); ctx
// bounds the store calls.
func (s *Scheduler) runItem(runCtx, ctx context.Context, it *item) {
	ttl := orDefault(s.LeaseTTL, DefaultLeaseTTL)
	waiting := false
	for {
		_, err := s.Store.UpdateSchedule(ctx, it.pipeline, func(st *engine.ScheduleState) error {
			if it.taken(st) {
				return errTaken
			}
			if st.Held(s.Holder, s.now()) {
				return &heldError{holder: st.Holder}
			}
			it.markTaken(st)
			st.Holder, st.Expires = s.Holder, s.now().Add(ttl)
			return nil
		})
		var held *heldError
		switch {
		case err == nil:
		case errors.Is(err, errTaken):
			s.log().Info("already taken", append(it.what(), "why", "another scheduler started or skipped it")...)
			return
		case errors.As(err, &held) && it.overlap == engine.OverlapSkip:
			s.skip(ctx, it, "another scheduler ("+held.holder+") is running the pipeline")
			return
		case errors.As(err, &held):
			if !waiting {
				s.log().Info("waiting", append(it.what(), "for", held.holder, "overlap", string(it.overlap))...)
				waiting = true
			}
			select {
			case <-runCtx.Done():
				return
			case <-time.After(min(orDefault(s.Poll, DefaultPoll), ttl/3)):
			}
			continue
		default:
			s.log().Error("cannot take the pipeline's lease", append(it.what(), "error", err)...)
			return
		}
		break
	}
	renewCtx, stopRenew := context.WithCancel(context.WithoutCancel(ctx))
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		s.renew(renewCtx, it.pipeline, ttl)
	}()
	for i, rc := range append([]engine.RunContext{it.rc}, it.rest...) {
		one := *it
		one.rc, one.rest = rc, nil
		if runCtx.Err() != nil {
			s.log().Info("not started", append(one.what(), "why", "stopped or cancelled", "left", len(it.rest)+1-i)...)
			break
		}
		s.runOne(runCtx, &one)
	}
	stopRenew()
	<-renewed
	if _, rerr := s.Store.UpdateSchedule(context.WithoutCancel(ctx), it.pipeline, func(st *engine.ScheduleState) error {
		if st.Holder == s.Holder {
			st.Holder, st.Expires = "", time.Time{}
		}
		return nil
	}); rerr != nil {
		s.log().Error("cannot release the pipeline's lease", append(it.what(), "error", rerr)...)
	}
}

// runOne makes one run and logs its outcome.
func (s *Scheduler) runOne(ctx context.Context, it *item) {
	s.log().Info("run", it.what()...)
	s.started.Add(1)
	run, err := s.Run(ctx, it.file, it.rc)
	if err != nil || run.Status != engine.StatusSucceeded {
		s.failed.Add(1)
	}
	switch {
	case err != nil && run == nil:
		s.log().Warn("not run", append(it.what(), "error", err.Error())...)
	case err != nil:
		s.log().Error("run not recorded", append(it.what(), "run", run.ID, "error", err.Error())...)
	default:
		s.log().Info("finished", append(it.what(), "run", run.ID, "status", run.Status.String(), "seconds", fmt.Sprintf("%.3f", run.Seconds))...)
	}
}

// renew extends the lease every third of its life until ctx ends.
func (s *Scheduler) renew(ctx context.Context, pipeline string, ttl time.Duration) {
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := s.Store.UpdateSchedule(ctx, pipeline, func(st *engine.ScheduleState) error {
			if st.Holder == s.Holder {
				st.Expires = s.now().Add(ttl)
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			s.log().Warn("cannot renew the pipeline's lease", "pipeline", pipeline, "error", err.Error())
		}
	}
}
