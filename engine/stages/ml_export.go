package stages

import (
	"context"
	"io"

	"github.com/sluice-ml/sluice/engine"
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
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			return in[0], nil // the write policy is checked by validation (engine.OutputPath)
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			m, err := modelOf(sc.Inputs[0])
			if err != nil {
				return nil, err
			}
			_, size, err := ExportModelFileTo(sc.ID(), m.File, sc.Params.String("format"), func(write func(io.Writer) error) error {
				_, err := sc.WriteOutput(sc.Params.String("path"), write)
				return err
			})
			if err != nil {
				return nil, err
			}
			sc.Logf("wrote %s (%d bytes)", sc.Params.String("path"), size)
			return &engine.Output{Value: sc.Inputs[0]}, nil
		},
	}
}
