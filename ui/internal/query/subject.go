// What a query matches: Item, a subject built from plain values, and Run,
// a run summary with its search text.

package query

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// Item is a ready-made Subject built from plain values.
type Item struct {
	Search  string // free text, lower case
	Metrics map[string]float64
	Params  map[string]map[string]any
	Fields  map[string][]string
	Started time.Time
}

// Text returns the search text.
func (it *Item) Text() string { return it.Search }

// Metric looks a metric up by name, exactly, then ignoring case.
func (it *Item) Metric(name string) (float64, bool) { return lookup(it.Metrics, name) }

// Param looks a stage's parameter up.
func (it *Item) Param(stage, name string) (any, bool) {
	ps, ok := lookup(it.Params, stage)
	if !ok {
		return nil, false
	}
	return lookup(ps, name)
}

// Field returns a field's values.
func (it *Item) Field(key string) []string { return it.Fields[key] }

// Time returns when the item started.
func (it *Item) Time() time.Time { return it.Started }

func lookup[V any](m map[string]V, name string) (V, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// Run is a run summary as a Subject.
type Run struct {
	S      *engine.RunSummary
	Search string // RunText(S)
}

// NewRun returns the subject of a run summary, its search text computed
// once.
func NewRun(s *engine.RunSummary) *Run { return &Run{S: s, Search: RunText(s)} }

// RunText is the free text of a run: its number (#12 and 12), pipeline,
// status, file, metrics, tags and note, in lower case.
func RunText(s *engine.RunSummary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %d %s %s %s", s.ID, s.ID, s.Pipeline, s.Status, s.File)
	if s.Sweep != "" {
		b.WriteString(" sweep " + s.Sweep)
	}
	for _, k := range sortedKeys(s.Metrics) {
		fmt.Fprintf(&b, " %s %.4f", k, s.Metrics[k])
	}
	for _, t := range s.Tags {
		b.WriteString(" " + t)
	}
	if s.Note != "" {
		b.WriteString(" " + s.Note)
	}
	return strings.ToLower(b.String())
}

// Text returns the run's search text.
func (r *Run) Text() string { return r.Search }

// Metric returns one of the run's headline metrics.
func (r *Run) Metric(name string) (float64, bool) { return lookup(r.S.Metrics, name) }

// Param returns a stage's parameter as the run used it.
func (r *Run) Param(stage, name string) (any, bool) {
	ps, ok := r.S.Params[stage]
	if !ok {
		return nil, false
	}
	return lookup(ps, name)
}

// Field returns status, pipeline and tag.
func (r *Run) Field(key string) []string {
	switch key {
	case "status":
		return []string{r.S.Status.String()}
	case "pipeline":
		return []string{r.S.Pipeline}
	case "tag":
		return r.S.Tags
	case "sweep":
		if r.S.Sweep != "" {
			return []string{r.S.Sweep}
		}
	}
	return nil
}

// FieldValue gives status, pipeline and sweep without a slice; tag has
// several values and goes through Field.
func (r *Run) FieldValue(key string) (string, bool) {
	switch key {
	case "status":
		return r.S.Status.String(), true
	case "pipeline":
		return r.S.Pipeline, true
	case "sweep":
		return r.S.Sweep, true
	}
	return "", false
}

// Time is when the run started.
func (r *Run) Time() time.Time { return r.S.Started }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
