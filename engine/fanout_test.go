package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// fanRegistry holds one fan-out stage type, "squares": n units, unit k
// gives k*k (after a pause of `nap`), Reduce gives the squares in unit
// order as a table. fail_at and panic_at pick a unit that fails or
// panics; block_after makes every unit from that one on wait for the
// run's cancellation.
func fanRegistry(started *atomic.Int32) *engine.Registry {
	type unit struct {
		K int `json:"k"`
	}
	type result struct {
		Sq int64 `json:"sq"`
	}
	fo := &engine.FanOut{
		Units: func(ctx context.Context, sc *engine.StageContext) ([]json.RawMessage, error) {
			var out []json.RawMessage
			for k := range sc.Params.Int("n") {
				b, _ := json.Marshal(unit{K: k})
				out = append(out, b)
			}
			if sc.Params.Bool("fits") {
				sc.Progress(0, int64(len(out)+1), "fits")
			}
			return out, nil
		},
		RunUnit: func(ctx context.Context, sc *engine.StageContext, raw json.RawMessage) (json.RawMessage, error) {
			started.Add(1)
			var u unit
			if err := json.Unmarshal(raw, &u); err != nil {
				return nil, err
			}
			if b := sc.Params.Int("block_after"); b >= 0 && u.K >= b {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			// Later units finish first, so the order of results is the
			// runner's doing, not the timing's.
			time.Sleep(time.Duration(sc.Params.Int("n")-u.K) * sc.Params.Duration("nap"))
			switch u.K {
			case sc.Params.Int("fail_at"):
				return nil, fmt.Errorf("unit k=%d failed", u.K)
			case sc.Params.Int("panic_at"):
				var m map[int]int
				m[0] = 1 //nolint:staticcheck // SA5000 is the point: a nil map write, a runtime panic the runner must recover
			}
			return json.Marshal(result{Sq: int64(u.K * u.K)})
		},
		Reduce: func(ctx context.Context, sc *engine.StageContext, results []json.RawMessage) (*engine.Output, error) {
			v := &testValue{kind: engine.KindTable}
			for _, raw := range results {
				var r result
				if err := json.Unmarshal(raw, &r); err != nil {
					return nil, err
				}
				v.nums = append(v.nums, r.Sq)
			}
			if sc.Params.Bool("fits") {
				sc.Progress(int64(len(results)+1), int64(len(results)+1), "fits")
			}
			return &engine.Output{Value: v, Metrics: map[string]float64{"units": float64(len(results))}}, nil
		},
	}
	return engine.NewRegistry(&engine.StageType{Name: "squares", Group: "tune", Doc: "squares in units", Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "n", Type: engine.TypeInt, Default: 20, Doc: "units"},
			{Name: "nap", Type: engine.TypeDuration, Default: "0s", Doc: "pause per unit, times (n - k)"},
			{Name: "fits", Type: engine.TypeBool, Default: false, Doc: "count progress in fits, one more than the units"},
			{Name: "fail_at", Type: engine.TypeInt, Default: -1, Doc: "unit that fails"},
			{Name: "panic_at", Type: engine.TypeInt, Default: -1, Doc: "unit that panics"},
			{Name: "block_after", Type: engine.TypeInt, Default: -1, Doc: "units from here wait for cancellation"},
		},
		FanOut: fo})
}

func runFan(ctx context.Context, t *testing.T, with string) (*engine.Run, *engine.Registry, *atomic.Int32) {
	t.Helper()
	var started atomic.Int32
	reg := fanRegistry(&started)
	plan := mustPlan(t, reg, "name: p\nstages:\n  - {id: sq, uses: squares, with: "+with+"}\n")
	run, err := (&engine.Executor{Recorder: &memRecorder{}}).Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	return run, reg, &started
}

