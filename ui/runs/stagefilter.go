package runs

import (
	"fmt"
	"strings"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/query"
)

// stageSubject is a stage of a run as a query sees it: free text over its
// id, stage type, status, what it gives, why it ran, its error and its
// metrics; its metrics by name (accuracy>0.9) and by STAGE.NAME; its own
// parameters (param.STAGE.NAME); the fields status, uses and kind; and
// since: from when it started.
func stageSubject(r *engine.Run, s *engine.StageRun) *query.Item {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %s", s.ID, s.Uses, s.Status, s.Kind)
	if s.Reason != "" {
		b.WriteString(" " + s.Reason)
	}
	if s.Error != "" {
		b.WriteString(" " + s.Error)
	}
	metrics := make(map[string]float64, 2*len(s.Metrics))
	for _, k := range common.SortedKeys(s.Metrics) {
		fmt.Fprintf(&b, " %s %.4f", k, s.Metrics[k])
		metrics[k] = s.Metrics[k]
		metrics[s.ID+"."+k] = s.Metrics[k]
	}
	it := &query.Item{
		Search:  strings.ToLower(b.String()),
		Metrics: metrics,
		Fields: map[string][]string{
			"status": {s.Status.String()},
			"uses":   {s.Uses},
			"kind":   {s.Kind.String()},
		},
		Started: s.Started,
	}
	if p, ok := r.Params[s.ID]; ok {
		it.Params = map[string]map[string]any{s.ID: p}
	}
	return it
}

// refilter sets shown to the stages the filter keeps and, when the
// selected stage is no longer among them, selects the first that is.
func (d *detail) refilter() {
	d.shown = d.shown[:0]
	if d.run == nil {
		return
	}
	for i := range d.run.Stages {
		if d.filter.Empty() || d.filter.Match(stageSubject(d.run, &d.run.Stages[i])) {
			d.shown = append(d.shown, i)
		}
	}
	for _, i := range d.shown {
		if i == d.stage {
			return
		}
	}
	if len(d.shown) > 0 {
		d.stage = d.shown[0]
	}
}

// shownAt is the position of the selected stage among those shown, or -1.
func (d *detail) shownAt() int {
	for p, i := range d.shown {
		if i == d.stage {
			return p
		}
	}
	return -1
}
