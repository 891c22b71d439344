package stages

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

func exportStage() *engine.StageType {
	return &engine.StageType{
		Name: "export_model", Group: "export", Doc: "write the model file (raw rows in, predictions out) atomically",
		In: engine.KindModel, MinIn: 1, MaxIn: 1, Out: engine.KindModel,
		Cache: engine.CacheVerifyWrites, // runs again when its file is gone or changed
		Params: []engine.Param{
			{Name: "path", Type: engine.TypePath, Output: true, Required: true, Doc: "where to write the model file"},
			{Name: "format", Type: engine.TypeEnum, Enum: []string{ModelFileSluice, ModelFileJSON}, Default: ModelFileSluice, Doc: "file format: sluice (model format 2, packed) or json (model format 1)"},
		},
		Check: func(p engine.Params, in []engine.Shape) (engine.Shape, []error) {
			return in[0], nil // the write policy is checked by validation (engine.OutputPath)
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			m, err := modelOf(sc.Inputs[0])
			if err != nil {
				return nil, err
			}
			path, err := sc.OutputPath(sc.Params.String("path"))
			if err != nil {
				return nil, err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
			data := m.File
			if sc.Params.String("format") == ModelFileJSON {
				p, err := LoadModel(sc.ID(), m.File)
				if err != nil {
					return nil, err
				}
				if data, err = EncodeModelFile(p, ModelFileJSON); err != nil {
					return nil, err
				}
			}
			if err := frame.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
				return nil, err
			}
			sc.Logf("wrote %s (%d bytes)", sc.Params.String("path"), len(data))
			return &engine.Output{Value: sc.Inputs[0]}, nil
		},
	}
}
