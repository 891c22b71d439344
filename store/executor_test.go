package store_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
)

// TestExecutorRecords runs a small pipeline with the engine's executor
// recording into a store, and reads back what the executor recorded:
// the contract between engine.Recorder and this package.
func TestExecutorRecords(t *testing.T) {
	t.Parallel()
	source := &engine.StageType{
		Name: "numbers", Group: "extract", Doc: "gives a table", Out: engine.KindTable,
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			for i := range 3 {
				sc.Logf("line %d", i)
			}
			return &engine.Output{Value: rowsValue{engine.KindTable, "1\n2\n3\n"}}, nil
		},
	}
	keep := &engine.StageType{
		Name: "keep", Group: "evaluate", Doc: "keeps an artifact", In: engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindReport,
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			time.Sleep(30 * time.Millisecond) // long enough for a flush or two
			sc.Logf("kept")
			return &engine.Output{
				Value:     rowsValue{engine.KindReport, `{"ok":true}`},
				Metrics:   map[string]float64{"accuracy": 1},
				Artifacts: []engine.Artifact{{ArtifactInfo: engine.ArtifactInfo{Name: "report", Format: "json"}, Data: []byte(`{"ok":true}`)}},
			}, nil
		},
	}
	spec, err := engine.ParseSpec("p.yaml", []byte("name: tiny\nstages:\n  - id: load\n    uses: numbers\n  - id: score\n    uses: keep\n"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.Validate(spec, engine.NewRegistry(source, keep))
	if err != nil {
		t.Fatal(err)
	}
	db := mustOpen(t)
	ctx := context.Background()
	addRun(t, db, "other", engine.StatusSucceeded) // so the executor's run is number 2
	ex := &engine.Executor{Recorder: db, Artifacts: db.ArtifactStore(), FlushInterval: 10 * time.Millisecond, Version: "test"}
	final, err := ex.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if final.ID != 2 || final.Status != engine.StatusSucceeded {
		t.Fatalf("executor's run: number %d status %s, want 2 succeeded", final.ID, final.Status)
	}
	got, err := db.Run(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := jsonOf(t, got), jsonOf(t, final); g != w {
		t.Errorf("stored run = %s\nwant the executor's final record %s", g, w)
	}
	logs, err := db.Logs(ctx, 2, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, l := range logs {
		if strings.HasPrefix(l.Text, "line ") || l.Text == "kept" {
			texts = append(texts, l.Stage+": "+l.Text)
		}
	}
	if want := []string{"load: line 0", "load: line 1", "load: line 2", "score: kept"}; jsonOf(t, texts) != jsonOf(t, want) {
		t.Errorf("logs = %v, want %v among them", texts, want)
	}
	if p, err := db.Preview(ctx, 2, "load"); err != nil || p.Rows != 3 {
		t.Errorf("preview of load = %+v, %v; want 3 rows", p, err)
	}
	data, info, err := db.Artifact(ctx, 2, "score", "report")
	if err != nil || string(data) != `{"ok":true}` || info.SHA256 == "" {
		t.Errorf("artifact = %q %+v, %v", data, info, err)
	}
	sums, err := db.Runs(ctx, store.RunFilter{Pipeline: "tiny"})
	if err != nil || len(sums) != 1 || sums[0].Metrics["accuracy"] != 1 || sums[0].MetricStage != "score" {
		t.Errorf("Runs(tiny) = %+v, %v", sums, err)
	}
}

// rowsValue is a value of any kind holding text, one row a line.
type rowsValue struct {
	kind engine.Kind
	text string
}

func (v rowsValue) Kind() engine.Kind { return v.kind }

func (v rowsValue) Encode(_ context.Context, w io.Writer, _ engine.PutFunc) (string, error) {
	_, err := io.WriteString(w, v.text)
	return "text", err
}

func (v rowsValue) Preview() *engine.Preview {
	if v.kind != engine.KindTable {
		return nil
	}
	p := &engine.Preview{Cols: 1, Columns: []engine.ColumnSummary{{Name: "x", Type: "int"}}}
	for _, l := range strings.Split(strings.TrimSpace(v.text), "\n") {
		p.Rows++
		p.Head = append(p.Head, []string{l})
	}
	return p
}
