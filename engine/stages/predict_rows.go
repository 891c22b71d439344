package stages

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/sluice-ml/sluice/engine/frame"
)

// This file frames rows for prediction, in and out, for every caller:
// how text (CSV with a header, JSONL) and JSON records become rows typed
// by the model's input schema (ReadRows, RecordRows), the CSV file
// `sluice predict MODEL FILE.csv` writes, and the line-at-a-time answers
// of `sluice predict MODEL -`. The command line and the scoring server
// (serve) read their flags or requests and print; what a row holds, in
// and out, is decided here.

// RowFormat is how rows to predict are framed as text.
type RowFormat int

const (
	// RowsCSV is CSV: a header line, then one row a line.
	RowsCSV RowFormat = iota + 1
	// RowsJSONL is one JSON object a line; the columns are the union of
	// the objects' keys.
	RowsJSONL
)

// ReadRows reads rows to predict on, framed as text in format: the
// columns the model takes are typed by its input schema, the others read
// as they come (Predict ignores them). name names the input in errors. A
// cell or line that does not parse is a *frame.ParseError at its line in
// data (1-based; a CSV's header is line 1) and column; a CSV header that
// does not parse is an error wrapping ErrHeader. A column the model needs
// and the rows lack is Predict's error, not ReadRows'.
func (p *Predictor) ReadRows(name string, format RowFormat, data []byte) (*frame.Frame, error) {
	opts := frame.ReadOptions{Name: name, Workers: 1, Size: int64(len(data))}
	switch format {
	case RowsCSV:
		header, err := csvHeader(name, data)
		if err != nil {
			return nil, fmt.Errorf("CSV %w: %w", ErrHeader, err)
		}
		opts.Schema = p.ReadSchema(header)
		return frame.ReadCSV(small(data), opts)
	case RowsJSONL:
		opts.Schema = p.ReadSchema(jsonlKeys(data))
		return frame.ReadJSONL(small(data), opts)
	}
	return nil, fmt.Errorf("row format %d", format)
}

// small hands rows already in memory to the frame readers as a plain
// stream of known size, so they read them in one buffer of their size
// rather than through the block buffers (megabytes) they use for files.
func small(b []byte) io.Reader { return struct{ io.Reader }{bytes.NewReader(b)} }

// csvHeader reads the column names of data's first line as the frame
// reader reads a header (a leading byte-order mark dropped).
func csvHeader(name string, data []byte) ([]string, error) {
	line := data
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		line = data[:i]
	}
	head := append(append([]byte{}, line...), '\n')
	rows, err := frame.ReadCSV(small(head), frame.ReadOptions{Name: name, Workers: 1, Size: int64(len(head))})
	if err != nil {
		return nil, err
	}
	return rows.Names(), nil
}

