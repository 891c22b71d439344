package stages

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/ml"
)

// The values that flow between stages. Each knows its kind, encodes
// itself as an artifact and previews itself (engine.Value); DecodeValue
// reads them back. Tables are one artifact each; a split refers to its
// tables, and a model to its split, by reference, so a value shared
// along a pipeline is stored once.
//
// Formats:
//
//	table   "parquet"       (the frame<->Parquet codec)
//	split   "sluice-split"  a container: header JSON + the target columns
//	model   "sluice-model"  a container: references to the model file and the split
//	report  "json"          the Report as JSON

// tableValue is a table flowing along an edge. It is a comparable struct
// holding the frame's pointer, so the executor writes a frame once per
// run however many values share it.
type tableValue struct{ f *frame.Frame }

// Table wraps a frame as a value.
func Table(f *frame.Frame) engine.Value { return tableValue{f} }

// FrameOf returns the frame a table value holds.
func FrameOf(v engine.Value) (*frame.Frame, bool) {
	t, ok := v.(tableValue)
	return t.f, ok && t.f != nil
}

func (tableValue) Kind() engine.Kind { return engine.KindTable }

// Encode writes the table as Parquet, compressed with zstd.
func (t tableValue) Encode(ctx context.Context, w io.Writer, put engine.PutFunc) (string, error) {
	if t.f == nil || t.f.NumCols() == 0 {
		return "", fmt.Errorf("table: %w: a table without columns", engine.ErrNotKept)
	}
	return "parquet", WriteParquet(w, t.f, "zstd")
}

func (t tableValue) Preview() *engine.Preview { return tablePreview(t.f) }

// tableOutput wraps a frame as a stage output.
func tableOutput(f *frame.Frame) *engine.Output { return &engine.Output{Value: tableValue{f}} }

// tablePreview summarises a table within the engine's preview bounds:
// the first rows of the first columns, every cell cut to a bounded
// length, and a summary of each column shown.
func tablePreview(f *frame.Frame) *engine.Preview {
	p := &engine.Preview{Rows: f.NumRows(), Cols: f.NumCols()}
	shown := f
	if f.NumCols() > engine.PreviewCols {
		var err error
		if shown, err = f.Select(f.Names()[:engine.PreviewCols]...); err != nil {
			shown = f
		}
	}
	for _, row := range shown.Head(engine.PreviewRows) {
		cut := make([]string, len(row))
		for i, c := range row {
			cut[i] = engine.CutCell(c)
		}
		p.Head = append(p.Head, cut)
	}
	for _, c := range shown.Describe() {
		p.Columns = append(p.Columns, columnSummary(c))
	}
	return p
}

func columnSummary(c frame.ColumnSummary) engine.ColumnSummary {
	s := engine.ColumnSummary{Name: engine.CutCell(c.Name), Type: c.Type.String(), Count: c.Count, Missing: c.Missing, Unique: c.Unique}
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	if c.Type.Numeric() && c.Count > 0 {
		s.Mean, s.Std, s.Min, s.Max = num(c.Mean), num(c.Std), num(c.Min), num(c.Max)
	}
	for _, t := range c.Top {
		s.Top = append(s.Top, engine.TopValue{Value: engine.CutCell(t.Value), Count: t.Count})
	}
	return s
}

// Kind is KindSplit.
func (s *Split) Kind() engine.Kind { return engine.KindSplit }

// Preview shows the training rows as the split's next stage sees them.
func (s *Split) Preview() *engine.Preview {
	if s.Train == nil {
		return nil
	}
	return tablePreview(s.Train)
}

// splitDoc is the header of an encoded split.
type splitDoc struct {
	Target   string              `json:"target"`
	Task     string              `json:"task"`
	Classes  []string            `json:"classes,omitempty"`
	Input    []InputColumn       `json:"input"`
	Chain    []*Step             `json:"chain"`
	Train    engine.ArtifactInfo `json:"train"`
	Test     engine.ArtifactInfo `json:"test"`
	RawTrain engine.ArtifactInfo `json:"raw_train"`
	RawTest  engine.ArtifactInfo `json:"raw_test"`
}

// Encode stores the split's four tables apart and writes the rest: the
// header and the two target columns.
func (s *Split) Encode(ctx context.Context, w io.Writer, put engine.PutFunc) (string, error) {
	doc := splitDoc{Target: s.Target, Task: s.Task, Classes: s.Classes, Input: s.Input, Chain: s.Chain}
	if doc.Chain == nil {
		doc.Chain = []*Step{}
	}
	for _, t := range []struct {
		f   *frame.Frame
		ref *engine.ArtifactInfo
	}{{s.Train, &doc.Train}, {s.Test, &doc.Test}, {s.RawTrain, &doc.RawTrain}, {s.RawTest, &doc.RawTest}} {
		if t.f == nil {
			return "", errors.New("split without a table")
		}
		ref, err := put(ctx, tableValue{t.f})
		if err != nil {
			return "", err
		}
		*t.ref = ref
	}
	return "sluice-split", writeContainer(w, doc, floatBytes(s.YTrain), floatBytes(s.YTest))
}

