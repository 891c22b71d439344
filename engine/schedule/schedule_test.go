package schedule_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/schedule"
	"github.com/sluice-ml/sluice/store"
)

// recorder is a Runner that remembers what it was asked to run; block,
// when set, holds every run until it is closed.
type recorder struct {
	mu      sync.Mutex
	calls   []engine.RunContext
	started chan struct{}
	block   chan struct{}
}

func newRecorder() *recorder { return &recorder{started: make(chan struct{}, 100)} }

func (r *recorder) run(ctx context.Context, file string, rc engine.RunContext) (*engine.Run, error) {
	r.mu.Lock()
	r.calls = append(r.calls, rc)
	id := int64(len(r.calls))
	r.mu.Unlock()
	r.started <- struct{}{}
	status := engine.StatusSucceeded
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			status = engine.StatusCancelled
		}
	}
	return &engine.Run{ID: id, Status: status, Trigger: rc.Trigger, LogicalTime: rc.Logical}, nil
}

func (r *recorder) logicals() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		out = append(out, c.Logical.UTC().Format(time.RFC3339))
	}
	return out
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func mustStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "sluice.db"), &store.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func writePipeline(t *testing.T, dir, head string) string {
	t.Helper()
	path := filepath.Join(dir, "p.yaml")
	text := "name: p\n" + head + "stages:\n  - id: a\n    uses: read_csv\n    with: {path: x.csv}\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func newScheduler(db *store.DB, file string, r *recorder, holder string, log *bytes.Buffer) *schedule.Scheduler {
	s := &schedule.Scheduler{Files: []string{file}, Store: db, Run: r.run, Holder: holder, Poll: 10 * time.Millisecond}
	if log != nil {
		s.Log = slog.New(slog.NewTextHandler(&syncWriter{w: log}, nil))
	}
	return s
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestCatchupAfterDowntime: a scheduler ran on 03-02, then nothing ran
// until 03-05; what it does with the three intervals it missed depends on
// catchup.
func TestCatchupAfterDowntime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		catchup string
		want    []string // logical times run after the downtime
	}{
		{"all", []string{"2025-03-02T00:00:00Z", "2025-03-03T00:00:00Z", "2025-03-04T00:00:00Z"}},
		{"latest", []string{"2025-03-04T00:00:00Z"}},
		// 03-04's interval ended at 03-05T00:00, 30s before: on time.
		{"none", []string{"2025-03-04T00:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.catchup, func(t *testing.T) {
			t.Parallel()
			db := mustStore(t)
			file := writePipeline(t, t.TempDir(), "schedule: \"@daily\"\ncatchup: "+tt.catchup+"\n")
			r := newRecorder()
			var log bytes.Buffer
			s := newScheduler(db, file, r, "a", &log)
			ctx := context.Background()
			if err := s.Once(ctx, at("2025-03-02T00:00:30Z")); err != nil {
				t.Fatal(err)
			}
			if got := r.logicals(); !slices.Equal(got, []string{"2025-03-01T00:00:00Z"}) {
				t.Fatalf("first start ran %v, want the latest interval, 2025-03-01", got)
			}
			// The same time again: nothing new is due.
			if err := s.Once(ctx, at("2025-03-02T00:05:00Z")); err != nil {
				t.Fatal(err)
			}
			if n := r.count(); n != 1 {
				t.Fatalf("a second look at the same interval ran it again (%d runs)", n)
			}
			if err := s.Once(ctx, at("2025-03-05T00:00:30Z")); err != nil {
				t.Fatal(err)
			}
			got := r.logicals()[1:]
			if !slices.Equal(got, tt.want) {
				t.Errorf("after downtime ran %v, want %v\nlog:\n%s", got, tt.want, log.String())
			}
			if tt.catchup != "all" && !strings.Contains(log.String(), "skip missed intervals") {
				t.Errorf("no log line for the skipped intervals:\n%s", log.String())
			}
			for _, c := range r.calls {
				if c.Trigger != engine.TriggerSchedule || !c.IntervalEnd.Equal(c.Logical.Add(24*time.Hour)) {
					t.Errorf("run context %+v: want a schedule run over one day", c)
				}
			}
		})
	}
}

