package stages

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/sluice-ml/sluice/engine"
)

func writeCSVStage() *engine.StageType {
	return writeStage(formatCSV, "write_csv", "write the table to a CSV file (atomically) and pass it on")
}

func writeJSONLStage() *engine.StageType {
	return writeStage(formatJSONL, "write_jsonl", "write the table as JSON objects, one per line (atomically), and pass it on")
}

func writeStage(format fileFormat, name, doc string) *engine.StageType {
	return &engine.StageType{
		Name:  name,
		Group: "load",
		Doc:   doc,
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Cache: engine.CacheVerifyWrites, // runs again when its file is gone or changed
		Params: []engine.Param{
			{Name: "path", Type: engine.TypePath, Required: true, Output: true, Doc: "the file to write, relative to the pipeline file; folders are created; compressed when it ends in .gz (gzip) or .zst (zstd)"},
		},
		Check: func(p engine.Params, in []engine.Shape, env engine.CheckEnv) (engine.Shape, []error) {
			path := engine.ResolvePath(env.Dir, p.String("path"))
			if fi, err := os.Stat(path); err == nil && fi.IsDir() {
				return engine.Shape{}, []error{paramErr("path", "%s is a folder, not a file", p.String("path"))}
			}
			return passShape(in), nil
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			f, err := input(sc, 0)
			if err != nil {
				return nil, err
			}
			name, written, err := writeOutput(ctx, sc, func(name string, w io.Writer) error {
				zw, finish, err := compressingWriter(name, w)
				if err != nil {
					return err
				}
				if err := format.write(zw, f); err != nil {
					return err
				}
				return finish()
			})
			if err != nil {
				return nil, err
			}
			sc.Logf("wrote %s to %s (%d bytes)", rowsText(f), name, written)
			return tableOutput(f), nil
		},
	}
}

// writeOutput writes a stage's file, the one its path parameter names, for
// the write_* stages: folders are created, the bytes go to a temporary
// file renamed over the path only once complete (engine.WriteFileAtomic),
// progress counts bytes, and a cancelled run stops at the next write. It
// returns the path as the pipeline wrote it and the bytes written. Errors
// name the file: "PATH not written: context canceled" when the run was
// stopped, "PATH: …" when encode failed, and the write's own error
// (which names it) otherwise.
func writeOutput(ctx context.Context, sc *engine.StageContext, encode func(name string, w io.Writer) error) (name string, written int64, err error) {
	name = sc.Params.String("path")
	var encErr error
	_, err = sc.WriteOutput(name, func(w io.Writer) error {
		cw := &ctxWriter{ctx: ctx, w: w, onWrite: func(n int64) { sc.Progress(n, 0, "bytes") }}
		encErr = encode(name, cw)
		written = cw.n
		return encErr
	})
	switch {
	case err == nil:
		sc.Progress(written, written, "bytes")
		return name, written, nil
	case ctx.Err() != nil:
		return name, 0, fmt.Errorf("%s not written: %w", name, ctx.Err())
	case encErr != nil:
		return name, 0, fmt.Errorf("%s: %w", name, frameError{encErr})
	default:
		return name, 0, frameError{err}
	}
}
