package stages

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
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
		Check: func(p engine.Params, in []engine.Shape) (engine.Shape, []error) {
			path := engine.ResolvePath(p.PipelineDir(), p.String("path"))
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
			name := sc.Params.String("path")
			path, err := sc.OutputPath(name)
			if err != nil {
				return nil, err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
			var written int64
			err = frame.WriteFileAtomic(path, func(w io.Writer) error {
				cw := &ctxWriter{ctx: ctx, w: w, onWrite: func(n int64) { sc.Progress(n, 0, "bytes") }}
				zw, finish, err := compressingWriter(name, cw)
				if err != nil {
					return err
				}
				if err := format.write(zw, f); err != nil {
					return err
				}
				err = finish()
				written = cw.n
				return err
			})
			if err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("%s not written: %w", name, ctx.Err())
				}
				return nil, frameError{err}
			}
			sc.Progress(written, written, "bytes")
			sc.Logf("wrote %s to %s (%d bytes)", rowsText(f), name, written)
			return tableOutput(f), nil
		},
	}
}
