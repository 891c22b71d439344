package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
)

// Info says where a model's bytes came from.
type Info struct {
	Run    int64  `json:"run,omitempty"`
	Stage  string `json:"stage,omitempty"`
	SHA256 string `json:"sha256"`
}

// Resolver returns the model bytes an address names now, and where they
// came from.
type Resolver func(ctx context.Context, address string) ([]byte, Info, error)

// Locator says where an address points now without reading the model's
// bytes; Info.SHA256 must be that of the bytes Resolve would return.
type Locator func(ctx context.Context, address string) (Info, error)

// Model is one model to serve: the name it is served under and its
// address (a file, RUN, RUN:STAGE or NAME@ALIAS; the Resolver reads it).
type Model struct {
	Name    string
	Address string
}

// DefaultMaxBody bounds a request body unless the Server says otherwise.
const DefaultMaxBody = 16 << 20

// Server serves models. Set the fields, call Load, then use Handler (or
// ListenAndServe); fields must not change after Load.
type Server struct {
	Models  []Model
	Resolve Resolver
	Locate  Locator       // optional: a cheap check before Refresh reads a model again
	MaxBody int64         // bytes; 0: DefaultMaxBody
	Refresh time.Duration // how often addresses are resolved again; 0: 1s, <0: never
	Version string        // sluice's version, for /version
	Log     *slog.Logger  // nil: discard

	loaded   map[string]*atomic.Pointer[loaded]
	order    []string
	inflight atomic.Int64 // requests being scored
}

// loaded is a model ready to predict.
type loaded struct {
	p    *stages.Predictor
	info Info
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Load resolves and loads every model; an error names the model that
// failed.
func (s *Server) Load(ctx context.Context) error {
	if len(s.Models) == 0 {
		return errors.New("serve: no model to serve")
	}
	s.loaded = map[string]*atomic.Pointer[loaded]{}
	for _, m := range s.Models {
		if _, dup := s.loaded[m.Name]; dup {
			return fmt.Errorf("two models are named %s", m.Name)
		}
		l, err := s.load(ctx, m)
		if err != nil {
			return err
		}
		ptr := &atomic.Pointer[loaded]{}
		ptr.Store(l)
		s.loaded[m.Name] = ptr
		s.order = append(s.order, m.Name)
	}
	return nil
}

func (s *Server) load(ctx context.Context, m Model) (*loaded, error) {
	data, info, err := s.Resolve(ctx, m.Address)
	if err != nil {
		return nil, fmt.Errorf("model %s (%s): %w", m.Name, m.Address, err)
	}
	p, err := stages.LoadModel(m.Address, data)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	return &loaded{p: p, info: info}, nil
}

// Follow resolves every address each Refresh until ctx ends and swaps in
// a model whose bytes changed (an alias moved). A model that fails to
// load is logged and the old one kept.
func (s *Server) Follow(ctx context.Context) {
	every := s.Refresh
	if every < 0 {
		return
	}
	if every == 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.RefreshNow(ctx)
	}
}