// Kind is KindModel.
func (m *Model) Kind() engine.Kind { return engine.KindModel }

// Preview is nil: a model is shown by its details, not rows.
func (m *Model) Preview() *engine.Preview { return nil }

// modelDoc is the header of an encoded model value: references to the
// model file (its estimator, chain and schema; the same blob as the
// stage's "model" artifact) and to the split it carries.
type modelDoc struct {
	Stage  string              `json:"stage"`
	File   engine.ArtifactInfo `json:"file"`
	Split  engine.ArtifactInfo `json:"split"`
	Search *ml.SearchResult    `json:"search,omitempty"`
}

// Encode stores the model file and the split apart and writes
// references to them.
func (m *Model) Encode(ctx context.Context, w io.Writer, put engine.PutFunc) (string, error) {
	if m.File == nil {
		return "", fmt.Errorf("model %s: %w: no model file", m.Stage, engine.ErrNotKept)
	}
	file, err := put(ctx, blobValue(m.File))
	if err != nil {
		return "", err
	}
	split, err := put(ctx, m.Split)
	if err != nil {
		return "", err
	}
	return "sluice-model", writeContainer(w, modelDoc{Stage: m.Stage, File: file, Split: split, Search: m.Search})
}

// blobValue is bytes stored as they are, as part of another value (a
// model's file). Its kind is KindNone: nothing flows along an edge as a
// blob.
type blobValue []byte

func (blobValue) Kind() engine.Kind        { return engine.KindNone }
func (blobValue) Preview() *engine.Preview { return nil }
func (b blobValue) Encode(_ context.Context, w io.Writer, _ engine.PutFunc) (string, error) {
	_, err := w.Write(b)
	return "bytes", err
}

// Kind is KindReport.
func (r *Report) Kind() engine.Kind { return engine.KindReport }

// Preview is nil: a report is shown by its metrics.
func (r *Report) Preview() *engine.Preview { return nil }

// Encode writes the report as JSON.
func (r *Report) Encode(ctx context.Context, w io.Writer, put engine.PutFunc) (string, error) {
	return "json", json.NewEncoder(w).Encode(r)
}

// DecodeValue reads back a value its Encode wrote. It checks every size
// against the bytes present; a damaged artifact is an error.
func DecodeValue(ctx context.Context, kind engine.Kind, format string, data []byte, get engine.GetFunc) (engine.Value, error) {
	switch kind {
	case engine.KindNone:
		if format != "bytes" {
			return nil, fmt.Errorf("bytes in format %q", format)
		}
		return blobValue(data), nil
	case engine.KindTable:
		if format != "parquet" {
			return nil, fmt.Errorf("table in format %q", format)
		}
		f, err := ReadParquet(bytes.NewReader(data), int64(len(data)), ParquetReadOptions{Name: "table artifact"})
		if err != nil {
			return nil, err
		}
		return tableValue{f}, nil
	case engine.KindSplit:
		if format != "sluice-split" {
			return nil, fmt.Errorf("split in format %q", format)
		}
		return decodeSplit(ctx, data, get)
	case engine.KindModel:
		if format != "sluice-model" {
			return nil, fmt.Errorf("model in format %q", format)
		}
		return decodeModelValue(ctx, data, get)
	case engine.KindReport:
		if format != "json" {
			return nil, fmt.Errorf("report in format %q", format)
		}
		var r Report
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		return &r, nil
	}
	return nil, fmt.Errorf("no encoding for kind %s", kind)
}

