package engine_test

import (
	"context"
	"math"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// TestCompareRanksByDeclaration marks the best run of each metric by the
// direction its stage type declares, not by its name: a score named like
// a loss is still a score, counts are not ranked, and a metric nothing
// declares is ranked higher-is-better (engine.DefaultBetter).
func TestCompareRanksByDeclaration(t *testing.T) {
	t.Parallel()
	run := func(context.Context, *engine.StageContext) (*engine.Output, error) { return &engine.Output{}, nil }
	reg := engine.NewRegistry(&engine.StageType{Name: "eval", Run: run, Metrics: []engine.Metric{
		{Name: "error_rate_skill", Better: engine.Higher}, // a score whose name says "error"
		{Name: "accuracy_loss", Better: engine.Lower},
		{Name: "rows", Better: engine.Unranked},
		{Name: "fold*", Better: engine.Lower},
		{Name: "fold_mean", Better: engine.Higher}, // exact beats the pattern
	}})
	mk := func(id int64, m map[string]float64) *engine.Run {
		return &engine.Run{ID: id, Stages: []engine.StageRun{
			{ID: "s", Uses: "eval", Metrics: m},
			{ID: "gone", Uses: "removed_type", Metrics: map[string]float64{"loss": m["loss"]}},
		}}
	}
	runs := []*engine.Run{
		mk(1, map[string]float64{"error_rate_skill": 0.2, "accuracy_loss": 0.5, "rows": 10, "fold1": 0.3, "fold_mean": 0.3, "undeclared": 1, "loss": 1}),
		mk(2, map[string]float64{"error_rate_skill": 0.9, "accuracy_loss": 0.1, "rows": 20, "fold1": 0.1, "fold_mean": 0.1, "undeclared": 2, "loss": 2}),
	}
	want := map[string]struct {
		best   int
		better engine.Better
	}{
		"s.error_rate_skill": {1, engine.Higher},
		"s.accuracy_loss":    {1, engine.Lower},
		"s.rows":             {-1, engine.Unranked},
		"s.fold1":            {1, engine.Lower},
		"s.fold_mean":        {0, engine.Higher},
		"s.undeclared":       {1, engine.DefaultBetter},
		"s.loss":             {1, engine.DefaultBetter},
		"gone.loss":          {1, engine.DefaultBetter},
	}
	c := engine.Compare(runs, false, reg)
	if len(c.Metrics) != len(want) {
		t.Fatalf("got %d metric rows, want %d", len(c.Metrics), len(want))
	}
	for _, row := range c.Metrics {
		w, ok := want[row.Key]
		if !ok {
			t.Errorf("unexpected row %s", row.Key)
			continue
		}
		if row.Best != w.best || row.Better != w.better || row.HigherIsBetter != (w.better == engine.Higher) {
			t.Errorf("%s: got best %d, %s (higher %v); want best %d, %s", row.Key, row.Best, row.Better, row.HigherIsBetter, w.best, w.better)
		}
	}
	// Without a catalog every metric is ranked by the default.
	for _, row := range engine.Compare(runs, false, nil).Metrics {
		if row.Better != engine.DefaultBetter {
			t.Errorf("nil registry, %s: got %s, want %s", row.Key, row.Better, engine.DefaultBetter)
		}
	}
}

// TestFormatMetric pins the one way a metric's value is written.
func TestFormatMetric(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		v    float64
		want string
	}{{0.93333, "0.9333"}, {120, "120"}, {-2, "-2"}, {math.NaN(), "NaN"}, {math.Inf(1), "+Inf"}, {1e16, "10000000000000000.0000"}} {
		if got := engine.FormatMetric(tt.v); got != tt.want {
			t.Errorf("FormatMetric(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	m := map[string]float64{"rmse": 0.51234, "r2": 0.9, "rows": 30}
	if got, want := engine.MetricsLine(m, 0), "r2=0.9000 rmse=0.5123 rows=30"; got != want {
		t.Errorf("MetricsLine = %q, want %q", got, want)
	}
	if got, want := engine.MetricsLine(m, 2), "r2=0.9000 rmse=0.5123 (+1)"; got != want {
		t.Errorf("MetricsLine(max 2) = %q, want %q", got, want)
	}
}