// RefreshNow resolves every address once and swaps in the models that
// changed.
func (s *Server) RefreshNow(ctx context.Context) {
	for _, m := range s.Models {
		ptr := s.loaded[m.Name]
		var info Info
		var err error
		if s.Locate != nil {
			info, err = s.Locate(ctx, m.Address)
		} else {
			_, info, err = s.Resolve(ctx, m.Address)
		}
		if err != nil {
			s.log().Warn("cannot resolve model", "model", m.Name, "address", m.Address, "error", err.Error())
			continue
		}
		if info.SHA256 == ptr.Load().info.SHA256 {
			continue
		}
		l, err := s.load(ctx, m)
		if err != nil {
			s.log().Warn("cannot load new model; keeping the old one", "model", m.Name, "error", err.Error())
			continue
		}
		old := ptr.Swap(l)
		s.log().Info("model swapped", "model", m.Name, "address", m.Address, "from_run", old.info.Run, "to_run", l.info.Run, "sha256", l.info.SHA256)
	}
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}\n") // a failed write is a client gone away
	}
	mux.HandleFunc("GET /ping", ok)
	mux.HandleFunc("GET /health", ok)
	mux.HandleFunc("GET /version", s.version)
	mux.HandleFunc("POST /invocations", func(w http.ResponseWriter, r *http.Request) {
		s.invoke(w, r, s.order[0])
	})
	mux.HandleFunc("POST /models/{name}/invocations", func(w http.ResponseWriter, r *http.Request) {
		s.invoke(w, r, r.PathValue("name"))
	})
	return mux
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	type model struct {
		Name    string `json:"name"`
		Address string `json:"address"`
		Info
		Task    string   `json:"task"`
		Target  string   `json:"target"`
		Classes []string `json:"classes,omitempty"`
	}
	doc := struct {
		Sluice string  `json:"sluice"`
		Models []model `json:"models"`
	}{Sluice: s.Version}
	for _, m := range s.Models {
		l := s.loaded[m.Name].Load()
		doc.Models = append(doc.Models, model{Name: m.Name, Address: m.Address, Info: l.info, Task: l.p.File.Task, Target: l.p.File.Target, Classes: l.p.File.Classes})
	}
	writeJSON(w, http.StatusOK, doc)
}

// httpError is a request problem with its status.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, code: "BAD_REQUEST", msg: fmt.Sprintf(format, args...)}
}

// writeJSON encodes v before the status goes out, so a value JSON cannot
// hold (a NaN score) is a 500 with a message rather than a status line
// and half a body. A write that fails after that is a client gone away.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]string{"error_code": "INTERNAL_ERROR", "message": "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{status: http.StatusInternalServerError, code: "INTERNAL_ERROR", msg: err.Error()}
	}
	writeJSON(w, he.status, map[string]string{"error_code": he.code, "message": he.msg})
}

func (s *Server) invoke(w http.ResponseWriter, r *http.Request, name string) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	ptr, ok := s.loaded[name]
	if !ok {
		writeError(w, &httpError{status: http.StatusNotFound, code: "RESOURCE_DOES_NOT_EXIST", msg: fmt.Sprintf("no model named %q (serving %s)", name, strings.Join(s.order, ", "))})
		return
	}
	m := ptr.Load() // this request keeps this model, whatever swaps happen
	max := s.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeError(w, &httpError{status: http.StatusRequestEntityTooLarge, code: "REQUEST_TOO_LARGE", msg: fmt.Sprintf("body over %d bytes (--max-body)", max)})
			return
		}
		writeError(w, badRequest("reading the body: %v", err))
		return
	}
	proba := r.URL.Query().Get("probabilities") == "true"
	rows, wantProba, err := readRows(r.Header.Get("Content-Type"), body, m.p)
	if err != nil {
		writeError(w, err)
		return
	}
	pred, err := m.p.Predict(rows)
	if err != nil {
		writeError(w, badRequest("%v", err))
		return
	}
	writeJSON(w, http.StatusOK, answer(m.p, pred, proba || wantProba))
}

// response is the scoring answer.
type response struct {
	Predictions   any         `json:"predictions"`
	Classes       []string    `json:"classes,omitempty"`
	Probabilities [][]float64 `json:"probabilities,omitempty"`
}

func answer(p *stages.Predictor, pred *stages.Prediction, proba bool) response {
	var out response
	if p.File.Task == "regression" {
		out.Predictions = pred.Values
	} else {
		out.Predictions = pred.Labels
	}
	if proba && pred.Proba != nil {
		out.Classes = p.File.Classes
		n, k := pred.Proba.Dims()
		out.Probabilities = make([][]float64, n)
		for i := range n {
			out.Probabilities[i] = make([]float64, k)
			for j := range k {
				out.Probabilities[i][j] = pred.Proba.At(i, j)
			}
		}
	}
	return out
}

