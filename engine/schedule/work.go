// Running what came due: one worker per pipeline, overlap applied when it
// is busy, the pipeline's lease held (and renewed) while a run goes, and
// the state recorded once it is handled or skipped.

package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

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
		case engine.OverlapQueue, "": // "": an Automation built without its defaults
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
