package stages_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/store/artifacts"
)

// TestPreviewIsBounded previews a table of 120 rows x 70 columns whose
// cells are 1 MB strings: at most 20 rows of 50 columns, each cell cut
// to 200 bytes ending in the marker, whatever the input.
func TestPreviewIsBounded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("é", 1<<19) // 1 MB, two bytes a rune
	var cols []*frame.Column
	for j := range 70 {
		vals := make([]string, 120)
		for i := range vals {
			vals[i] = big
		}
		cols = append(cols, frame.NewString(fmt.Sprintf("c%d", j), vals, nil))
	}
	f, err := frame.New(cols...)
	if err != nil {
		t.Fatal(err)
	}
	p := stages.Table(f).Preview()
	if p.Rows != 120 || p.Cols != 70 {
		t.Errorf("preview counts %d x %d, want the table's 120 x 70", p.Rows, p.Cols)
	}
	if len(p.Head) > engine.PreviewRows || len(p.Columns) > engine.PreviewCols {
		t.Fatalf("preview of %d rows and %d columns", len(p.Head), len(p.Columns))
	}
	size := 0
	for _, row := range p.Head {
		if len(row) > engine.PreviewCols {
			t.Fatalf("a preview row of %d cells", len(row))
		}
		for _, c := range row {
			if len(c) > engine.PreviewCell || !strings.HasSuffix(c, engine.CutMarker) {
				t.Fatalf("a cell of %d bytes (%q…)", len(c), c[:20])
			}
			size += len(c)
		}
	}
	for _, c := range p.Columns {
		for _, top := range c.Top {
			if len(top.Value) > engine.PreviewCell {
				t.Fatalf("a top value of %d bytes", len(top.Value))
			}
		}
	}
	if size > engine.PreviewRows*engine.PreviewCols*engine.PreviewCell {
		t.Errorf("preview cells take %d bytes", size)
	}
}

// TestValuesRoundTrip encodes a table through the executor's PutFunc
// shape and decodes it again.
func TestValuesRoundTrip(t *testing.T) {
	t.Parallel()
	f, err := frame.New(frame.NewFloat("x", []float64{1.5, 2, 3}, []bool{false, true, false}), frame.NewString("s", []string{"a", "b", "a"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	format, err := stages.Table(f).Encode(context.Background(), &buf, nil)
	if err != nil || format != "parquet" {
		t.Fatalf("encode: %q, %v", format, err)
	}
	v, err := stages.DecodeValue(context.Background(), engine.KindTable, format, buf.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := stages.FrameOf(v)
	if !ok || g.NumRows() != 3 || g.NumCols() != 2 || !g.Col(0).IsNull(1) || g.Col(1).Str(2) != "a" {
		t.Fatalf("decoded %v", g)
	}
	if _, err := stages.DecodeValue(context.Background(), engine.KindTable, format, buf.Bytes()[:buf.Len()/2], nil); err == nil {
		t.Error("half a table decoded")
	}
}

// TestStoredOutputsLoadBack runs a pipeline with an artifact store and
// loads every stage's stored output back, as the stage cache does: the
// table, the split (by its tables' references) and the model (by its
// file's and split's references) come back whole, and the model
// predicts its test rows as the stage scored them.
func TestStoredOutputsLoadBack(t *testing.T) {
	t.Parallel()
	path := mlPipeline(t, head("iris", "species")+"  - {id: model, uses: random_forest_classifier, with: {n_estimators: 5}}\n  - {id: score, uses: evaluate}\n")
	plan, err := engine.LoadPlan(path, stages.Registry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := artifacts.Open(filepath.Join(t.TempDir(), "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	ex := &engine.Executor{Artifacts: dir}
	run, err := ex.Run(context.Background(), plan)
	if err != nil || run.Status != engine.StatusSucceeded {
		t.Fatalf("run: %v %s", err, run.Error)
	}
	for _, s := range run.Stages {
		if len(s.Artifacts) == 0 || s.Artifacts[0].Name != engine.OutputArtifact {
			t.Fatalf("stage %s kept %+v", s.ID, s.Artifacts)
		}
		v, err := ex.LoadOutput(context.Background(), plan, s.Artifacts[0])
		if err != nil {
			t.Fatalf("stage %s: %v", s.ID, err)
		}
		if v.Kind() != s.Kind {
			t.Fatalf("stage %s: loaded a %s", s.ID, v.Kind())
		}
		m, ok := v.(*stages.Model)
		if !ok {
			continue
		}
		if m.Split == nil || m.Split.Test.NumRows() != len(m.Split.YTest) || len(m.File) == 0 {
			t.Fatalf("model loaded without its split or file")
		}
		p, err := stages.LoadModel("m", m.File)
		if err != nil {
			t.Fatal(err)
		}
		pred, err := p.Predict(m.Split.RawTest)
		if err != nil {
			t.Fatal(err)
		}
		right := 0
		for i, v := range pred.Values {
			if v == m.Split.YTest[i] {
				right++
			}
		}
		if got, want := float64(right)/float64(len(pred.Values)), s.Metrics["accuracy"]; got != want {
			t.Errorf("the loaded model scores %v, the stage reported %v", got, want)
		}
	}
}