// readRows turns a request body into rows typed by the model's input
// schema: the row framing is the model's (stages.Predictor.ReadRows and
// RecordRows, which `sluice predict` uses too); what is read here is
// MLflow's request, the envelope around the rows.
func readRows(contentType string, body []byte, p *stages.Predictor) (*frame.Frame, bool, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "text/csv":
		rows, err := p.ReadRows("body", stages.RowsCSV, body)
		if err != nil {
			return nil, false, badRequest("%v", err)
		}
		return rows, false, nil
	case "application/json", "":
		return readJSON(body, p)
	}
	return nil, false, &httpError{status: http.StatusUnsupportedMediaType, code: "BAD_REQUEST", msg: fmt.Sprintf("content type %q: send application/json or text/csv", mt)}
}

// request is MLflow's JSON scoring body.
type request struct {
	Split     *splitInput       `json:"dataframe_split"`
	Records   []json.RawMessage `json:"dataframe_records"`
	Instances json.RawMessage   `json:"instances"`
	Inputs    json.RawMessage   `json:"inputs"`
	Params    map[string]any    `json:"params"`
}

type splitInput struct {
	Columns []string            `json:"columns"`
	Data    [][]json.RawMessage `json:"data"`
	Index   json.RawMessage     `json:"index"`
}

func readJSON(body []byte, p *stages.Predictor) (*frame.Frame, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req request
	if err := dec.Decode(&req); err != nil {
		return nil, false, badRequest("JSON body: %s", jsonErr(body, err))
	}
	proba := false
	if v, ok := req.Params["probabilities"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return nil, false, badRequest("params.probabilities: want true or false")
		}
		proba = b
	}
	given := 0
	for _, set := range []bool{req.Split != nil, req.Records != nil, len(req.Instances) > 0, len(req.Inputs) > 0} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, false, badRequest("want exactly one of dataframe_split, dataframe_records, instances or inputs")
	}
	var lines []map[string]json.RawMessage
	var where string
	switch {
	case req.Split != nil:
		where = "dataframe_split"
		if len(req.Split.Columns) == 0 {
			return nil, false, badRequest("dataframe_split.columns: want the column names")
		}
		for i, row := range req.Split.Data {
			if len(row) != len(req.Split.Columns) {
				return nil, false, badRequest("dataframe_split.data[%d]: %d values for %d columns", i, len(row), len(req.Split.Columns))
			}
			obj := make(map[string]json.RawMessage, len(row))
			for j, v := range row {
				obj[req.Split.Columns[j]] = v
			}
			lines = append(lines, obj)
		}
	case req.Records != nil:
		where = "dataframe_records"
		for i, raw := range req.Records {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
				return nil, false, badRequest("dataframe_records[%d]: want an object of column values", i)
			}
			lines = append(lines, obj)
		}
	default:
		raw := req.Instances
		where = "instances"
		if len(raw) == 0 {
			raw, where = req.Inputs, "inputs"
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, false, badRequest("%s: want a list of records", where)
		}
		for i, it := range items {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(it, &obj); err == nil && obj != nil {
				lines = append(lines, obj)
				continue
			}
			// A list of bare values for a model with one input column.
			if len(p.File.Input) != 1 {
				return nil, false, badRequest("%s[%d]: want an object of column values (the model takes %d columns)", where, i, len(p.File.Input))
			}
			lines = append(lines, map[string]json.RawMessage{p.File.Input[0].Name: it})
		}
	}
	if len(lines) == 0 {
		return nil, false, badRequest("%s: no rows", where)
	}
	rows, err := p.RecordRows(where, lines)
	if err != nil {
		var re *stages.RowError
		if errors.As(err, &re) {
			return nil, false, badRequest("%s %v", where, re)
		}
		return nil, false, badRequest("%s: %v", where, err)
	}
	return rows, proba, nil
}

// jsonErr says where a JSON syntax or type error is.
func jsonErr(body []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s: want %s, got JSON %s (byte %d)", te.Field, te.Type, te.Value, te.Offset)
	}
	return err.Error()
}

// ListenAndServe serves on addr until ctx ends, following aliases, then
// shuts down gracefully: it stops accepting, lets requests in flight
// finish (for up to drain) and returns.
func (s *Server) ListenAndServe(ctx context.Context, addr string, drain time.Duration, ready func(addr string)) error {
	srv := &http.Server{Addr: addr, Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	followCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.Follow(followCtx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		stop()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	stop()
	wg.Wait()
	shutCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	return nil
}
