package stages

import (
	"context"
	"fmt"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

var pColumns = engine.Param{Name: "columns", Type: engine.TypeStrings, Doc: "columns to transform (default: every suitable feature column)"}

func preprocessStages() []*engine.StageType {
	mk := func(name, doc string, params []engine.Param, numeric bool, shape func(p engine.Params, s frame.Schema) (frame.Schema, []error)) *engine.StageType {
		return &engine.StageType{
			Name: name, Group: "preprocess", Doc: doc, In: engine.KindSplit, MinIn: 1, MaxIn: 1, Out: engine.KindSplit,
			Params: append([]engine.Param{pColumns}, params...),
			Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
				out := in[0]
				schema := schemaOf(out)
				if schema == nil {
					return out, nil
				}
				var errs []error
				for _, c := range p.Strings("columns") {
					i := schema.Index(c)
					if i < 0 {
						errs = append(errs, &engine.ParamError{Param: "columns", Msg: fmt.Sprintf("no feature column %q%s", c, suggest(c, schema.Names()))})
					} else if numeric && (schema[i].Type == frame.String || schema[i].Type == frame.Time) {
						errs = append(errs, &engine.ParamError{Param: "columns", Msg: fmt.Sprintf("column %s is %s; %s needs numbers (one_hot it first)", c, schema[i].Type, name)})
					}
				}
				if shape != nil && len(errs) == 0 {
					s, e := shape(p, schema)
					out.Schema = shapeSchema(s)
					errs = append(errs, e...)
				}
				return out, errs
			},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				in, err := splitOf(sc.Inputs[0])
				if err != nil {
					return nil, err
				}
				params := map[string]any{}
				for k, v := range sc.Params {
					params[k] = v
				}
				step, err := fitStep(name, params, sc.Params.Strings("columns"), in.Train)
				if err != nil {
					return nil, err
				}
				s := in.clone()
				if s.Train, err = step.Apply(in.Train); err != nil {
					return nil, err
				}
				if s.Test, err = step.Apply(in.Test); err != nil {
					return nil, fmt.Errorf("test rows: %w", err)
				}
				s.Chain = append(s.Chain, step)
				sc.Logf("fitted on %d training rows: %s", in.Train.NumRows(), step.Describe())
				return &engine.Output{Value: s}, nil
			},
		}
	}
	numericOnly := func(name string) func(engine.Params, frame.Schema) (frame.Schema, []error) {
		return func(p engine.Params, s frame.Schema) (frame.Schema, []error) { return s, nil }
	}
	return []*engine.StageType{
		mk("standard_scaler", "centre each numeric feature and scale it to unit variance (fitted on train)", nil, true, numericOnly("standard_scaler")),
		mk("minmax_scaler", "scale each numeric feature to [min, max] (fitted on train)", []engine.Param{
			{Name: "min", Type: engine.TypeFloat, Default: 0.0, Doc: "lower end of the range"},
			{Name: "max", Type: engine.TypeFloat, Default: 1.0, Doc: "upper end of the range"},
			{Name: "clip", Type: engine.TypeBool, Default: false, Doc: "clip test values into the range"},
		}, true, nil),
		mk("one_hot", "encode categorical features as 0/1 columns; unseen categories encode as all zeros", nil, false,
			func(p engine.Params, s frame.Schema) (frame.Schema, []error) {
				cols := p.Strings("columns")
				var out frame.Schema
				for _, f := range s {
					if (len(cols) == 0 && (f.Type == frame.String || f.Type == frame.Bool)) || contains(cols, f.Name) {
						out = append(out, frame.Field{Name: f.Name + "_*", Type: frame.Float})
						continue
					}
					out = append(out, f)
				}
				return out, nil
			}),
		mk("impute", "fill missing feature values (fitted on train)", []engine.Param{
			{Name: "strategy", Type: engine.TypeEnum, Enum: []string{"mean", "median", "most_frequent", "constant"}, Default: "mean", Doc: "what fills a missing value"},
			{Name: "fill_value", Type: engine.TypeString, Scalars: true, Doc: "the value for strategy constant"},
		}, false, nil),
		mk("pca", "project numeric features onto their principal components", []engine.Param{
			{Name: "n_components", Type: engine.TypeInt, Default: 0, Min: nonNegative, Doc: "components kept (0: all)"},
			{Name: "whiten", Type: engine.TypeBool, Default: false, Doc: "scale components to unit variance"},
		}, true, func(p engine.Params, s frame.Schema) (frame.Schema, []error) {
			var out frame.Schema
			for _, f := range s {
				if f.Type == frame.String || f.Type == frame.Time {
					out = append(out, f)
				}
			}
			return append(out, frame.Field{Name: "pc*", Type: frame.Float}), nil
		}),
	}
}
