package stages_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
)

func irisPredictor(t *testing.T) *stages.Predictor {
	t.Helper()
	_, arts := runML(t, mlPipeline(t, head("iris", "species")+"  - {id: model, uses: logistic_regression}\n"))
	p, err := stages.LoadModel("model", arts["model/model"])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPredictCSVFileKeepsCellsAndAppends: the rows come back as written,
// with the prediction and one probability per class appended.
func TestPredictCSVFileKeepsCellsAndAppends(t *testing.T) {
	t.Parallel()
	p := irisPredictor(t)
	path := filepath.Join(t.TempDir(), "in.csv")
	mustWriteFile(t, path, []byte("\ufeffsepal_length,sepal_width,petal_length,petal_width,prediction\n5.10,3.5,1.4,0.2,x\n6.7,3.0,5.2,2.3,y\n"))
	rows, err := p.PredictCSVFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rows.Write(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if rows.Len() != 2 || len(lines) != 3 {
		t.Fatalf("got %d rows, output:\n%s", rows.Len(), b.String())
	}
	if want := "sepal_length,sepal_width,petal_length,petal_width,prediction,species_prediction,proba_setosa,proba_versicolor,proba_virginica"; lines[0] != want {
		t.Errorf("header %q, want %q", lines[0], want)
	}
	if !strings.HasPrefix(lines[1], "5.10,3.5,1.4,0.2,x,setosa,") || !strings.HasPrefix(lines[2], "6.7,3.0,5.2,2.3,y,virginica,") {
		t.Errorf("rows:\n%s", b.String())
	}
	mustWriteFile(t, path, []byte("sepal_length,sepal_width\n1,2\n"))
	if _, err := p.PredictCSVFile(path); err == nil || !strings.Contains(err.Error(), `no column "petal_length"`) {
		t.Errorf("a missing column: got %v", err)
	}
}

// TestPredictStreamFramesLines answers CSV and JSONL line by line; a bad
// row is answered too, with its line and column in the error.
func TestPredictStreamFramesLines(t *testing.T) {
	t.Parallel()
	p := irisPredictor(t)
	s := p.NewStream()
	out, row, err := s.Line("sepal_length,sepal_width,petal_length,petal_width", 1)
	if err != nil || row || string(out) != "prediction,proba_setosa,proba_versicolor,proba_virginica\n" {
		t.Fatalf("header: %q %v %v", out, row, err)
	}
	if out, row, err = s.Line("", 2); out != nil || row || err != nil {
		t.Errorf("blank line: %q %v %v", out, row, err)
	}
	if out, row, err = s.Line("5.1,3.5,1.4,0.2", 3); err != nil || !row || !strings.HasPrefix(string(out), "setosa,0.9") {
		t.Errorf("row: %q %v %v", out, row, err)
	}
	out, row, err = s.Line("5.1,abc,1.4,0.2", 4)
	var le *stages.LineError
	if !errors.As(err, &le) || le.Line != 4 || le.Col != 5 || string(out) != "\n" || !row {
		t.Errorf("bad cell: %q %v %v", out, row, err)
	}

	j := p.NewStream()
	out, row, err = j.Line(`{"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}`, 1)
	var doc struct {
		Prediction string             `json:"prediction"`
		Proba      map[string]float64 `json:"proba"`
	}
	if err != nil || !row || json.Unmarshal(out, &doc) != nil || doc.Prediction != "virginica" || len(doc.Proba) != 3 {
		t.Errorf("jsonl row: %q %v %v", out, row, err)
	}
	out, _, err = j.Line(`{"sepal_length": 6.7}`, 2)
	if err == nil || !strings.Contains(string(out), `"line":2`) || !strings.Contains(string(out), "petal_length") {
		t.Errorf("jsonl row missing columns: %q %v", out, err)
	}

	if _, _, err := p.NewStream().Line(`a,"b`, 1); !errors.Is(err, stages.ErrHeader) {
		t.Errorf("bad header: got %v, want ErrHeader", err)
	}
}

// TestReadRowsFramesTextAndRecords: the one framing of rows to predict
// on (sluice predict and the scoring server both read through it). The
// model's columns are typed by its schema whatever the framing; a bad
// cell is located at its line and column in text, at its record in
// records.
func TestReadRowsFramesTextAndRecords(t *testing.T) {
	t.Parallel()
	p := irisPredictor(t)
	setosa := map[string]json.RawMessage{"sepal_length": json.RawMessage("5.1"), "sepal_width": json.RawMessage("3.5"), "petal_length": json.RawMessage("1.4"), "petal_width": json.RawMessage("0.2")}
	good := []struct {
		name string
		read func() (*frame.Frame, error)
	}{
		{"csv", func() (*frame.Frame, error) {
			return p.ReadRows("body", stages.RowsCSV, []byte("\ufeffsepal_length,sepal_width,petal_length,petal_width,note\n5.1,3.5,1.4,0.2,a\n6.7,3.0,5.2,2.3,b\n"))
		}},
		{"jsonl", func() (*frame.Frame, error) {
			return p.ReadRows("body", stages.RowsJSONL, []byte(`{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`+"\n\n"+
				`{"petal_width": 2.3, "sepal_length": 6.7, "sepal_width": 3, "petal_length": 5.2, "note": {"x": 1}}`+"\n"))
		}},
		{"records", func() (*frame.Frame, error) {
			return p.RecordRows("records", []map[string]json.RawMessage{setosa,
				{"sepal_length": json.RawMessage("6.7"), "sepal_width": json.RawMessage(" 3 "), "petal_length": json.RawMessage("5.2"), "petal_width": json.RawMessage("2.3"), "note": json.RawMessage(`"b"`)}})
		}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := tt.read()
			if err != nil {
				t.Fatal(err)
			}
			if rows.NumRows() != 2 {
				t.Fatalf("got %d rows, want 2", rows.NumRows())
			}
			for _, c := range []string{"sepal_length", "sepal_width", "petal_length", "petal_width"} {
				if col, _ := rows.ColByName(c); col == nil || col.Type != frame.Float {
					t.Errorf("column %s: %v, want a float column", c, col)
				}
			}
			pred, err := p.Predict(rows)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(pred.Labels, ","); got != "setosa,virginica" {
				t.Errorf("predictions %s, want setosa,virginica", got)
			}
		})
	}

	_, err := p.ReadRows("body", stages.RowsCSV, []byte("sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n5,6,x,8\n"))
	var pe *frame.ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || pe.Col != 5 || !errors.Is(err, frame.ErrBadValue) {
		t.Errorf("csv bad cell: got %v, want a bad value at 3:5", err)
	}
	if _, err := p.ReadRows("body", stages.RowsCSV, []byte(`sepal_length,"x`+"\n")); !errors.Is(err, stages.ErrHeader) {
		t.Errorf("csv bad header: got %v, want ErrHeader", err)
	}
	_, err = p.ReadRows("body", stages.RowsJSONL, []byte(`{"sepal_length": 1}`+"\n"+`{"sepal_length": "wide"}`+"\n"))
	if !errors.As(err, &pe) || pe.Line != 2 || pe.Col != 18 {
		t.Errorf("jsonl bad value: got %v, want one at 2:18", err)
	}
	nested := map[string]json.RawMessage{"sepal_length": json.RawMessage(`[1]`)}
	wide := map[string]json.RawMessage{"sepal_length": json.RawMessage(`"wide"`)}
	for _, tt := range []struct {
		name   string
		recs   []map[string]json.RawMessage
		row    int
		column string
		want   string
	}{
		{"not a scalar", []map[string]json.RawMessage{setosa, setosa, nested}, 2, "sepal_length", `row 2, column "sepal_length": want a number, string, boolean or null`},
		{"bad value", []map[string]json.RawMessage{setosa, wide}, 1, "", `row 1: bad value: column "sepal_length": cannot convert "wide" to float`},
	} {
		_, err := p.RecordRows("records", tt.recs)
		var re *stages.RowError
		if !errors.As(err, &re) || re.Row != tt.row || re.Column != tt.column || err.Error() != tt.want {
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.want)
		}
	}
}
