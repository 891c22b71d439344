package cli

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/ui"
)

// TestReport runs iris (a classifier) and diabetes (regressors), then
// reads their reports as JSON and text, and sees the report view draw a
// ROC chart for iris and residuals for diabetes.
func TestReport(t *testing.T) {
	dir, db := sampleDir(t)
	for _, f := range []string{"sample-data/iris.yaml", "sample-data/diabetes_regression.yaml"} {
		if _, stderr, code := sluice(t, dir, "--db", db, "run", f); code != ExitOK {
			t.Fatalf("run %s: exit %d: %s", f, code, stderr)
		}
	}
	out, stderr, code := sluice(t, dir, "--db", db, "report", "1", "--json")
	if code != ExitOK {
		t.Fatalf("report 1: exit %d: %s", code, stderr)
	}
	var doc struct {
		Reports []struct {
			Stage   string `json:"stage"`
			Details struct {
				Curves []struct {
					Class  string    `json:"class"`
					FPR    []float64 `json:"fpr"`
					AUC    float64   `json:"roc_auc"`
					Recall []float64 `json:"recall"`
				} `json:"class_curves"`
				Confusion [][]int `json:"confusion_matrix"`
			} `json:"details"`
		} `json:"reports"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Reports) != 1 || len(doc.Reports[0].Details.Curves) != 3 || len(doc.Reports[0].Details.Confusion) != 3 {
		t.Fatalf("iris report: want one report with 3 class curves and a 3×3 confusion matrix, got %s", out)
	}
	for _, c := range doc.Reports[0].Details.Curves {
		if len(c.FPR) < 2 || len(c.Recall) < 2 || c.AUC < 0.9 || c.AUC > 1 {
			t.Errorf("class %s: a curve of %d ROC and %d PR points, AUC %v", c.Class, len(c.FPR), len(c.Recall), c.AUC)
		}
	}
	out, _, code = sluice(t, dir, "--db", db, "report", "2", "--stage", "ridge_score")
	if code != ExitOK || !strings.Contains(out, "RESIDUALS (true − predicted)") || !strings.Contains(out, "r2") {
		t.Errorf("diabetes report as text:\n%s", out)
	}
	if _, stderr, code = sluice(t, dir, "--db", db, "report", "2", "--stage", "train"); code != ExitInvalid || !strings.Contains(stderr, "keeps no report") {
		t.Errorf("a stage without a report: exit %d %q", code, stderr)
	}

	// The report view.
	t.Chdir(dir)
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, cfg: &Config{DBPath: db}, reg: stages.Registry()}
	if err := e.resolveConfig(); err != nil {
		t.Fatal(err)
	}
	store, err := e.openStore()
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	m := ui.New(e.ctx, e.workbenchDeps([]string{"sample-data"}, nil, store))
	defer m.Shutdown(5 * time.Second)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 36))
	tm.Send(keyMsg("3"))
	waitScreen(t, tm, "RUNS", "diabetes_regression")
	tm.Send(keyMsg("v"))
	waitScreen(t, tm, "RESIDUALS VS PREDICTED")
	tm.Send(keyMsg("G")) // not a key of the report: scrolling is ↑/↓
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	tm.Send(keyMsg("j"))
	tm.Send(keyMsg("v"))
	waitScreen(t, tm, "ROC (one vs rest)", "setosa AUC")
	tm.Send(keyMsg("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}
