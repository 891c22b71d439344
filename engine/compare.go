package engine

import (
	"math"
	"sort"
)

// Comparison sets runs side by side, transposed: runs are columns and
// keys (stage.param, stage.metric) are rows, so many parameters still
// read down the page.
type Comparison struct {
	Runs      []int64
	Pipelines []string
	Tags      [][]string  // each run's tags
	Notes     []string    // each run's note
	Params    []ParamRow  // parameters, only those that differ unless all was asked
	Metrics   []MetricRow // every metric any run reported
	// FirstDiff is the first stage, in pipeline order, whose fingerprint
	// differs between the runs ("" when every shared stage matches):
	// where the runs' results start to part.
	FirstDiff string
}

// ParamRow is one parameter across runs.
type ParamRow struct {
	Key     string   // "stage.param"
	Values  []string // as a pipeline file writes them (DisplayValue); "" where a run lacks it
	Differs bool
}

// MetricRow is one metric across runs.
type MetricRow struct {
	Key            string     // "stage.metric"
	Values         []*float64 // nil where a run lacks it
	Deltas         []*float64 // value minus the first run's (nil when either is missing)
	Best           int        // index of the best run, -1 when none, all equal or Unranked
	Better         Better     // as the stage type declares the metric (Registry.Better)
	HigherIsBetter bool       // Better == Higher
}

// Compare builds the comparison of runs, in the order given. With all
// false, parameters equal across every run are left out. Which way each
// metric improves comes from its declaration in reg (Registry.Better).
func Compare(runs []*Run, all bool, reg *Registry) *Comparison {
	c := &Comparison{}
	for _, r := range runs {
		c.Runs = append(c.Runs, r.ID)
		c.Pipelines = append(c.Pipelines, r.Pipeline)
		c.Tags = append(c.Tags, r.Tags)
		c.Notes = append(c.Notes, r.Note)
	}
	n := len(runs)
	// Parameters.
	paramVals := map[string][]string{}
	for i, r := range runs {
		for stage, params := range r.Params {
			for name, v := range params {
				key := stage + "." + name
				if paramVals[key] == nil {
					paramVals[key] = make([]string, n)
				}
				paramVals[key][i] = DisplayValue(v)
			}
		}
	}
	for _, key := range sortedKeys(paramVals) {
		vals := paramVals[key]
		differs := false
		for _, v := range vals[1:] {
			if v != vals[0] {
				differs = true
			}
		}
		if differs || all {
			c.Params = append(c.Params, ParamRow{Key: key, Values: vals, Differs: differs})
		}
	}
	// Metrics, in stage order of the first run that has each.
	metricVals := map[string][]*float64{}
	better := map[string]Better{}
	var order []string
	for i, r := range runs {
		for _, s := range r.Stages {
			for _, name := range sortedKeys(s.Metrics) {
				key := s.ID + "." + name
				if metricVals[key] == nil {
					metricVals[key] = make([]*float64, n)
					order = append(order, key)
					better[key] = reg.Better(s.Uses, name)
				}
				v := s.Metrics[name]
				metricVals[key][i] = &v
			}
		}
	}
	for _, key := range order {
		vals := metricVals[key]
		row := MetricRow{Key: key, Values: vals, Deltas: make([]*float64, n), Best: -1, Better: better[key], HigherIsBetter: better[key] == Higher}
		for i, v := range vals {
			if v != nil && vals[0] != nil {
				d := *v - *vals[0]
				row.Deltas[i] = &d
			}
		}
		best, equal := math.NaN(), true
		for i, v := range vals {
			if v == nil || math.IsNaN(*v) {
				continue
			}
			if !math.IsNaN(best) && *v != best {
				equal = false
			}
			if row.Best < 0 || (row.HigherIsBetter && *v > best) || (!row.HigherIsBetter && *v < best) {
				if row.Best >= 0 && *v != best {
					equal = false
				}
				row.Best, best = i, *v
			}
		}
		if (equal && n > 1) || row.Better == Unranked {
			row.Best = -1
		}
		c.Metrics = append(c.Metrics, row)
	}
	// First stage whose fingerprint differs.
	if n > 1 {
		for _, s := range runs[0].Stages {
			for _, r := range runs[1:] {
				o, ok := r.Stage(s.ID)
				if !ok || o.Fingerprint != s.Fingerprint {
					c.FirstDiff = s.ID
					break
				}
			}
			if c.FirstDiff != "" {
				break
			}
		}
	}
	return c
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
