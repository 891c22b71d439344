package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runJSON runs a pipeline with --json and returns the document.
func runJSON(t *testing.T, dir, db string, args ...string) runDoc {
	t.Helper()
	out, stderr, code := sluice(t, dir, append([]string{"--db", db, "run", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("run %v: exit %d\n%s", args, code, stderr)
	}
	var d runDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func stageMetric(d runDoc, stage, metric string) float64 {
	for _, s := range d.Stages {
		if s.ID == stage {
			return s.Metrics[metric]
		}
	}
	return -1
}

func TestIrisMatchesScikitLearnAndRerunsAreByteIdentical(t *testing.T) {
	dir, db := sampleDir(t)
	a := runJSON(t, dir, db, "sample-data/iris.yaml")
	b := runJSON(t, dir, db, "sample-data/iris.yaml")
	// scikit-learn 1.2.1 on the same split files (sample-data/README.md,
	// splits/reference.json): LogisticRegression(max_iter=1000) accuracy 0.9333.
	if got := stageMetric(a, "score", "accuracy"); got < 0.9333 || got > 0.9334 {
		t.Errorf("iris accuracy: got %.4f, want scikit-learn's 0.9333", got)
	}
	for i := range a.Stages {
		if ja, jb := mustJSON(a.Stages[i].Metrics), mustJSON(b.Stages[i].Metrics); ja != jb {
			t.Errorf("stage %s metrics differ between reruns: %s vs %s", a.Stages[i].ID, ja, jb)
		}
	}
	fa, fb := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	for run, f := range map[int64]string{a.Run: fa, b.Run: fb} {
		if _, stderr, code := sluice(t, dir, "--db", db, "export", itoa(run), "-o", filepath.Base(f)); code != 0 {
			t.Fatalf("export %d: %s", run, stderr)
		}
	}
	ba, _ := os.ReadFile(fa)
	bb, _ := os.ReadFile(fb)
	if len(ba) == 0 || !bytes.Equal(ba, bb) {
		t.Errorf("model files of two identical runs differ (%d and %d bytes)", len(ba), len(bb))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func itoa(n int64) string { return strings.TrimSpace(strings.Repeat(" ", 0) + jsonNum(n)) }

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestCompareShowsTheOverrideAndTheFirstDifferingStage(t *testing.T) {
	dir, db := sampleDir(t)
	a := runJSON(t, dir, db, "sample-data/iris.yaml")
	c := runJSON(t, dir, db, "sample-data/iris.yaml", "--set", "model.C=0.05")
	out, stderr, code := sluice(t, dir, "--db", db, "compare", itoa(a.Run), itoa(c.Run))
	if code != 0 {
		t.Fatalf("compare: %d %s", code, stderr)
	}
	for _, want := range []string{"model.C", "0.05", "★", "first stage whose fingerprint differs: model"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "model.max_iter") {
		t.Errorf("compare shows a parameter that does not differ:\n%s", out)
	}
	all, _, _ := sluice(t, dir, "--db", db, "compare", itoa(a.Run), itoa(c.Run), "--all")
	if !strings.Contains(all, "model.max_iter") {
		t.Errorf("compare --all hides parameters:\n%s", all)
	}
	js, _, _ := sluice(t, dir, "--db", db, "compare", itoa(a.Run), itoa(c.Run), "--json")
	var doc struct {
		Params []struct {
			Key    string
			Values []string
		}
		FirstDiff string `json:"first_differing_stage"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || doc.FirstDiff != "model" || len(doc.Params) != 1 || doc.Params[0].Values[1] != "0.05" {
		t.Errorf("compare --json: %v %+v", err, doc)
	}
	show, _, _ := sluice(t, dir, "--db", db, "show", itoa(c.Run))
	if !strings.Contains(show, "overrides model.C=0.05") || !strings.Contains(show, "MODELS") {
		t.Errorf("show does not record the override or list the model:\n%s", show)
	}
}

func TestExportThenPredictMatchesTheEvaluateStage(t *testing.T) {
	dir, db := sampleDir(t)
	d := runJSON(t, dir, db, "sample-data/iris_export.yaml")
	model := filepath.Join(dir, "sample-data", "out", "iris_forest.model.json")
	if _, err := os.Stat(model); err != nil {
		t.Fatalf("export_model stage wrote nothing: %v", err)
	}
	// The export command writes the same bytes as the export_model stage.
	if _, stderr, code := sluice(t, dir, "--db", db, "export", itoa(d.Run), "-o", "again.json"); code != 0 {
		t.Fatal(stderr)
	}
	b1, _ := os.ReadFile(model)
	b2, _ := os.ReadFile(filepath.Join(dir, "again.json"))
	if !bytes.Equal(b1, b2) {
		t.Error("sluice export and the export_model stage wrote different bytes")
	}
	// Predict on the test rows of the split: accuracy equals the evaluate stage's.
	testRows := filepath.Join(dir, "test.csv")
	out, stderr, code := sluice(t, dir, "predict", model, "sample-data/iris.csv", "-o", testRows)
	if code != 0 {
		t.Fatalf("predict: %s %s", out, stderr)
	}
	f, _ := os.Open(testRows)
	defer f.Close()
	rows, _ := csv.NewReader(f).ReadAll()
	hdr := rows[0]
	if len(rows) != 151 || hdr[len(hdr)-4] != "prediction" || hdr[len(hdr)-1] != "proba_virginica" {
		t.Fatalf("predict wrote %d rows with header %v", len(rows), hdr)
	}
	right := 0
	for _, r := range rows[1:] {
		if r[4] == r[5] {
			right++
		}
	}
	// The forest sees 120 of the 150 rows in training, so it is right on
	// nearly all; on the 30 held-out rows its accuracy is the evaluate stage's.
	if acc := float64(right) / 150; acc < stageMetric(d, "score", "accuracy") {
		t.Errorf("accuracy over all rows %.4f below the held-out accuracy %.4f", acc, stageMetric(d, "score", "accuracy"))
	}
}

func TestPredictOnTheReferenceTestSplitMatchesEvaluate(t *testing.T) {
	dir, db := sampleDir(t)
	d := runJSON(t, dir, db, "sample-data/iris.yaml")
	if _, stderr, code := sluice(t, dir, "--db", db, "export", "latest", "-o", "m.json"); code != 0 {
		t.Fatal(stderr)
	}
	out, stderr, code := sluice(t, dir, "predict", "m.json", "sample-data/splits/iris_test.csv")
	if code != 0 {
		t.Fatal(stderr)
	}
	rows, _ := csv.NewReader(strings.NewReader(out)).ReadAll()
	right := 0
	for _, r := range rows[1:] {
		if r[4] == r[5] {
			right++
		}
	}
	if acc, want := float64(right)/float64(len(rows)-1), stageMetric(d, "score", "accuracy"); acc != want {
		t.Errorf("predict accuracy on the test split %.4f, evaluate said %.4f", acc, want)
	}
}

func TestPredictStreamAnswersEachLine(t *testing.T) {
	dir, db := sampleDir(t)
	runJSON(t, dir, db, "sample-data/iris.yaml")
	sluice(t, dir, "--db", db, "export", "latest", "-o", "m.json")
	out, stderr, code := sluiceIn(t, dir, "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n", "predict", "m.json", "-")
	if code != 0 {
		t.Fatal(stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "setosa,") || !strings.HasPrefix(lines[2], "virginica,") {
		t.Errorf("streamed CSV predictions:\n%s", out)
	}
	out, _, _ = sluiceIn(t, dir, `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"extra":"x"}`+"\n", "predict", "m.json", "-")
	var doc struct {
		Prediction string
		Proba      map[string]float64
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Prediction != "setosa" || len(doc.Proba) != 3 {
		t.Errorf("streamed JSONL prediction: %v %q", err, out)
	}
	out, _, _ = sluiceIn(t, dir, `{"sepal_length":5.1}`+"\n", "predict", "m.json", "-")
	if !strings.Contains(out, `no column \"sepal_width\"`) {
		t.Errorf("a missing column is not named: %q", out)
	}
}

func TestBadModelFilesGiveClearErrors(t *testing.T) {
	dir, db := sampleDir(t)
	runJSON(t, dir, db, "sample-data/iris.yaml")
	sluice(t, dir, "--db", db, "export", "latest", "--format", "json", "-o", "m.json")
	good, _ := os.ReadFile(filepath.Join(dir, "m.json"))
	// Model format 1 (JSON) still loads and predicts like format 2.
	sluice(t, dir, "--db", db, "export", "latest", "-o", "m2.model")
	p1, stderr, code := sluice(t, dir, "predict", "m.json", "sample-data/iris.csv")
	p2, _, _ := sluice(t, dir, "predict", "m2.model", "sample-data/iris.csv")
	if code != 0 || p1 != p2 || !strings.HasPrefix(string(good), "{") {
		t.Fatalf("format 1 predicts differently from format 2 (exit %d, %s)", code, stderr)
	}
	tests := []struct {
		name, want string
		mutate     func(string) string
	}{
		{"truncated", "truncated", func(s string) string { return s[:len(s)/2] }},
		{"wrong version", "format version 9", func(s string) string {
			return strings.Replace(s, `"format_version": 1`, `"format_version": 9`, 1)
		}},
		{"tampered value", "checksum mismatch", func(s string) string {
			return strings.Replace(s, `"target": "species"`, `"target": "specie"`, 1)
		}},
		{"wrong type", "field", func(s string) string {
			return strings.Replace(s, `"format_version": 1`, `"format_version": "one"`, 1)
		}},
		{"not json", "m.json:1:1", func(string) string { return "hello" }},
		{"other format", `format is "onnx"`, func(s string) string {
			return strings.Replace(s, `"format": "sluice-model"`, `"format": "onnx"`, 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustWriteFile(t, filepath.Join(dir, "m.json"), []byte(tt.mutate(string(good))))
			_, stderr, code := sluice(t, dir, "predict", "m.json", "sample-data/iris.csv")
			if code != ExitInvalid || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "panic") {
				t.Errorf("got exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, tt.want)
			}
		})
	}

	// The packed format (model format 2), as export writes it by default.
	sluice(t, dir, "--db", db, "export", "latest", "-o", "m.model")
	packed, _ := os.ReadFile(filepath.Join(dir, "m.model"))
	if !strings.HasPrefix(string(packed), "sluice-model 2\n") {
		t.Fatalf("export wrote %.20q, want model format 2", packed)
	}
	if _, stderr, code := sluice(t, dir, "predict", "m.model", "sample-data/iris.csv"); code != 0 {
		t.Fatalf("the exported file does not predict: %s", stderr)
	}
	for _, tt := range []struct {
		name, want string
		mutate     func([]byte) []byte
	}{
		{"truncated", "checksum mismatch", func(b []byte) []byte { return b[:len(b)/2] }},
		{"flipped byte", "checksum mismatch", func(b []byte) []byte { c := bytes.Clone(b); c[len(c)/2] ^= 1; return c }},
		{"newer version", "export the model again", func(b []byte) []byte {
			return bytes.Replace(b, []byte("sluice-model 2\n"), []byte("sluice-model 3\n"), 1)
		}},
		{"magic only", "truncated", func([]byte) []byte { return []byte("sluice-model 2\n") }},
	} {
		t.Run("format 2 "+tt.name, func(t *testing.T) {
			mustWriteFile(t, filepath.Join(dir, "m.model"), tt.mutate(packed))
			_, stderr, code := sluice(t, dir, "predict", "m.model", "sample-data/iris.csv")
			if code != ExitInvalid || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "panic") {
				t.Errorf("got exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, tt.want)
			}
		})
	}
}

func TestEverySamplePipelineRuns(t *testing.T) {
	dir, db := sampleDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "sample-data", "*.yaml"))
	scheduled, _ := filepath.Glob(filepath.Join(dir, "sample-data", "scheduled", "*.yaml"))
	files = append(files, scheduled...)
	if len(files) < 6 {
		t.Fatalf("found %d sample pipelines", len(files))
	}
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			args := []string{"--db", db, "run", rel}
			if filepath.Base(f) == "daily_iris.yaml" {
				// its input is named by the logical date: run a day it has
				args = append(args, "--logical-date", "2025-03-02")
			}
			if _, stderr, code := sluice(t, dir, args...); code != 0 {
				t.Errorf("exit %d\n%s", code, stderr)
			}
		})
	}
}

