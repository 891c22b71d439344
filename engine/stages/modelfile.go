package stages

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/ml"
)

// Model file format identifiers. Version 2 (the default) packs the
// estimator's state (see modelcodec.go); version 1 is one JSON document,
// still read, and written by `sluice export --format json`.
const (
	ModelFormat        = "sluice-model"
	ModelFormatVersion = 2
)

// Model file formats by name, as export's --format takes them.
const (
	ModelFileSluice = "sluice" // format 2: packed, compressed, checksummed
	ModelFileJSON   = "json"   // format 1: one JSON document
)

// ErrBadModel reports a model file that cannot be used: truncated, of
// another format or version, altered after it was written, or holding
// values of the wrong type or shape.
var ErrBadModel = errors.New("bad model file")

// ModelFile is the exported form of a fitted model: one self-describing,
// versioned JSON document that takes raw rows to predictions. It holds no
// run number or time, so a rerun on the same data writes the same bytes.
type ModelFile struct {
	Format        string             `json:"format"`
	FormatVersion int                `json:"format_version"`
	SluiceVersion string             `json:"sluice_version"`
	Task          string             `json:"task"`
	Target        string             `json:"target"`
	Classes       []string           `json:"classes,omitempty"`
	Input         []InputColumn      `json:"input"`
	Chain         []*Step            `json:"chain"`
	Features      []string           `json:"features"`
	Estimator     EstimatorFile      `json:"estimator"`
	Metrics       map[string]float64 `json:"metrics"`
	Source        ModelSource        `json:"source"`
	// Checksum is the SHA-256 of the document with this field empty: a
	// file edited by hand, or damaged, no longer matches it.
	Checksum string `json:"checksum"`
}

// EstimatorFile is the estimator's type (a train stage type name), its
// hyperparameters, and its full state (hyperparameters and learned values
// as the ml package serialises them).
type EstimatorFile struct {
	Type   string          `json:"type"`
	Params map[string]any  `json:"params"`
	State  json.RawMessage `json:"state"`
}