// TestCatchupNoneSkipsLateInterval: with catchup none, an interval seen
// long after it ended is not run at all.
func TestCatchupNoneSkipsLateInterval(t *testing.T) {
	t.Parallel()
	db := mustStore(t)
	file := writePipeline(t, t.TempDir(), "schedule: \"@daily\"\ncatchup: none\n")
	r := newRecorder()
	s := newScheduler(db, file, r, "a", nil)
	if err := s.Once(context.Background(), at("2025-03-02T06:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if n := r.count(); n != 0 {
		t.Errorf("ran %v, want nothing: the interval ended 6 hours before", r.logicals())
	}
}

// TestOverlapSkip: an interval that comes due while the previous run of
// the pipeline is still going, under another scheduler, is skipped; with
// queue it runs once the first run ends.
func TestOverlap(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{"skip", "queue"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			db := mustStore(t)
			file := writePipeline(t, t.TempDir(), "schedule: \"@every 1m\"\noverlap: "+policy+"\n")
			r := newRecorder()
			r.block = make(chan struct{})
			var log bytes.Buffer
			a := newScheduler(db, file, r, "a", &log)
			b := newScheduler(db, file, r, "b", &log)
			ctx := context.Background()
			aDone := make(chan error, 1)
			go func() { aDone <- a.Once(ctx, at("2025-03-01T10:01:05Z")) }()
			<-r.started // a's run of 10:00 is going
			bDone := make(chan error, 1)
			go func() { bDone <- b.Once(ctx, at("2025-03-01T10:02:05Z")) }()
			if policy == "skip" {
				if err := <-bDone; err != nil {
					t.Fatal(err)
				}
				if n := r.count(); n != 1 {
					t.Fatalf("b started a run while a's was going: %v", r.logicals())
				}
				close(r.block)
				if err := <-aDone; err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(log.String(), "msg=skip") {
					t.Errorf("no skip decision logged:\n%s", log.String())
				}
				st, _ := db.Schedule(ctx, "p")
				if !st.Last.Equal(at("2025-03-01T10:01:00Z")) || st.Holder != "" {
					t.Errorf("state after skip = %+v, want 10:01 handled and no lease held", st)
				}
				return
			}
			// queue: b waits for a's run, then runs its own.
			select {
			case err := <-bDone:
				t.Fatalf("b returned (%v) while a's run was still going", err)
			case <-time.After(50 * time.Millisecond):
			}
			if n := r.count(); n != 1 {
				t.Fatalf("b did not wait: %v", r.logicals())
			}
			close(r.block)
			if err := <-aDone; err != nil {
				t.Fatal(err)
			}
			if err := <-bDone; err != nil {
				t.Fatal(err)
			}
			if got := r.logicals(); !slices.Equal(got, []string{"2025-03-01T10:00:00Z", "2025-03-01T10:01:00Z"}) {
				t.Errorf("runs %v, want 10:00 then the queued 10:01", got)
			}
		})
	}
}

