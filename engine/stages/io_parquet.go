package stages

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

func readParquetStage() *engine.StageType {
	return &engine.StageType{
		Name:  "read_parquet",
		Group: "extract",
		Doc:   "read a Parquet file, a folder of part files or a glob into a table",
		In:    engine.KindNone, MinIn: 0, MaxIn: 0, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "path", Type: engine.TypePath, Required: true, Input: true, Glob: true, Doc: "the Parquet file, a folder of part files, or a glob, relative to the pipeline file"},
			{Name: "columns", Type: engine.TypeStrings, Doc: "read only these columns, in this order (default: all)"},
			{Name: "with_source", Type: engine.TypeBool, Default: false, Doc: "add a source_file column naming the file each row came from"},
		},
		Check: checkReadParquet,
		Run:   runReadParquet,
	}
}

// checkReadParquet reads the footer of the first file for the columns.
func checkReadParquet(p engine.Params, in []engine.Shape, env engine.CheckEnv) (engine.Shape, []error) {
	names, err := engine.ExpandInput(env.Dir, p.String("path"))
	if err != nil {
		return tableShape(nil), nil // validation reports a missing file itself
	}
	s, err := parquetSchema(engine.ResolvePath(env.Dir, names[0]), p.Strings("columns"))
	if err != nil {
		if _, ok := err.(parquetColumnsError); ok {
			return tableShape(nil), []error{paramErr("columns", "%s: %v", names[0], err)}
		}
		return tableShape(nil), []error{paramErr("path", "%s: %v", names[0], err)}
	}
	return tableShape(withSourceSchema(p, s)), nil
}

type parquetColumnsError struct{ error }

// parquetSchema returns the frame schema of the Parquet file at path, or
// of the given columns of it, from its footer alone.
func parquetSchema(path string, columns []string) (frame.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	file, err := parquet.OpenFile(f, st.Size(), parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return nil, fmt.Errorf("not a readable parquet file: %w", err)
	}
	leaves, err := parquetLeaves(file, columns)
	if err != nil {
		if len(columns) > 0 {
			return nil, parquetColumnsError{err}
		}
		return nil, err
	}
	logical := parquetLogicalTypes(file)
	s := make(frame.Schema, len(leaves))
	for i, l := range leaves {
		sink, err := newParquetSink(l, logical[l.Name()], 0, 0)
		if err != nil {
			return nil, err
		}
		s[i] = frame.Field{Name: l.Name(), Type: sink.t}
	}
	return s, nil
}

func runReadParquet(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
	columns := sc.Params.Strings("columns")
	var base int64
	f, names, err := readMany(ctx, sc, func(name, path string) (*frame.Frame, error) {
		file, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer file.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
		st, err := file.Stat()
		if err != nil {
			return nil, err
		}
		t, err := ReadParquet(file, st.Size(), ParquetReadOptions{
			Columns: columns,
			Name:    name,
			Progress: func(done, total int64) {
				sc.Progress(base+done, 0, "rows")
			},
		})
		if err != nil {
			return nil, err
		}
		base += int64(t.NumRows())
		return t, nil
	})
	if err != nil {
		return nil, err
	}
	sc.Progress(int64(f.NumRows()), int64(f.NumRows()), "rows")
	if len(names) == 1 {
		sc.Logf("read %s from %s", rowsText(f), names[0])
	} else {
		sc.Logf("read %s from %d files (%s … %s)", rowsText(f), len(names), names[0], names[len(names)-1])
	}
	return tableOutput(f), nil
}

func writeParquetStage() *engine.StageType {
	return &engine.StageType{
		Name:  "write_parquet",
		Group: "load",
		Doc:   "write the table to a Parquet file (atomically) and pass it on",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Cache: engine.CacheVerifyWrites, // runs again when its file is gone or changed
		Params: []engine.Param{
			{Name: "path", Type: engine.TypePath, Required: true, Output: true, Doc: "the file to write, relative to the pipeline file; folders are created"},
			{Name: "compression", Type: engine.TypeEnum, Enum: ParquetCompressions, Default: ParquetCompressions[0], Doc: "the codec of the data pages"},
		},
		Check: func(p engine.Params, in []engine.Shape, env engine.CheckEnv) (engine.Shape, []error) {
			path := engine.ResolvePath(env.Dir, p.String("path"))
			if fi, err := os.Stat(path); err == nil && fi.IsDir() {
				return engine.Shape{}, []error{paramErr("path", "%s is a folder, not a file", p.String("path"))}
			}
			if s := inSchema(in); s != nil && len(s) == 0 {
				return engine.Shape{}, []error{paramErr("path", "a Parquet file needs at least one column; the table has none")}
			}
			return passShape(in), nil
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			f, err := input(sc, 0)
			if err != nil {
				return nil, err
			}
			name, written, err := writeOutput(ctx, sc, func(_ string, w io.Writer) error {
				return WriteParquet(w, f, sc.Params.String("compression"))
			})
			if err != nil {
				return nil, err
			}
			sc.Logf("wrote %s to %s (%d bytes, %s)", rowsText(f), name, written, sc.Params.String("compression"))
			return tableOutput(f), nil
		},
	}
}
