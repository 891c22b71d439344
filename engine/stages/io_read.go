package stages

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"unicode/utf8"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

// fileFormat is a table file format the extract and load stages know.
type fileFormat uint8

const (
	formatCSV fileFormat = iota + 1
	formatJSONL
)

func (f fileFormat) String() string {
	if f == formatJSONL {
		return "JSONL"
	}
	return "CSV"
}

func (f fileFormat) read(r io.Reader, opts frame.ReadOptions) (*frame.Frame, error) {
	if f == formatJSONL {
		return frame.ReadJSONL(r, opts)
	}
	return frame.ReadCSV(r, opts)
}

func (f fileFormat) write(w io.Writer, t *frame.Frame) error {
	if f == formatJSONL {
		return frame.WriteJSONL(w, t)
	}
	return frame.WriteCSV(w, t)
}

// Sniffing: validation reads the start of an input file to learn its
// columns, so downstream expressions and column names can be checked
// before anything runs.
const (
	sniffRows  = 500     // data rows read at most
	sniffBytes = 1 << 18 // bytes read at most
)

func readCSVStage() *engine.StageType {
	return &engine.StageType{
		Name:  "read_csv",
		Group: "extract",
		Doc:   "read a CSV file with a header row into a table, inferring column types",
		In:    engine.KindNone, MinIn: 0, MaxIn: 0, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "path", Type: engine.TypePath, Required: true, Input: true, Doc: "the CSV file, relative to the pipeline file"},
			{Name: "schema", Type: engine.TypeMap, Doc: "column types instead of inferred ones: {column: float|int|bool|string|time}"},
			{Name: "delimiter", Type: engine.TypeString, Default: ",", Doc: "the field separator, one character (\"\\t\" or tab for tabs)"},
			{Name: "null_values", Type: engine.TypeStrings, Doc: "field texts read as missing (default: NA, N/A, NaN, null, NULL, nan); an empty field always is"},
		},
		Check: checkRead(formatCSV),
		Run:   runRead(formatCSV),
	}
}

func readJSONLStage() *engine.StageType {
	return &engine.StageType{
		Name:  "read_jsonl",
		Group: "extract",
		Doc:   "read a file of JSON objects, one per line, into a table",
		In:    engine.KindNone, MinIn: 0, MaxIn: 0, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "path", Type: engine.TypePath, Required: true, Input: true, Doc: "the JSONL file, relative to the pipeline file"},
			{Name: "schema", Type: engine.TypeMap, Doc: "column types instead of inferred ones: {column: float|int|bool|string|time}"},
		},
		Check: checkRead(formatJSONL),
		Run:   runRead(formatJSONL),
	}
}

// readOptions turns a read stage's parameters into frame.ReadOptions.
func readOptions(p engine.Params) (frame.ReadOptions, []error) {
	var opts frame.ReadOptions
	var errs []error
	if m := p.Map("schema"); len(m) > 0 {
		opts.Schema, errs = typeMap("schema", m)
	}
	if p.Has("delimiter") {
		d, err := delimiter(p.String("delimiter"))
		if err != nil {
			errs = append(errs, err)
		}
		opts.Delimiter = d
	}
	if p.Has("null_values") {
		opts.NullValues = append([]string{}, p.Strings("null_values")...)
	}
	return opts, errs
}

func delimiter(s string) (rune, error) {
	switch s {
	case "", ",":
		return ',', nil
	case `\t`, "tab", "\t":
		return '\t', nil
	}
	r, n := utf8.DecodeRuneInString(s)
	if n != len(s) || r == '"' || r == '\r' || r == '\n' || r >= utf8.RuneSelf {
		return 0, paramErr("delimiter", "want one ASCII character other than a quote or newline, got %q", s)
	}
	return r, nil
}

func checkRead(format fileFormat) engine.CheckFunc {
	return func(p engine.Params, in []engine.Shape) (engine.Shape, []error) {
		opts, errs := readOptions(p)
		if len(errs) > 0 {
			return tableShape(nil), errs
		}
		name := p.String("path")
		s, errs := sniff(engine.ResolvePath(p.PipelineDir(), name), name, format, opts)
		return tableShape(s), errs
	}
}

// sniff reads the start of the file at path and returns its columns. It
// returns nil and no error when the file cannot be read (validation
// reports a missing file itself) or its start says nothing for sure.
func sniff(path, name string, format fileFormat, opts frame.ReadOptions) (frame.Schema, []error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	buf := make([]byte, sniffBytes)
	n, err := io.ReadFull(f, buf)
	whole := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil && !whole {
		return nil, nil
	}
	buf = buf[:n]
	if !whole || n == sniffBytes {
		cut := recordEnd(buf, format == formatCSV, sniffRows+1)
		if cut <= 0 {
			return nil, nil // no whole record in the sample
		}
		buf = buf[:cut]
	}
	opts.Name = name
	forced := opts.Schema
	opts.Schema = nil
	t, err := format.read(bytes.NewReader(buf), opts)
	if err != nil {
		return nil, []error{paramErr("path", "%s", trimFramePrefix(err))}
	}
	s := t.Schema()
	if len(forced) == 0 {
		return s, nil
	}
	var errs []error
	for _, col := range sortedKeys(forced) {
		if s.Index(col) < 0 {
			errs = append(errs, noColumn("schema", col, s))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	opts.Schema = forced
	t, err = format.read(bytes.NewReader(buf), opts)
	if err != nil {
		return nil, []error{paramErr("schema", "%s", trimFramePrefix(err))}
	}
	return t.Schema(), nil
}

// recordEnd returns the offset just past the last record boundary in b
// within the first max records: a newline, outside double quotes when
// quotes is set. It returns 0 when b holds no whole record.
func recordEnd(b []byte, quotes bool, max int) int {
	inQuote := false
	end, records := 0, 0
	for i, c := range b {
		switch {
		case c == '"' && quotes:
			inQuote = !inQuote
		case c == '\n' && !inQuote:
			end = i + 1
			records++
			if records == max {
				return end
			}
		}
	}
	return end
}

// trimFramePrefix drops the "frame: " that frame's own errors start with:
// in a stage's message the package name says nothing to the user.
func trimFramePrefix(err error) string {
	s := err.Error()
	if len(s) > 7 && s[:7] == "frame: " {
		return s[7:]
	}
	return s
}

func runRead(format fileFormat) engine.RunFunc {
	return func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
		opts, errs := readOptions(sc.Params)
		if len(errs) > 0 {
			return nil, errs[0]
		}
		name := sc.Params.String("path")
		path := sc.Path(name)
		file, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		if st, err := file.Stat(); err == nil && st.Mode().IsRegular() {
			opts.Size = st.Size()
		}
		opts.Name = name
		opts.Progress = func(done, total int64) { sc.Progress(done, total, "bytes") }
		f, err := format.read(&ctxReader{ctx: ctx, r: file}, opts)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, frameError{err}
		}
		sc.Logf("read %s from %s", rowsText(f), name)
		return engine.TableOutput(f), nil
	}
}

// frameError hides the "frame: " that frame's own errors start with (in a
// stage's message the package name says nothing to the user) and keeps
// the error chain.
type frameError struct{ err error }

func (e frameError) Error() string { return trimFramePrefix(e.err) }
func (e frameError) Unwrap() error { return e.err }