func TestFanOutResultsInUnitOrderAndProgressInUnits(t *testing.T) {
	t.Parallel()
	for _, with := range []string{"{n: 12, nap: 1ms}", "{n: 12, nap: 1ms, fits: true}"} {
		var started atomic.Int32
		reg := fanRegistry(&started)
		plan := mustPlan(t, reg, "name: p\nstages:\n  - {id: sq, uses: squares, with: "+with+"}\n")
		b := &engine.Broker{}
		ctx, cancel := context.WithCancel(context.Background())
		events := b.Subscribe(ctx)
		var units []int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for e := range events {
				if e.Kind == engine.EventProgress && e.Stage == "sq" {
					units = append(units, e.Progress.Done)
				}
			}
		}()
		st, _ := reg.Lookup("squares")
		run, err := (&engine.Executor{Events: b}).Run(context.Background(), plan)
		cancel()
		<-done
		if err != nil || run.Status != engine.StatusSucceeded {
			t.Fatalf("%s: run %v %v", with, run.Status, err)
		}
		if st.Run == nil {
			t.Error("a FanOut stage type without Run gets FanOut.Run")
		}
		s, _ := run.Stage("sq")
		wantUnit, wantTotal := "units", int64(12)
		if strings.Contains(with, "fits") {
			wantUnit, wantTotal = "fits", 13
		}
		if p := s.Progress; p.Unit != wantUnit || p.Total != wantTotal || p.Done != wantTotal {
			t.Errorf("%s: progress %+v, want %d/%d %s", with, p, wantTotal, wantTotal, wantUnit)
		}
		if s.Metrics["units"] != 12 {
			t.Errorf("%s: metrics %v", with, s.Metrics)
		}
		// Progress counted every finished unit, one at a time.
		var last int64 = -1
		for _, d := range units {
			if d < last {
				t.Errorf("%s: progress went back: %v", with, units)
				break
			}
			last = d
		}
	}
}

// TestFanOutValue checks Reduce saw the results in unit order on one and
// on several workers.
func TestFanOutValue(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			var started atomic.Int32
			reg := fanRegistry(&started)
			plan := mustPlan(t, reg, "name: p\nstages:\n  - {id: sq, uses: squares, with: {n: 9, nap: 1ms}}\n")
			st, _ := reg.Lookup("squares")
			sc := engine.NewStageContext(plan, plan.Stages[0], nil, nil)
			out, err := st.FanOut.Run(context.Background(), sc)
			if err != nil {
				t.Fatal(err)
			}
			got := out.Value.(*testValue).nums
			want := []int64{0, 1, 4, 9, 16, 25, 36, 49, 64}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("results %v, want %v (unit order)", got, want)
			}
		})
	}
}

func TestFanOutUnitFailureFailsTheStage(t *testing.T) {
	t.Parallel()
	for with, want := range map[string]string{
		"{n: 30, fail_at: 3}":  "unit k=3 failed",
		"{n: 30, panic_at: 5}": "unit 6: panic:",
	} {
		run, _, started := runFan(context.Background(), t, with)
		s, _ := run.Stage("sq")
		if run.Status != engine.StatusFailed || s.Status != engine.StatusFailed || !strings.Contains(s.Error, want) {
			t.Errorf("%s: run %s, stage %s %q, want failed with %q", with, run.Status, s.Status, s.Error, want)
		}
		if n := started.Load(); n >= 30 {
			t.Logf("%s: %d units started (a failure stops the rest when it comes early enough)", with, n)
		}
	}
}

func TestFanOutCancelStopsTheUnits(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Int32
	reg := fanRegistry(&started)
	plan := mustPlan(t, reg, "name: p\nstages:\n  - {id: sq, uses: squares, with: {n: 40, block_after: 4}}\n")
	b := &engine.Broker{}
	events := b.Subscribe(ctx)
	go func() {
		for e := range events {
			// Four units done: cancel while the others wait.
			if e.Kind == engine.EventProgress && e.Stage == "sq" && e.Progress.Done == 4 {
				cancel()
			}
		}
	}()
	run, err := (&engine.Executor{Events: b}).Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := run.Stage("sq")
	if run.Status != engine.StatusCancelled || s.Status != engine.StatusCancelled {
		t.Errorf("run %s, stage %s %q, want cancelled", run.Status, s.Status, s.Error)
	}
	if n := started.Load(); n >= 40 {
		t.Errorf("%d units started after the cancel, want the rest not started", n)
	}
	if p := s.Progress; p.Done != 4 {
		t.Errorf("progress %+v, want the 4 finished units", p)
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Error("not cancelled")
	}
}

func TestFanOutRejectsLargeUnits(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", engine.MaxUnitBytes)
	f := &engine.FanOut{
		Units: func(context.Context, *engine.StageContext) ([]json.RawMessage, error) {
			return []json.RawMessage{json.RawMessage(`"` + big + `"`)}, nil
		},
		RunUnit: func(context.Context, *engine.StageContext, json.RawMessage) (json.RawMessage, error) { return nil, nil },
		Reduce: func(context.Context, *engine.StageContext, []json.RawMessage) (*engine.Output, error) {
			return nil, nil
		},
	}
	var started atomic.Int32
	reg := fanRegistry(&started)
	plan := mustPlan(t, reg, "name: p\nstages:\n  - {id: sq, uses: squares}\n")
	_, err := f.Run(context.Background(), engine.NewStageContext(plan, plan.Stages[0], nil, nil))
	if err == nil || !strings.Contains(err.Error(), "descriptor of") {
		t.Errorf("err %v, want the descriptor's size refused", err)
	}
}