func decodeSplit(ctx context.Context, data []byte, get engine.GetFunc) (*Split, error) {
	var doc splitDoc
	secs, err := readContainer(data, &doc, 2)
	if err != nil {
		return nil, fmt.Errorf("split: %w", err)
	}
	s := &Split{Target: doc.Target, Task: doc.Task, Classes: doc.Classes, Input: doc.Input, Chain: doc.Chain}
	for _, t := range []struct {
		ref engine.ArtifactInfo
		dst **frame.Frame
	}{{doc.Train, &s.Train}, {doc.Test, &s.Test}, {doc.RawTrain, &s.RawTrain}, {doc.RawTest, &s.RawTest}} {
		if t.ref.Kind != engine.KindTable {
			return nil, fmt.Errorf("split: a table reference of kind %s", t.ref.Kind)
		}
		v, err := get(ctx, t.ref)
		if err != nil {
			return nil, fmt.Errorf("split: %w", err)
		}
		f, ok := FrameOf(v)
		if !ok {
			return nil, errors.New("split: a table reference holds no table")
		}
		*t.dst = f
	}
	if s.YTrain, err = bytesFloats(secs[0]); err != nil {
		return nil, fmt.Errorf("split: train target: %w", err)
	}
	if s.YTest, err = bytesFloats(secs[1]); err != nil {
		return nil, fmt.Errorf("split: test target: %w", err)
	}
	if len(s.YTrain) != s.Train.NumRows() || len(s.YTest) != s.Test.NumRows() ||
		s.RawTrain.NumRows() != s.Train.NumRows() || s.RawTest.NumRows() != s.Test.NumRows() {
		return nil, errors.New("split: tables and targets of different lengths")
	}
	for i, st := range s.Chain {
		if st == nil {
			return nil, fmt.Errorf("split: chain step %d is empty", i+1)
		}
	}
	return s, nil
}

func decodeModelValue(ctx context.Context, data []byte, get engine.GetFunc) (*Model, error) {
	var doc modelDoc
	if _, err := readContainer(data, &doc, 0); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if doc.File.Kind != engine.KindNone {
		return nil, fmt.Errorf("model: a file reference of kind %s", doc.File.Kind)
	}
	fv, err := get(ctx, doc.File)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	file, ok := fv.(blobValue)
	if !ok {
		return nil, errors.New("model: the file reference holds no bytes")
	}
	p, err := LoadModel("model "+doc.Stage, file)
	if err != nil {
		return nil, err
	}
	if doc.Split.Kind != engine.KindSplit {
		return nil, fmt.Errorf("model: a split reference of kind %s", doc.Split.Kind)
	}
	sv, err := get(ctx, doc.Split)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	split, ok := sv.(*Split)
	if !ok {
		return nil, errors.New("model: the split reference holds no split")
	}
	mf := p.File
	return &Model{
		Stage: doc.Stage, Type: mf.Estimator.Type, Params: mf.Estimator.Params, Estimator: p.est,
		Split: split, Features: mf.Features, Metrics: mf.Metrics, Search: doc.Search, File: []byte(file),
	}, nil
}

// The container of split and model values: a first line naming it, the
// header's length, the header (JSON, with the sizes of the sections that
// follow), then the sections.
const containerMagic = "sluice-value 1\n"

func writeContainer(w io.Writer, header any, sections ...[]byte) error {
	h, err := json.Marshal(header)
	if err != nil {
		return err
	}
	sizes := make([]int64, len(sections))
	for i, s := range sections {
		sizes[i] = int64(len(s))
	}
	sz, err := json.Marshal(sizes)
	if err != nil {
		return err
	}
	var pre []byte
	pre = append(pre, containerMagic...)
	pre = binary.AppendUvarint(pre, uint64(len(h)))
	pre = append(pre, h...)
	pre = binary.AppendUvarint(pre, uint64(len(sz)))
	pre = append(pre, sz...)
	if _, err := w.Write(pre); err != nil {
		return err
	}
	for _, s := range sections {
		if _, err := w.Write(s); err != nil {
			return err
		}
	}
	return nil
}

// readContainer decodes the header into header and returns the sections,
// of which there must be want; every declared length is checked against
// the bytes present before anything is taken.
func readContainer(data []byte, header any, want int) ([][]byte, error) {
	rest, ok := bytes.CutPrefix(data, []byte(containerMagic))
	if !ok {
		return nil, errors.New("not a sluice value container")
	}
	chunk := func(what string) ([]byte, error) {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return nil, fmt.Errorf("%s length %d exceeds the %d bytes present", what, n, len(rest))
		}
		b := rest[k : k+int(n)]
		rest = rest[k+int(n):]
		return b, nil
	}
	h, err := chunk("header")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(h, header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	sz, err := chunk("section table")
	if err != nil {
		return nil, err
	}
	var sizes []int64
	if err := json.Unmarshal(sz, &sizes); err != nil {
		return nil, fmt.Errorf("section table: %w", err)
	}
	if len(sizes) != want {
		return nil, fmt.Errorf("%d sections, want %d", len(sizes), want)
	}
	out := make([][]byte, len(sizes))
	for i, n := range sizes {
		if n < 0 || n > int64(len(rest)) {
			return nil, fmt.Errorf("section %d of %d bytes exceeds the %d bytes present", i+1, n, len(rest))
		}
		out[i], rest = rest[:n], rest[n:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d bytes after the last section", len(rest))
	}
	return out, nil
}

func floatBytes(v []float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func bytesFloats(b []byte) ([]float64, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of float64s", len(b))
	}
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, nil
}
