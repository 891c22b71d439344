package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/serve"
	"github.com/sluice-ml/sluice/store/artifacts"
)

// keeper is a recorder that keeps the references to the artifacts a run
// gives.
type keeper struct {
	engine.NopRecorder
	mu   sync.Mutex
	arts []engine.ArtifactInfo
}

func (k *keeper) RecordRun(_ context.Context, _ *engine.Run, d *engine.RunDelta) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if d != nil {
		k.arts = append(k.arts, d.Artifacts...)
	}
	return nil
}

var (
	irisOnce  sync.Once
	irisModel []byte
	irisErr   error
)

// iris fits the sample iris pipeline once and returns its model file.
func iris(tb testing.TB) []byte {
	tb.Helper()
	irisOnce.Do(func() {
		plan, err := engine.LoadPlan(filepath.Join("..", "sample-data", "iris.yaml"), stages.Registry(), nil)
		if err != nil {
			irisErr = err
			return
		}
		k := &keeper{}
		blobs := artifacts.New(os.TempDir() + "/sluice-serve-test-" + fmt.Sprint(os.Getpid()))
		defer os.RemoveAll(os.TempDir() + "/sluice-serve-test-" + fmt.Sprint(os.Getpid()))
		run, err := (&engine.Executor{Recorder: k, Artifacts: blobs}).Run(context.Background(), plan)
		if err != nil || run.Status != engine.StatusSucceeded {
			irisErr = fmt.Errorf("run: %v %v", err, run.Error)
			return
		}
		for _, a := range k.arts {
			if a.Name == "model" {
				irisModel, irisErr = engine.ReadArtifact(context.Background(), blobs, a.SHA256)
			}
		}
		if irisModel == nil {
			irisErr = fmt.Errorf("the iris run gave no model")
		}
	})
	if irisErr != nil {
		tb.Fatal(irisErr)
	}
	return irisModel
}

func newServer(tb testing.TB, maxBody int64) *httptest.Server {
	tb.Helper()
	data := iris(tb)
	s := &serve.Server{
		Models:  []serve.Model{{Name: "iris", Address: "iris.json"}},
		Resolve: func(context.Context, string) ([]byte, serve.Info, error) { return data, serve.Info{SHA256: "x"}, nil },
		MaxBody: maxBody,
		Refresh: -1,
	}
	if err := s.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	tb.Cleanup(ts.Close)
	return ts
}

const irisCols = `["sepal_length","sepal_width","petal_length","petal_width"]`