// ModelSource says where a model came from.
type ModelSource struct {
	Pipeline    string            `json:"pipeline"`
	Stage       string            `json:"stage"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	SpecHash    string            `json:"spec_hash,omitempty"`
	Data        map[string]string `json:"data,omitempty"` // file → SHA-256
}

// unversioned is the sluice_version of a model file fitted outside a
// versioned executor (tests, a stage run alone).
const unversioned = "dev"

// encodeModel writes m as a model file of the current format; version is
// the sluice version fitting it (StageContext.Version).
func encodeModel(m *Model, version string, src ModelSource) ([]byte, error) {
	if version == "" {
		version = unversioned
	}
	params := map[string]any{}
	for k, v := range m.Params {
		params[k] = v
	}
	chain := m.Split.Chain
	if chain == nil {
		chain = []*Step{}
	}
	mf := &ModelFile{
		Format: ModelFormat, FormatVersion: ModelFormatVersion, SluiceVersion: version,
		Task: m.Split.Task, Target: m.Split.Target, Classes: m.Split.Classes,
		Input: m.Split.Input, Chain: chain, Features: m.Features,
		Estimator: EstimatorFile{Type: m.Type, Params: params},
		Metrics:   finiteMetrics(m.Metrics), Source: src,
	}
	if m.Split.Task == taskClustering || m.Type == "kmeans" {
		mf.Task = taskClustering
	}
	return marshalModel2(mf, m.Estimator)
}

// EncodeModelFile writes a loaded model again in the named format
// (ModelFileSluice or ModelFileJSON), for export. The model is the same:
// loading either file predicts the same.
func EncodeModelFile(p *Predictor, format string) ([]byte, error) {
	mf := *p.File
	switch format {
	case ModelFileSluice, "":
		return marshalModel2(&mf, p.est)
	case ModelFileJSON:
		state, err := json.Marshal(p.est)
		if err != nil {
			return nil, fmt.Errorf("serialise %s: %w", mf.Estimator.Type, err)
		}
		mf.FormatVersion = 1
		mf.Estimator.State = state
		return mf.marshal()
	}
	return nil, fmt.Errorf("unknown model file format %q (want %s or %s)", format, ModelFileSluice, ModelFileJSON)
}

func finiteMetrics(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[k] = v
		}
	}
	return out
}

// marshal renders the file with its checksum, indented, ending in a newline.
func (mf *ModelFile) marshal() ([]byte, error) {
	mf.Checksum = ""
	body, err := json.Marshal(mf)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	mf.Checksum = hex.EncodeToString(sum[:])
	out, err := json.MarshalIndent(mf, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// LoadModel reads a model file's bytes and checks it field by field. It
// never runs code from the file: the estimator type must be one of the
// catalog's, and its state must decode into that type and fit its shape.
// Every failure wraps ErrBadModel and says what is wrong.
func LoadModel(name string, data []byte) (*Predictor, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", name, ErrBadModel, fmt.Sprintf(format, args...))
	}
	if bytes.HasPrefix(data, []byte(modelMagic2)) {
		mf, est, def, err := unmarshalModel2(data)
		if err != nil {
			return nil, bad("%v", err)
		}
		p := &Predictor{File: mf, est: est, def: def}
		if err := p.check(); err != nil {
			return nil, bad("%v", err)
		}
		return p, nil
	}
	if v, ok := bytes.CutPrefix(data, []byte(ModelFormat+" ")); ok {
		line, _, _ := bytes.Cut(v, []byte("\n"))
		if len(line) > 20 {
			line = line[:20]
		}
		return nil, bad("format version %q: this sluice reads versions 1 and 2; export the model again with this sluice, or upgrade sluice", line)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var mf ModelFile
	if err := dec.Decode(&mf); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line, col := lineCol(data, se.Offset-1)
			return nil, fmt.Errorf("%s:%d:%d: %w: %v", name, line, col, ErrBadModel, se)
		case errors.As(err, &te):
			line, col := lineCol(data, te.Offset)
			return nil, fmt.Errorf("%s:%d:%d: %w: field %s holds a %s, want %s", name, line, col, ErrBadModel, te.Field, te.Value, te.Type)
		case strings.Contains(err.Error(), "unexpected EOF") || err.Error() == "EOF":
			return nil, bad("the file is truncated")
		}
		return nil, bad("%v", err)
	}
	if mf.Format != ModelFormat {
		return nil, bad("format is %q, want %q", mf.Format, ModelFormat)
	}
	if mf.FormatVersion != 1 {
		return nil, bad("format version %d in a JSON file: JSON model files are version 1; export the model again with this sluice", mf.FormatVersion)
	}
	want := mf.Checksum
	if _, err := mf.marshal(); err != nil {
		return nil, bad("%v", err)
	}
	if mf.Checksum != want {
		return nil, bad("checksum mismatch: the file was changed after it was written")
	}
	def, ok := estimatorByName(mf.Estimator.Type)
	if !ok {
		return nil, bad("unknown estimator type %q", mf.Estimator.Type)
	}
	est := def.new()
	sd := json.NewDecoder(bytes.NewReader(mf.Estimator.State))
	sd.DisallowUnknownFields()
	if err := sd.Decode(est); err != nil {
		return nil, bad("estimator state: %v", err)
	}
	p := &Predictor{File: &mf, est: est, def: def}
	if err := p.check(); err != nil {
		return nil, bad("%v", err)
	}
	return p, nil
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Predictor applies a loaded model to raw rows.
type Predictor struct {
	File *ModelFile
	est  ml.Estimator
	def  *estimatorDef
}

// check validates the model's shape by predicting one synthetic row
// (every input column at a typical value), recovering from any panic a
// malformed state would cause.
func (p *Predictor) check() (err error) {
	mf := p.File
	if len(mf.Input) == 0 || len(mf.Features) == 0 {
		return errors.New("no input columns or features")
	}
	if mf.Task == taskClassification && len(mf.Classes) < 2 {
		return errors.New("a classifier needs at least two classes")
	}
	for _, c := range mf.Input {
		if _, err := frame.ParseType(c.Type); err != nil {
			return fmt.Errorf("input column %s: %v", c.Name, err)
		}
	}
	for i, s := range mf.Chain {
		if s == nil {
			return fmt.Errorf("chain step %d is empty", i+1)
		}
	}
	if err := checkDeclaredSizes(p.est, len(mf.Features), len(mf.Classes)); err != nil {
		return err
	}
	cols := make([]*frame.Column, len(mf.Input))
	for j, c := range mf.Input {
		t, _ := frame.ParseType(c.Type)
		switch {
		case len(c.Categories) > 0:
			cols[j] = frame.NewString(c.Name, []string{c.Categories[0]}, nil)
		case t == frame.String:
			cols[j] = frame.NewString(c.Name, []string{""}, nil)
		case t == frame.Bool:
			cols[j] = frame.NewBool(c.Name, []bool{false}, nil)
		default:
			cols[j] = frame.NewFloat(c.Name, []float64{0}, nil)
		}
	}
	f, err := frame.New(cols...)
	if err != nil {
		return err
	}
	_, err = p.Predict(f)
	return err
}

// Prediction is the result for a batch of rows.
type Prediction struct {
	Values []float64    // class codes or values (cluster ids for kmeans)
	Labels []string     // class labels (classification), formatted values otherwise
	Proba  *mat.Dense   // class probabilities when the estimator has them
	Rows   *frame.Frame // the input rows
}

// Predict runs raw rows through the chain and the estimator. A missing
// input column is an error naming it; extra columns are ignored; an
// unseen category encodes as all zeros.
func (p *Predictor) Predict(rows *frame.Frame) (pred *Prediction, err error) {
	defer func() {
		if r := recover(); r != nil {
			pred, err = nil, fmt.Errorf("model state does not fit its shape: %v", r)
		}
	}()
	mf := p.File
	var cols []*frame.Column
	for _, in := range mf.Input {
		c, _ := rows.ColByName(in.Name)
		if c == nil {
			return nil, fmt.Errorf("input has no column %q (the model needs %s)", in.Name, inputNames(mf.Input))
		}
		conv, err := conformColumn(c, in)
		if err != nil {
			return nil, err
		}
		cols = append(cols, conv)
	}
	f, err := frame.New(cols...)
	if err != nil {
		return nil, err
	}
	for _, s := range mf.Chain {
		if f, err = s.Apply(f); err != nil {
			return nil, err
		}
	}
	f, err = f.Select(mf.Features...)
	if err != nil {
		return nil, fmt.Errorf("features after the chain: %v", err)
	}
	X, err := matrix(f)
	if err != nil {
		return nil, err
	}
	if err := checkFinite(X, mf.Features, "feature", takesMissing(p.est)); err != nil {
		return nil, err
	}
	pred = &Prediction{Rows: rows, Values: p.est.Predict(nil, X)}
	if c, ok := p.est.(ml.Classifier); ok && mf.Task == taskClassification {
		pred.Proba = c.PredictProba(nil, X)
	}
	pred.Labels = make([]string, len(pred.Values))
	for i, v := range pred.Values {
		switch {
		case mf.Task == taskClassification:
			k := int(v)
			if k < 0 || k >= len(mf.Classes) {
				return nil, fmt.Errorf("estimator predicted class %d of %d", k, len(mf.Classes))
			}
			pred.Labels[i] = mf.Classes[k]
		case mf.Task == taskClustering:
			pred.Labels[i] = fmt.Sprint(int(v))
		default:
			pred.Labels[i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	return pred, nil
}

func inputNames(in []InputColumn) string {
	names := make([]string, len(in))
	for i, c := range in {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// conformColumn converts a raw column to the type the model saw in
// training: numbers from text where needed, categories as strings.
func conformColumn(c *frame.Column, in InputColumn) (*frame.Column, error) {
	t, _ := frame.ParseType(in.Type)
	if t == frame.String || t == frame.Bool || len(in.Categories) > 0 {
		if c.Type == frame.String {
			return c, nil
		}
		vals := stringsOf(c)
		nulls := c.Nulls()
		return frame.NewString(c.Name, vals, nulls), nil
	}
	if c.Type.Numeric() {
		return c, nil
	}
	vals := make([]float64, c.Len())
	nulls := make([]bool, c.Len())
	for i := range vals {
		if c.IsNull(i) {
			nulls[i] = true
			continue
		}
		s := strings.TrimSpace(c.Str(i))
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("column %s, row %d: %q is not a number", c.Name, i+1, s)
		}
		vals[i] = v
	}
	return frame.NewFloat(c.Name, vals, nulls), nil
}

// Estimator returns the loaded estimator (for inspection).
func (p *Predictor) Estimator() ml.Estimator { return p.est }

// importances returns the estimator's feature importances, if it has any.
func importances(est ml.Estimator) []float64 {
	if im, ok := est.(ml.Importancer); ok {
		return im.FeatureImportances()
	}
	return nil
}

// ReadSchema gives the column types to read raw input with, for the
// columns of header the model uses: categories as strings, the rest as
// numbers. Columns it does not use are left to inference.
func (p *Predictor) ReadSchema(header []string) map[string]frame.Type {
	out := map[string]frame.Type{}
	for _, in := range p.File.Input {
		if !contains(header, in.Name) {
			continue
		}
		t, _ := frame.ParseType(in.Type)
		switch {
		case t == frame.String || t == frame.Bool || len(in.Categories) > 0:
			out[in.Name] = frame.String
		default:
			out[in.Name] = frame.Float
		}
	}
	return out
}

// ProbaColumns names the probability columns predict appends, one per
// class ("proba_<class>"), or nil when the model gives none.
func (p *Predictor) ProbaColumns() []string {
	if _, ok := p.est.(ml.Classifier); !ok || p.File.Task != taskClassification {
		return nil
	}
	out := make([]string, len(p.File.Classes))
	for i, c := range p.File.Classes {
		out[i] = "proba_" + c
	}
	return out
}

// DescribeModel reads a model file (name places its errors, as LoadModel)
// and describes it for people: the estimator, task, target, classes, the
// preprocessing chain one line a step, parameters, the metrics it scored
// and its feature importances when the estimator has them. The caller
// adds what the file does not hold (run, stage, hash, confusion matrix).
func DescribeModel(name string, data []byte) (*engine.ModelDescription, error) {
	p, err := LoadModel(name, data)
	if err != nil {
		return nil, err
	}
	return p.Describe(), nil
}

// Describe describes the loaded model (see DescribeModel).
func (p *Predictor) Describe() *engine.ModelDescription {
	mf := p.File
	d := &engine.ModelDescription{Estimator: mf.Estimator.Type, Task: mf.Task, Target: mf.Target,
		Classes: mf.Classes, Params: mf.Estimator.Params, Metrics: mf.Metrics}
	for _, s := range mf.Chain {
		d.Chain = append(d.Chain, s.Describe())
	}
	for i, x := range importances(p.est) {
		name := fmt.Sprint(i)
		if i < len(mf.Features) {
			name = mf.Features[i]
		}
		d.Importances = append(d.Importances, engine.Importance{Feature: name, Value: x})
	}
	return d
}
