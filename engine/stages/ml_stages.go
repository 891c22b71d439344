package stages

import (
	"fmt"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ml"
)

// Model is what flows along a model edge: a fitted estimator with the
// split it was fitted on (its chain, schema and test set).
type Model struct {
	Stage     string
	Type      string // the train stage type (the estimator)
	Params    map[string]any
	Estimator ml.Estimator
	Split     *Split
	Features  []string
	Metrics   map[string]float64 // test scores computed when fitted
	Search    *ml.SearchResult   // tuning stages: every candidate
	File      []byte             // the model file
}

// Report is what flows along a report edge: metrics and the details
// behind them (confusion matrix, curves, importances, folds), typed as
// engine.ReportFile, which reads the artifact back; Report adds the
// methods of an engine.Value.
type Report engine.ReportFile

// mlStages are the split, preprocess, train, tune, evaluate and export
// stage types.
func mlStages() []*engine.StageType {
	out := []*engine.StageType{withMetrics(splitStage(), splitMetrics)}
	out = append(out, preprocessStages()...)
	for _, d := range estimators {
		out = append(out, withMetrics(trainStage(d), fitMetrics))
	}
	out = append(out, withMetrics(searchStage("grid_search"), searchMetrics), withMetrics(searchStage("random_search"), searchMetrics))
	out = append(out, withMetrics(evaluateStage(), evaluateMetrics), withMetrics(crossValidateStage(), crossValidateMetrics), exportStage())
	return out
}

// suggest is " (did you mean X?)" for a likely typo of one of names, or "".
func suggest(s string, names []string) string {
	if d := engine.DidYouMean(s, names); d != "" {
		return fmt.Sprintf(" (did you mean %q?)", d)
	}
	return ""
}

func splitOf(v engine.Value) (*Split, error) {
	s, ok := v.(*Split)
	if !ok || s == nil {
		return nil, fmt.Errorf("input is not a split")
	}
	return s, nil
}

func modelOf(v engine.Value) (*Model, error) {
	m, ok := v.(*Model)
	if !ok || m == nil {
		return nil, fmt.Errorf("input is not a model")
	}
	return m, nil
}