func TestBadRequests(t *testing.T) {
	t.Parallel()
	ts := newServer(t, 1<<20)
	tests := []struct {
		name, path, contentType, body string
		status                        int
		want                          string
	}{
		{"not JSON", "/invocations", "application/json", `{"dataframe_split": `, 400, "JSON body"},
		{"no input", "/invocations", "application/json", `{}`, 400, "want exactly one of"},
		{"two inputs", "/invocations", "application/json", `{"instances": [{}], "dataframe_records": []}`, 400, "want exactly one of"},
		{"unknown key", "/invocations", "application/json", `{"dataframe_splitt": {}}`, 400, `unknown field "dataframe_splitt"`},
		{"ragged row", "/invocations", "application/json", `{"dataframe_split": {"columns": ` + irisCols + `, "data": [[1,2,3,4],[1,2,3]]}}`, 400, "dataframe_split.data[1]: 3 values for 4 columns"},
		{"nested value", "/invocations", "application/json", `{"dataframe_records": [{"sepal_length": [1], "sepal_width": 1, "petal_length": 1, "petal_width": 1}]}`, 400, `dataframe_records row 0, column "sepal_length"`},
		{"text in a number column", "/invocations", "application/json", `{"dataframe_records": [{"sepal_length": 1, "sepal_width": 1, "petal_length": 1, "petal_width": 1}, {"sepal_length": "wide", "sepal_width": 1, "petal_length": 1, "petal_width": 1}]}`, 400, `dataframe_records row 1: bad value: column "sepal_length"`},
		{"missing column", "/invocations", "application/json", `{"instances": [{"sepal_width": 1, "petal_length": 1, "petal_width": 1}]}`, 400, `no column "sepal_length"`},
		{"record not an object", "/invocations", "application/json", `{"dataframe_records": [1]}`, 400, "dataframe_records[0]: want an object"},
		{"bad params", "/invocations", "application/json", `{"instances": [{}], "params": {"probabilities": "yes"}}`, 400, "params.probabilities"},
		{"csv missing column", "/invocations", "text/csv", "sepal_length,sepal_width\n1,2\n", 400, `no column "petal_length"`},
		{"csv bad number", "/invocations", "text/csv", "sepal_length,sepal_width,petal_length,petal_width\n1,2,x,4\n", 400, `body:2:5: bad value: column "petal_length"`},
		{"csv bad header", "/invocations", "text/csv", "sepal_length,\"sepal_width\n1,2\n", 400, "CSV header: body:1:14: bad quoting"},
		{"content type", "/invocations", "application/xml", "<rows/>", 415, "send application/json or text/csv"},
		{"unknown model", "/models/wine/invocations", "application/json", `{"instances": []}`, 404, `no model named "wine"`},
		{"too large", "/invocations", "text/csv", strings.Repeat("1,2,3,4\n", 200000), 413, "body over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := http.Post(ts.URL+tt.path, tt.contentType, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var doc struct {
				Code    string `json:"error_code"`
				Message string `json:"message"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || !strings.Contains(doc.Message, tt.want) {
				t.Errorf("status %d %q, want %d containing %q", resp.StatusCode, doc.Message, tt.status, tt.want)
			}
		})
	}
}

func TestRequestForms(t *testing.T) {
	t.Parallel()
	ts := newServer(t, 0)
	setosa := `{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`
	for _, body := range []string{
		`{"dataframe_split": {"columns": ` + irisCols + `, "data": [[5.1, 3.5, 1.4, 0.2]]}}`,
		`{"dataframe_records": [` + setosa + `]}`,
		`{"instances": [` + setosa + `]}`,
		`{"inputs": [` + setosa + `], "params": {"probabilities": true}}`,
	} {
		resp, err := http.Post(ts.URL+"/invocations", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Predictions   []string    `json:"predictions"`
			Classes       []string    `json:"classes"`
			Probabilities [][]float64 `json:"probabilities"`
		}
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if resp.StatusCode != 200 || !slices.Equal(doc.Predictions, []string{"setosa"}) {
			t.Errorf("%s: %d %v, want setosa", body, resp.StatusCode, doc.Predictions)
		}
		if strings.Contains(body, "probabilities") && (len(doc.Classes) != 3 || len(doc.Probabilities) != 1 || len(doc.Probabilities[0]) != 3) {
			t.Errorf("asked for probabilities, got classes %v and %v", doc.Classes, doc.Probabilities)
		}
	}
	for _, path := range []string{"/ping", "/health", "/version"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
}

// TestGracefulDrain: a request in flight when the server is told to stop
// still gets its answer.
func TestGracefulDrain(t *testing.T) {
	t.Parallel()
	data := iris(t)
	s := &serve.Server{
		Models: []serve.Model{{Name: "iris", Address: "iris.json"}},
		Resolve: func(context.Context, string) ([]byte, serve.Info, error) {
			return data, serve.Info{SHA256: "x"}, nil
		},
		Refresh: -1,
	}
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, "127.0.0.1:0", 5*time.Second, func(a string) { addrc <- a }) }()
	addr := <-addrc
	// A slow client: the body arrives after shutdown has begun.
	pr, pw := newPipe()
	respc := make(chan int, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/invocations", "text/csv", pr)
		if err != nil {
			respc <- -1
			return
		}
		resp.Body.Close()
		respc <- resp.StatusCode
	}()
	if _, err := pw.Write([]byte("sepal_length,sepal_width,petal_length,petal_width\n")); err != nil {
		t.Fatal(err)
	}
	for s.InFlight() == 0 { // wait until the handler is reading the body
		time.Sleep(time.Millisecond)
	}
	cancel()
	time.Sleep(20 * time.Millisecond) // shutdown under way (not asserted: a slow machine only delays it)
	if _, err := pw.Write([]byte("5.1,3.5,1.4,0.2\n")); err != nil {
		t.Fatalf("the body's last row after shutdown began: %v", err)
	}
	pw.Close()
	if code := <-respc; code != 200 {
		t.Errorf("request in flight during shutdown: status %d, want 200", code)
	}
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func newPipe() (*os.File, *os.File) {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	return r, w
}
