package stages_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// TestReportReadsBackTyped: what evaluate and cross_validate keep as
// their report reads back whole as engine.ReportFile, the one typed
// reading that `sluice report`, the report view and the model view's
// confusion matrix share: every key a stage writes is a field of it, and
// the typed report written again gives the recorded bytes.
func TestReportReadsBackTyped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		check      func(t *testing.T, d engine.ReportDetails)
	}{
		{"classifier", head("iris", "species") + "  - {id: model, uses: random_forest_classifier, with: {n_estimators: 10}}\n  - {id: score, uses: evaluate}\n",
			func(t *testing.T, d engine.ReportDetails) {
				if len(d.Classes) != 3 || len(d.Confusion) != 3 || len(d.Confusion[0]) != 3 {
					t.Errorf("classes %v, confusion %v: want 3 classes and a 3×3 matrix", d.Classes, d.Confusion)
				}
				n := 0
				for _, row := range d.Confusion {
					for _, c := range row {
						n += c
					}
				}
				if n != d.TestRows || n == 0 {
					t.Errorf("confusion counts %d rows, test_rows %d", n, d.TestRows)
				}
				if len(d.Curves) != 3 || len(d.Curves[0].FPR) == 0 || len(d.Importances) == 0 {
					t.Errorf("curves %d, importances %d: want 3 curves with points and importances", len(d.Curves), len(d.Importances))
				}
			}},
		{"regressor", head("diabetes", "progression") + "  - {id: model, uses: ridge}\n  - {id: score, uses: evaluate}\n",
			func(t *testing.T, d engine.ReportDetails) {
				if d.Points == nil || len(d.Points.Predicted) == 0 || len(d.Points.Predicted) != len(d.Points.Residual) {
					t.Errorf("residual points %+v", d.Points)
				}
				if d.Histogram == nil || len(d.Histogram.Edges) != len(d.Histogram.Counts)+1 {
					t.Errorf("residual histogram %+v", d.Histogram)
				}
			}},
		{"cross_validate", head("iris", "species") + "  - {id: score, uses: cross_validate, needs: [scale], with: {model: gaussian_nb, cv: 3}}\n",
			func(t *testing.T, d engine.ReportDetails) {
				if len(d.Folds) != 3 || d.Model != "gaussian_nb" {
					t.Errorf("folds %v, model %q: want 3 folds of gaussian_nb", d.Folds, d.Model)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			run, arts := runML(t, mlPipeline(t, tt.text))
			b := arts["score/report"]
			rep, err := engine.DecodeReport(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			tt.check(t, rep.Details)
			var whole struct {
				Details json.RawMessage `json:"details"`
			}
			if err := json.Unmarshal(b, &whole); err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(whole.Details))
			dec.DisallowUnknownFields()
			var d engine.ReportDetails
			if err := dec.Decode(&d); err != nil {
				t.Errorf("the report keeps a part engine.ReportDetails does not read: %v", err)
			}
			st, _ := run.Stage("score")
			for k, v := range st.Metrics {
				if rep.Metrics[k] != v {
					t.Errorf("metric %s: report %v, stage %v", k, rep.Metrics[k], v)
				}
			}
			// Written back as JSON, the report is what was recorded, byte
			// for byte.
			out, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, b) {
				t.Errorf("the report marshalled back differs from the recorded one:\n%s\n%s", out, b)
			}
		})
	}
}