// jsonlKeys are the keys of the JSON objects of data's lines; a line
// that is not an object adds none (the JSONL reader reports it).
func jsonlKeys(data []byte) []string {
	seen := map[string]bool{}
	var keys []string
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(line, &obj) != nil {
			continue
		}
		for k := range obj {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// RowError is a record RecordRows could not read.
type RowError struct {
	Row    int    // 0-based, among the records given
	Column string // the column whose value is not a scalar; "" for other errors
	Err    error
}

func (e *RowError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("row %d, column %q: %v", e.Row, e.Column, e.Err)
	}
	return fmt.Sprintf("row %d: %v", e.Row, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// ErrNotScalar is a record's value that is an object or an array.
var ErrNotScalar = errors.New("want a number, string, boolean or null")

// RecordRows reads rows given as records, each a column name to a JSON
// value, as ReadRows reads JSONL: the columns are the union of the
// records' keys. A value that is an object or an array (ErrNotScalar),
// and one that does not convert to its column's type, is a *RowError
// naming its record.
func (p *Predictor) RecordRows(name string, records []map[string]json.RawMessage) (*frame.Frame, error) {
	var buf bytes.Buffer
	for i, obj := range records {
		buf.WriteByte('{')
		for j, k := range slices.Sorted(maps.Keys(obj)) {
			v := bytes.TrimSpace(obj[k])
			if len(v) == 0 || v[0] == '{' || v[0] == '[' {
				return nil, &RowError{Row: i, Column: k, Err: ErrNotScalar}
			}
			if j > 0 {
				buf.WriteByte(',')
			}
			kb, _ := json.Marshal(k) // a string always marshals
			buf.Write(kb)
			buf.WriteByte(':')
			buf.Write(v)
		}
		buf.WriteString("}\n")
	}
	rows, err := p.ReadRows(name, RowsJSONL, buf.Bytes())
	var pe *frame.ParseError
	if errors.As(err, &pe) {
		// Its line is the record's; its column is in the text written
		// here, which the caller never saw.
		return nil, &RowError{Row: pe.Line - 1, Err: pe.Err}
	}
	return rows, err
}

// PredictedCSV is a CSV file's rows with their predictions, ready to be
// written. The input's cells are kept as written (0 stays 0, 6.10 stays
// 6.10); the prediction follows each row, then one probability per class.
type PredictedCSV struct {
	p       *Predictor
	header  []string
	records [][]string
	pred    *Prediction
}

// PredictCSVFile reads the CSV file at path (a header first) and predicts
// every row. Nothing is written: an error (an unreadable file, a missing
// column, a cell that is not a number) comes before any output.
func (p *Predictor) PredictCSVFile(path string) (*PredictedCSV, error) {
	header, records, err := readRecords(path)
	if err != nil {
		return nil, err
	}
	rows, err := frame.ReadCSVFile(path, frame.ReadOptions{Schema: p.ReadSchema(header)})
	if err != nil {
		return nil, err
	}
	if rows.NumRows() != len(records) {
		return nil, fmt.Errorf("%s: read %d rows as a table but %d as CSV records", path, rows.NumRows(), len(records))
	}
	pred, err := p.Predict(rows)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &PredictedCSV{p: p, header: header, records: records, pred: pred}, nil
}

// Len is the number of rows.
func (c *PredictedCSV) Len() int { return len(c.records) }

// Write writes the rows as CSV: the input's header and cells, then the
// prediction column ("prediction", or TARGET_prediction when the input
// has a column named prediction) and the probability columns.
func (c *PredictedCSV) Write(w io.Writer) error {
	name := "prediction"
	if slices.Contains(c.header, name) {
		name = c.p.File.Target + "_prediction"
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(append(append(slices.Clip(c.header), name), c.p.ProbaColumns()...)); err != nil {
		return err
	}
	for i, rec := range c.records {
		if err := cw.Write(append(slices.Clip(rec), c.p.predictionCells(c.pred, i)...)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// readRecords reads a CSV file's header and records as written.
func readRecords(path string) ([]string, [][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
	r := csv.NewReader(bufio.NewReader(f))
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	var records [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return header, records, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		records = append(records, rec)
	}
}

// predictionCells are row i's prediction and class probabilities as
// text, the same in file and stream mode: the label (or the value in its
// shortest form), then each probability rounded to 6 decimals.
func (p *Predictor) predictionCells(pred *Prediction, i int) []string {
	cells := []string{pred.Labels[i]}
	for j := range p.ProbaColumns() {
		cells = append(cells, strconv.FormatFloat(round6(pred.Proba.At(i, j)), 'f', -1, 64))
	}
	return cells
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// PredictStream answers rows one line at a time, as they arrive: CSV (the
// first line the header) or JSONL (each line an object), told apart by
// the first line that is not blank. Each row's answer is one line: CSV
// cells (the prediction, then the probabilities) under a header line of
// their own, or a JSON object {"prediction", "proba"}. It is not safe for
// concurrent use.
type PredictStream struct {
	p       *Predictor
	header  []string
	started bool
	jsonl   bool
}

// NewStream returns a stream of answers from p.
func (p *Predictor) NewStream() *PredictStream { return &PredictStream{p: p} }

// LineError is a row of a stream that could not be predicted, at its line
// (and, for a cell that did not parse, its column).
type LineError struct {
	Line, Col int // Col 0: the line as a whole
	Err       error
}

func (e *LineError) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("%d:%d: %v", e.Line, e.Col, e.Err)
	}
	return fmt.Sprintf("%d: %v", e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// ErrHeader is a CSV stream whose header line is unusable; the stream
// cannot answer anything.
var ErrHeader = errors.New("header")

// Line answers one input line (its newline removed), numbered from 1. It
// returns what to write (its newline included; nil for a blank line), and
// whether the line was a row. A row that cannot be predicted is still
// answered (an error object in JSONL, an empty line in CSV) and its
// *LineError returned beside the answer. A CSV header that does not
// parse returns an error wrapping ErrHeader and no answer.
func (s *PredictStream) Line(text string, lineNo int) (out []byte, row bool, err error) {
	if lineNo == 1 {
		text = strings.TrimPrefix(text, "\ufeff")
	}
	if strings.TrimSpace(text) == "" {
		return nil, false, nil
	}
	if !s.started {
		s.started = true
		s.jsonl = strings.HasPrefix(strings.TrimSpace(text), "{")
		if !s.jsonl {
			r := csv.NewReader(strings.NewReader(text))
			if s.header, err = r.Read(); err != nil {
				return nil, false, fmt.Errorf("%w: %v", ErrHeader, err)
			}
			return []byte(strings.Join(append([]string{"prediction"}, s.p.ProbaColumns()...), ",") + "\n"), false, nil
		}
	}
	out, perr := s.answer(text)
	if perr == nil {
		return out, true, nil
	}
	le := &LineError{Line: lineNo, Err: perr}
	var pe *frame.ParseError
	if errors.As(perr, &pe) {
		// Its own line number counts within the one-row table it was
		// read as; its column holds.
		le.Col, le.Err = pe.Col, pe.Err
	}
	return s.Failed(le), true, le
}

// Failed is the answer to a row that has no prediction (le names its line
// and why): an error object in JSONL, an empty line in CSV. Before the
// stream has started it is nil: there is no header to answer under.
func (s *PredictStream) Failed(le *LineError) []byte {
	switch {
	case s.jsonl:
		b, _ := json.Marshal(map[string]any{"line": le.Line, "error": le.Err.Error()})
		return append(b, '\n')
	case s.started:
		return []byte("\n")
	}
	return nil
}

// Started reports whether the stream has seen its first line that is not
// blank (a CSV header or a JSONL row).
func (s *PredictStream) Started() bool { return s.started }

// answer predicts one row.
func (s *PredictStream) answer(text string) ([]byte, error) {
	p := s.p
	var rows *frame.Frame
	var err error
	if s.jsonl {
		var obj map[string]any
		if err := json.Unmarshal([]byte(text), &obj); err != nil {
			return nil, fmt.Errorf("not a JSON object: %v", err)
		}
		rows, err = p.ReadRows("stdin", RowsJSONL, []byte(text))
	} else {
		var b bytes.Buffer
		cw := csv.NewWriter(&b)
		_ = cw.Write(s.header) // to a buffer: cannot fail
		cw.Flush()
		b.WriteString(text)
		b.WriteByte('\n')
		rows, err = p.ReadRows("stdin", RowsCSV, b.Bytes())
	}
	if err != nil {
		return nil, err
	}
	pred, err := p.Predict(rows)
	if err != nil {
		return nil, err
	}
	if s.jsonl {
		doc := map[string]any{"prediction": pred.Labels[0]}
		if p.File.Task == taskRegression {
			doc["prediction"] = pred.Values[0]
		}
		if len(p.ProbaColumns()) > 0 {
			proba := map[string]float64{}
			for j, c := range p.File.Classes {
				proba[c] = round6(pred.Proba.At(0, j))
			}
			doc["proba"] = proba
		}
		b, _ := json.Marshal(doc)
		return append(b, '\n'), nil
	}
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write(p.predictionCells(pred, 0))
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
