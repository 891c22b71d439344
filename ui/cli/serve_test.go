package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/serve"
)

// testServer serves models through the same resolver `sluice serve` uses.
func testServer(t *testing.T, db string, refresh bool, models ...string) (*serve.Server, *httptest.Server) {
	t.Helper()
	e := &env{ctx: context.Background(), stdout: io.Discard, stderr: io.Discard, cfg: &Config{DBPath: db}, reg: stages.Registry()}
	s := &serve.Server{Resolve: e.resolver(), Locate: e.locator(), Refresh: -1}
	for _, m := range models {
		name, addr := servedName(m)
		s.Models = append(s.Models, serve.Model{Name: name, Address: addr})
	}
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

type scored struct {
	Predictions   []any       `json:"predictions"`
	Classes       []string    `json:"classes"`
	Probabilities [][]float64 `json:"probabilities"`
	Message       string      `json:"message"`
}

func post(t *testing.T, url, contentType, body string) (int, scored) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out scored
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("decode answer: %v", err)
	}
	return resp.StatusCode, out
}

// splitBody turns CSV text into a dataframe_split request, keeping every
// number's text as written.
func splitBody(t *testing.T, csvText string) string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, r := range recs[1:] {
		cells := make([]string, len(r))
		for i, c := range r {
			if _, err := strconv.ParseFloat(c, 64); err == nil {
				cells[i] = c
			} else {
				b, _ := json.Marshal(c)
				cells[i] = string(b)
			}
		}
		rows = append(rows, "["+strings.Join(cells, ",")+"]")
	}
	cols, _ := json.Marshal(recs[0])
	return fmt.Sprintf(`{"dataframe_split": {"columns": %s, "data": [%s]}}`, cols, strings.Join(rows, ","))
}

// TestServeMatchesPredict: the server's predictions for a file's rows, sent
// as dataframe_split and as CSV, equal `sluice predict`'s bit for bit, for a
// classifier and a regressor.
func TestServeMatchesPredict(t *testing.T) {
	dir, db := sampleDir(t)
	for _, tc := range []struct{ pipeline, model, rows string }{
		{"sample-data/iris.yaml", "1", "sample-data/splits/iris_test.csv"},
		{"sample-data/diabetes_regression.yaml", "2:ridge", "sample-data/splits/diabetes_test.csv"},
	} {
		if _, stderr, code := sluice(t, dir, "--db", db, "run", tc.pipeline); code != ExitOK {
			t.Fatalf("run %s: %s", tc.pipeline, stderr)
		}
		out := filepath.Join(dir, "pred.csv")
		if _, stderr, code := sluice(t, dir, "--db", db, "predict", tc.model, tc.rows, "-o", out); code != ExitOK {
			t.Fatalf("predict: %s", stderr)
		}
		want := predictionColumn(t, out)
		rows, err := os.ReadFile(filepath.Join(dir, tc.rows))
		if err != nil {
			t.Fatal(err)
		}
		_, ts := testServer(t, db, false, tc.model)
		for _, req := range []struct{ kind, contentType, body string }{
			{"dataframe_split", "application/json", splitBody(t, string(rows))},
			{"csv", "text/csv", string(rows)},
		} {
			code, got := post(t, ts.URL+"/invocations", req.contentType, req.body)
			if code != http.StatusOK || len(got.Predictions) != len(want) {
				t.Fatalf("%s %s: status %d, %d predictions, want %d (%s)", tc.model, req.kind, code, len(got.Predictions), len(want), got.Message)
			}
			for i, p := range got.Predictions {
				switch v := p.(type) {
				case json.Number:
					f, _ := strconv.ParseFloat(string(v), 64)
					w, _ := strconv.ParseFloat(want[i], 64)
					if math.Float64bits(f) != math.Float64bits(w) {
						t.Errorf("%s %s row %d: served %v, predict %v", tc.model, req.kind, i, f, w)
					}
				case string:
					if v != want[i] {
						t.Errorf("%s %s row %d: served %q, predict %q", tc.model, req.kind, i, v, want[i])
					}
				}
			}
		}
	}
}

func predictionColumn(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range recs[0] {
		if h == "prediction" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("%s has no prediction column: %v", path, recs[0])
	}
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[col])
	}
	return out
}

// TestServeFollowsAlias: moving the alias swaps the served model without
// a restart, and requests going during the swap all succeed.
func TestServeFollowsAlias(t *testing.T) {
	dir, db := sampleDir(t)
	for _, c := range []string{"1", "0.05"} {
		if _, stderr, code := sluice(t, dir, "--db", db, "run", "sample-data/iris.yaml", "--set", "model.C="+c); code != ExitOK {
			t.Fatal(stderr)
		}
	}
	if _, stderr, code := sluice(t, dir, "--db", db, "alias", "set", "iris@champion", "1"); code != ExitOK {
		t.Fatal(stderr)
	}
	s, ts := testServer(t, db, true, "iris@champion")
	version := func() float64 {
		resp, err := http.Get(ts.URL + "/version")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc struct {
			Models []struct {
				Run float64 `json:"run"`
			} `json:"models"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || len(doc.Models) == 0 {
			t.Fatalf("/version: %v %+v", err, doc)
		}
		return doc.Models[0].Run
	}
	if run := version(); run != 1 {
		t.Fatalf("serving run %v, want 1", run)
	}
	rows, _ := os.ReadFile(filepath.Join(dir, "sample-data", "splits", "iris_test.csv"))
	body := splitBody(t, string(rows))
	var wg sync.WaitGroup
	var failures sync.Map
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(ts.URL+"/models/iris/invocations", "application/json", strings.NewReader(body))
				if err != nil {
					failures.Store(w, err.Error())
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("predictions")) {
					failures.Store(w, string(b))
					return
				}
			}
		}()
	}
	if _, stderr, code := sluice(t, dir, "--db", db, "alias", "set", "iris@champion", "2"); code != ExitOK {
		t.Fatal(stderr)
	}
	s.RefreshNow(context.Background())
	close(stop)
	wg.Wait()
	failures.Range(func(k, v any) bool {
		t.Errorf("a request failed during the swap: %v", v)
		return true
	})
	if run := version(); run != 2 {
		t.Errorf("after the alias moved, serving run %v, want 2", run)
	}
}