// TestPredictKeepsValuesAndReportsFailedRows: file mode copies the input
// cells as written and formats predictions as stream mode does; stream
// mode answers every line, names one location per bad line and exits 2
// when any row failed.
func TestPredictKeepsValuesAndReportsFailedRows(t *testing.T) {
	dir, db := sampleDir(t)
	runJSON(t, dir, db, "sample-data/iris.yaml")
	if _, stderr, code := sluice(t, dir, "--db", db, "export", "latest", "-o", "m.json"); code != 0 {
		t.Fatal(stderr)
	}
	const rows = "5,3.0,1.4,0.2\n6.10,2.80,4.7,1.2\n"
	if err := os.WriteFile(filepath.Join(dir, "in.csv"), []byte("sepal_length,sepal_width,petal_length,petal_width\n"+rows), 0o644); err != nil {
		t.Fatal(err)
	}
	file, stderr, code := sluice(t, dir, "predict", "m.json", "in.csv")
	if code != 0 {
		t.Fatal(stderr)
	}
	stream, stderr, code := sluiceIn(t, dir, "sepal_length,sepal_width,petal_length,petal_width\n"+rows, "predict", "m.json", "-")
	if code != 0 {
		t.Fatal(stderr)
	}
	fileLines := strings.Split(strings.TrimSpace(file), "\n")
	streamLines := strings.Split(strings.TrimSpace(stream), "\n")
	for i, in := range strings.Split(strings.TrimSpace(rows), "\n") {
		if want := in + "," + streamLines[i+1]; fileLines[i+1] != want {
			t.Errorf("file mode row %d: got %q, want the input as written then the stream mode's answer: %q", i+1, fileLines[i+1], want)
		}
	}

	out, stderr, code := sluiceIn(t, dir, "sepal_length,sepal_width,petal_length,petal_width\n5,3.0,1.4,0.2\n5,abc,1,1\n6.1,2.8,4.7,1.2\n", "predict", "m.json", "-")
	if code != ExitInvalid {
		t.Errorf("a failed row: exit %d, want %d", code, ExitInvalid)
	}
	if lines := strings.Split(out, "\n"); len(lines) != 5 || lines[2] != "" || lines[3] == "" {
		t.Errorf("every line is answered, the bad one with an empty line: %q", out)
	}
	if !strings.Contains(stderr, "stdin:3:3: bad value") || strings.Count(stderr, "stdin:") != 1 || !strings.Contains(stderr, "1 of 3 rows failed") {
		t.Errorf("stderr: got %q, want one location, stdin:3:3, and a count", stderr)
	}
}
