package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// ParseTime reads a --from/--to/--now value: a date (2006-01-02) or a
// local time (2006-01-02T15:04) in loc, or an RFC 3339 time.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want a date like 2025-03-01, a time like 2025-03-01T06:00, or RFC 3339", s)
}

// runLister lists runs; *store.DB satisfies it.
type runLister interface {
	Runs(ctx context.Context, f engine.RunFilter) ([]engine.RunSummary, error)
}

// Succeeded returns the logical times (as Unix nanoseconds) of the
// pipeline's successful runs that stand for an interval: scheduled,
// backfilled or triggered, not manual.
func Succeeded(ctx context.Context, runs runLister, pipeline string) (map[int64]bool, error) {
	list, err := runs.Runs(ctx, engine.RunFilter{Pipeline: pipeline, Status: []engine.Status{engine.StatusSucceeded}})
	if err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(list))
	for _, r := range list {
		if r.TriggerKind() != engine.TriggerManual {
			out[r.Logical().UnixNano()] = true
		}
	}
	return out, nil
}

// BackfillIntervals returns the logical times of spec's schedule within
// [from, to], oldest first, leaving out those in done (intervals that
// already have a successful run). It returns an error when the pipeline
// has no schedule.
func BackfillIntervals(spec *engine.Spec, from, to time.Time, done map[int64]bool) ([]time.Time, error) {
	tt := spec.Automation.Schedule
	if tt == nil {
		return nil, fmt.Errorf("%s has no schedule: backfill runs the intervals of one", spec.File)
	}
	if to.Before(from) {
		return nil, fmt.Errorf("--to %s is before --from %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	var out []time.Time
	for _, l := range tt.Between(from, to) {
		if !done[l.UnixNano()] {
			out = append(out, l)
		}
	}
	return out, nil
}

// Backfill runs the pipeline file once per logical time, as backfill
// runs, starting them in order, up to workers at once (at least 1). It
// returns the runs made, in the order of logicals (nil where a run could
// not be made), and the first error met. Cancelling ctx stops starting
// new runs and cancels those going.
func Backfill(ctx context.Context, file string, spec *engine.Spec, logicals []time.Time, workers int, run Runner, log *slog.Logger) ([]*engine.Run, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	workers = max(workers, 1)
	tt := spec.Automation.Schedule
	runs := make([]*engine.Run, len(logicals))
	errs := make([]error, len(logicals))
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i, l := range logicals {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			log.Info("backfill stopped", "pipeline", spec.Name, "left", len(logicals)-i)
			wg.Wait()
			return runs, ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rc := engine.RunContext{Trigger: engine.TriggerBackfill, Logical: l, IntervalStart: l, IntervalEnd: tt.Next(l)}
			log.Info("run", "pipeline", spec.Name, "trigger", "backfill", "logical", l.Format(time.RFC3339))
			r, err := run(ctx, file, rc)
			runs[i], errs[i] = r, err
			switch {
			case err != nil:
				log.Warn("not run", "pipeline", spec.Name, "logical", l.Format(time.RFC3339), "error", err.Error())
			default:
				log.Info("finished", "pipeline", spec.Name, "logical", l.Format(time.RFC3339), "run", r.ID, "status", r.Status.String())
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return runs, err
		}
	}
	return runs, nil
}
