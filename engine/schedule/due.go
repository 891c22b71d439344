// What comes due at a tick: the intervals of a schedule (per catchup) and
// the files a file trigger matches (by content, once settled).

package schedule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

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
	case engine.CatchupLatest, "": // "": an Automation built without its defaults
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
	defer f.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
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
