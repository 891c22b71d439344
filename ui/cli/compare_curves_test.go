package cli

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/ui"
)

// TestCompareCurves: v on Compare overlays one curve per run with a
// legend — the residuals of two diabetes runs, then the ROC and the
// precision-recall curve of a chosen iris class for two iris runs.
func TestCompareCurves(t *testing.T) {
	dir, db := sampleDir(t)
	for _, args := range [][]string{
		{"run", "sample-data/iris.yaml"},
		{"run", "sample-data/iris.yaml", "--set", "model.C=0.05"},
		{"run", "sample-data/diabetes_regression.yaml"},
		{"run", "sample-data/diabetes_regression.yaml", "--set", "ridge.alpha=100", "--set", "lasso.alpha=5"},
	} {
		if _, stderr, code := sluice(t, dir, append([]string{"--db", db}, args...)...); code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
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
	press := func(keys ...string) {
		for _, k := range keys {
			tm.Send(keyMsg(k))
		}
	}
	press("3")
	waitScreen(t, tm, "RUNS", "4 runs")
	press("space", "space", "c") // runs 4 and 3: diabetes
	waitScreen(t, tm, "COMPARE", "#3 · #4")
	press("v")
	waitScreen(t, tm, "RESIDUALS BY RUN", "#3 rmse", "#4 rmse", "share of the test rows")
	press("esc", "x", "space", "space", "c") // runs 2 and 1: iris
	waitScreen(t, tm, "ROC OF SETOSA BY RUN", "#1 AUC", "#2 AUC", "class 1 of 3 ([ ]) · p PR")
	press("]")
	waitScreen(t, tm, "ROC OF VERSICOLOR BY RUN", "class 2 of 3")
	press("p")
	waitScreen(t, tm, "PRECISION-RECALL OF VERSICOLOR BY RUN", "#1 AP", "#2 AP")
	press("v")
	waitScreen(t, tm, "BY RUN")
	press("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	out := ansi.Strip(tm.FinalModel(t).View())
	if strings.Contains(out, "PRECISION-RECALL") || !strings.Contains(out, "COMPARE  #1 · #2") {
		t.Errorf("v should go back to the metric charts of runs 1 and 2:\n%s", out)
	}
}
