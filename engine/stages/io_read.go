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
			{Name: "path", Type: engine.TypePath, Required: true, Input: true, Glob: true, Doc: "the CSV file (plain, gzip or zstd), a glob or a folder, relative to the pipeline file"},
			{Name: "with_source", Type: engine.TypeBool, Default: false, Doc: "add a source_file column naming the file each row came from"},
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
			{Name: "path", Type: engine.TypePath, Required: true, Input: true, Glob: true, Doc: "the JSONL file (plain, gzip or zstd), a glob or a folder, relative to the pipeline file"},
			{Name: "with_source", Type: engine.TypeBool, Default: false, Doc: "add a source_file column naming the file each row came from"},
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
	return func(p engine.Params, in []engine.Shape, env engine.CheckEnv) (engine.Shape, []error) {
		opts, errs := readOptions(p)
		if len(errs) > 0 {
			return tableShape(nil), errs
		}
		names, err := engine.ExpandInput(env.Dir, p.String("path"))
		if err != nil {
			return tableShape(nil), nil // validation reports a missing file itself
		}
		s, errs := sniff(engine.ResolvePath(env.Dir, names[0]), names[0], format, opts)
		return tableShape(withSourceSchema(p, s)), errs
	}
}

// withSourceSchema adds the source_file column to s when with_source is set.
func withSourceSchema(p engine.Params, s frame.Schema) frame.Schema {
	if s == nil || !p.Bool("with_source") || s.Index(sourceColumn) >= 0 {
		return s
	}
	return append(append(frame.Schema{}, s...), frame.Field{Name: sourceColumn, Type: frame.String})
}

// sniff reads the start of the file at path and returns its columns. It
// returns nil and no error when the file cannot be read (validation
// reports a missing file itself) or its start says nothing for sure.
func sniff(path, name string, format fileFormat, opts frame.ReadOptions) (frame.Schema, []error) {
	f, err := openData(path)
	if err != nil {
		return nil, nil
	}
	defer f.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
	buf := make([]byte, sniffBytes)
	n, err := io.ReadFull(f.r, buf)
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
		names, err := engine.ExpandInput(sc.Plan.Spec.Dir, sc.Params.String("path"))
		if err != nil {
			return nil, err
		}
		// Progress counts the files' bytes (compressed bytes for a
		// compressed file) over all of them.
		var total, base int64
		for _, name := range names {
			if st, err := os.Stat(sc.Path(name)); err == nil {
				total += st.Size()
			}
		}
		f, _, err := readMany(ctx, sc, func(name, path string) (*frame.Frame, error) {
			d, err := openData(path)
			if err != nil {
				return nil, err
			}
			defer d.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
			o := opts
			o.Name = name
			if d.codec == "" {
				o.Size = d.size
				o.Progress = func(done, _ int64) { sc.Progress(base+done, total, "bytes") }
			} else {
				o.Progress = func(int64, int64) { sc.Progress(base+d.raw.Count(), total, "bytes") }
			}
			t, err := format.read(&ctxReader{ctx: ctx, r: d.r}, o)
			base += d.size
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, frameError{d.wrap(name, err)}
			}
			return t, nil
		})
		if err != nil {
			return nil, err
		}
		sc.Progress(total, total, "bytes")
		if len(names) == 1 {
			sc.Logf("read %s from %s", rowsText(f), names[0])
		} else {
			sc.Logf("read %s from %d files (%s … %s)", rowsText(f), len(names), names[0], names[len(names)-1])
		}
		return tableOutput(f), nil
	}
}

// frameError hides the "frame: " that frame's own errors start with (in a
// stage's message the package name says nothing to the user) and keeps
// the error chain.
type frameError struct{ err error }

func (e frameError) Error() string { return trimFramePrefix(e.err) }
func (e frameError) Unwrap() error { return e.err }
