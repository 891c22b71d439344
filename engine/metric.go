package engine

import (
	"fmt"
	"math"
	"strings"
)

// Better says which way a metric improves: what Compare reads to mark the
// best run. Each stage type declares it for every metric it reports
// (StageType.Metrics); nothing guesses it from a metric's name.
type Better uint8

// Directions of a metric.
const (
	// Higher: a score; larger is better (accuracy, r2, roc_auc).
	Higher Better = iota
	// Lower: a loss, an error or a spread; smaller is better (rmse,
	// log_loss, inertia, std).
	Lower
	// Unranked: a count or a setting (rows, candidates, a chosen
	// parameter); no run is marked best.
	Unranked
)

// DefaultBetter ranks a metric that no stage type declares (a run
// recorded by a stage type since removed from the catalog, or by a
// catalog that declares none): as a score, higher is better.
const DefaultBetter = Higher

// String names the direction as `sluice stages` shows it.
func (b Better) String() string {
	switch b {
	case Higher:
		return "higher is better"
	case Lower:
		return "lower is better"
	case Unranked:
		return "not ranked"
	}
	return fmt.Sprintf("better(%d)", b)
}

// Metric declares one metric a stage type reports.
type Metric struct {
	// Name is the metric's name as the stage reports it. A trailing *
	// stands for any suffix ("fold*" is fold1, fold2, …); an exact name
	// wins over a pattern, and a longer pattern over a shorter one.
	Name   string
	Better Better
	Doc    string // one line
}

// Metric returns the declaration of the named metric.
func (t *StageType) Metric(name string) (Metric, bool) {
	best, found := Metric{}, false
	for _, m := range t.Metrics {
		prefix, pattern := strings.CutSuffix(m.Name, "*")
		switch {
		case !pattern && m.Name == name:
			return m, true
		case pattern && strings.HasPrefix(name, prefix) && (!found || len(m.Name) > len(best.Name)):
			best, found = m, true
		}
	}
	return best, found
}

// Better returns which way the named metric of a stage of the named type
// improves: its declaration, or DefaultBetter when the type is not in the
// catalog or does not declare it. A nil registry gives DefaultBetter.
func (r *Registry) Better(uses, metric string) Better {
	if r == nil {
		return DefaultBetter
	}
	t, ok := r.Lookup(uses)
	if !ok {
		return DefaultBetter
	}
	if m, ok := t.Metric(metric); ok {
		return m.Better
	}
	return DefaultBetter
}

// FormatMetric writes a metric's value as sluice shows it everywhere
// (the command line, the workbench, stage logs): a whole number as such,
// any other with 4 decimals, NaN and ±Inf by name.
func FormatMetric(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 0):
		return fmt.Sprint(v)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.4f", v)
}

// MetricsLine writes up to max metrics (0: all) as "name=value" sorted by
// name and separated by spaces, "(+N)" counting the ones left out: how
// `sluice run` lists a stage's metrics and stages log theirs.
func MetricsLine(m map[string]float64, max int) string {
	keys := sortedKeys(m)
	var parts []string
	for i, k := range keys {
		if max > 0 && i == max {
			parts = append(parts, fmt.Sprintf("(+%d)", len(keys)-max))
			break
		}
		parts = append(parts, k+"="+FormatMetric(m[k]))
	}
	return strings.Join(parts, " ")
}