// TestTwoSchedulersOneStore: schedulers evaluating the same time on one
// store start each due interval once between them.
func TestTwoSchedulersOneStore(t *testing.T) {
	t.Parallel()
	db := mustStore(t)
	dir := t.TempDir()
	file := writePipeline(t, dir, "schedule: \"@hourly\"\ncatchup: all\n")
	r := newRecorder()
	ctx := context.Background()
	// Both first see the pipeline at 10:00:30, then both come back at
	// 13:00:30 and catch up 10:00, 11:00 and 12:00.
	for _, now := range []string{"2025-03-01T10:00:30Z", "2025-03-01T13:00:30Z"} {
		var wg sync.WaitGroup
		for _, name := range []string{"a", "b", "c"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each opens the store itself, as another process would.
				other, err := store.Open(db.Path(), &store.Options{Timeout: 5 * time.Second})
				if err != nil {
					t.Error(err)
					return
				}
				defer other.Close()
				s := &schedule.Scheduler{Files: []string{file}, Store: other, Run: r.run, Holder: name, Poll: 5 * time.Millisecond}
				if err := s.Once(ctx, at(now)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	got := r.logicals()
	slices.Sort(got)
	want := []string{"2025-03-01T09:00:00Z", "2025-03-01T10:00:00Z", "2025-03-01T11:00:00Z", "2025-03-01T12:00:00Z"}
	if !slices.Equal(got, want) {
		t.Errorf("runs %v, want each interval once: %v", got, want)
	}
}

// TestScheduleAcrossDST: a 09:00 Europe/London schedule keeps 09:00 local
// across the spring change; the interval over it is 23 hours and the
// logical dates are the local ones.
func TestScheduleAcrossDST(t *testing.T) {
	t.Parallel()
	if _, err := time.LoadLocation("Europe/London"); err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	db := mustStore(t)
	file := writePipeline(t, t.TempDir(), "schedule: \"0 9 * * *\"\ntimezone: Europe/London\ncatchup: all\n")
	r := newRecorder()
	s := newScheduler(db, file, r, "a", nil)
	ctx := context.Background()
	if err := s.Once(ctx, at("2025-03-29T09:00:30Z")); err != nil { // 09:00 GMT
		t.Fatal(err)
	}
	if err := s.Once(ctx, at("2025-03-31T08:00:30Z")); err != nil { // 09:00 BST
		t.Fatal(err)
	}
	want := []string{"2025-03-28T09:00:00Z", "2025-03-29T09:00:00Z", "2025-03-30T08:00:00Z"}
	if got := r.logicals(); !slices.Equal(got, want) {
		t.Fatalf("runs %v, want %v", got, want)
	}
	london, _ := time.LoadLocation("Europe/London")
	over := r.calls[1]
	if d := over.IntervalEnd.Sub(over.IntervalStart); d != 23*time.Hour {
		t.Errorf("interval over the change lasts %v, want 23h", d)
	}
	if ds := over.Vars(london)["ds"]; ds != "2025-03-29" {
		t.Errorf("ds = %s, want 2025-03-29", ds)
	}
	if ts := r.calls[2].Vars(london)["ts"]; ts != "2025-03-30T09:00:00+01:00" {
		t.Errorf("ts = %s, want 09:00 local time", ts)
	}
}

// TestTriggerFile: a dropped file gives one run once it has settled, none
// while it may still be being written, none again for the same content,
// and a new one when it changes.
func TestTriggerFile(t *testing.T) {
	t.Parallel()
	db := mustStore(t)
	dir := t.TempDir()
	file := writePipeline(t, dir, "trigger: {files: \"incoming/*.csv\", settle: 5s}\n")
	if err := os.MkdirAll(filepath.Join(dir, "incoming"), 0o755); err != nil {
		t.Fatal(err)
	}
	drop := filepath.Join(dir, "incoming", "batch1.csv")
	written := at("2025-03-01T10:00:00Z")
	write := func(text string, mod time.Time) {
		if err := os.WriteFile(drop, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(drop, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	write("x\n1\n", written)
	r := newRecorder()
	s := newScheduler(db, file, r, "a", nil)
	ctx := context.Background()
	if err := s.Once(ctx, written.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := r.count(); n != 0 {
		t.Fatalf("ran for a file changed 2s ago (settle 5s): %v", r.calls)
	}
	for range 2 {
		if err := s.Once(ctx, written.Add(10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.count(); n != 1 {
		t.Fatalf("%d runs for one settled file, want 1", n)
	}
	if c := r.calls[0]; c.Trigger != engine.TriggerFile || c.File != "incoming/batch1.csv" {
		t.Errorf("run context %+v, want a trigger run for incoming/batch1.csv", c)
	}
	write("x\n1\n2\n", written.Add(time.Minute))
	if err := s.Once(ctx, written.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := r.count(); n != 2 {
		t.Errorf("%d runs after the file changed, want 2", n)
	}
}

// TestLoopStopsCleanly: cancelling Loop cancels the run going and returns.
func TestLoopStopsCleanly(t *testing.T) {
	t.Parallel()
	db := mustStore(t)
	file := writePipeline(t, t.TempDir(), "schedule: \"@every 1s\"\n")
	r := newRecorder()
	r.block = make(chan struct{}) // never closed: only cancellation ends it
	s := newScheduler(db, file, r, "a", nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Loop(ctx) }()
	<-r.started
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st, err := db.Schedule(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	if st.Holder != "" {
		t.Errorf("lease still held by %q after stopping", st.Holder)
	}
}

func TestBackfillIntervals(t *testing.T) {
	t.Parallel()
	spec, err := engine.ParseSpec("p.yaml", []byte("name: p\nschedule: \"@daily\"\nstages:\n  - id: a\n    uses: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	from, _ := schedule.ParseTime("2025-03-01", nil)
	to, _ := schedule.ParseTime("2025-03-03", nil)
	got, err := schedule.BackfillIntervals(spec, from, to, nil)
	if err != nil || len(got) != 3 || !got[0].Equal(at("2025-03-01T00:00:00Z")) || !got[2].Equal(at("2025-03-03T00:00:00Z")) {
		t.Fatalf("intervals = %v, %v; want 03-01, 03-02, 03-03", got, err)
	}
	left, _ := schedule.BackfillIntervals(spec, from, to, map[int64]bool{got[0].UnixNano(): true, got[1].UnixNano(): true})
	if len(left) != 1 || !left[0].Equal(got[2]) {
		t.Errorf("with two done: %v, want only 03-03", left)
	}
	if _, err := schedule.BackfillIntervals(spec, to, from, nil); err == nil {
		t.Error("--to before --from: no error")
	}
}

// TestOverlapInOneScheduler: an interval due while this scheduler's own
// run of the pipeline goes is skipped, queued, or replaces that run.
func TestOverlapInOneScheduler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy string
		want   []string // logical times run, in order
		status []engine.Status
	}{
		{"skip", []string{"2025-03-01T10:00:00Z"}, []engine.Status{engine.StatusSucceeded}},
		{"queue", []string{"2025-03-01T10:00:00Z", "2025-03-01T10:01:00Z"}, []engine.Status{engine.StatusSucceeded, engine.StatusSucceeded}},
		{"cancel_running", []string{"2025-03-01T10:00:00Z", "2025-03-01T10:01:00Z"}, []engine.Status{engine.StatusCancelled, engine.StatusSucceeded}},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			t.Parallel()
			db := mustStore(t)
			file := writePipeline(t, t.TempDir(), "schedule: \"@every 1m\"\noverlap: "+tt.policy+"\n")
			r := newRecorder()
			r.block = make(chan struct{})
			var statuses []engine.Status
			var mu sync.Mutex
			run := func(ctx context.Context, file string, rc engine.RunContext) (*engine.Run, error) {
				out, err := r.run(ctx, file, rc)
				mu.Lock()
				statuses = append(statuses, out.Status)
				mu.Unlock()
				return out, err
			}
			s := &schedule.Scheduler{Files: []string{file}, Store: db, Run: run, Holder: "a", Poll: 5 * time.Millisecond}
			ctx := context.Background()
			if err := s.Tick(ctx, at("2025-03-01T10:01:05Z")); err != nil {
				t.Fatal(err)
			}
			<-r.started // 10:00 is running
			if err := s.Tick(ctx, at("2025-03-01T10:02:05Z")); err != nil {
				t.Fatal(err)
			}
			if tt.policy == "cancel_running" {
				<-r.started // 10:01 replaced it
			}
			close(r.block)
			s.Wait()
			if got := r.logicals(); !slices.Equal(got, tt.want) {
				t.Errorf("ran %v, want %v", got, tt.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(statuses, tt.status) {
				t.Errorf("statuses %v, want %v", statuses, tt.status)
			}
		})
	}
}
