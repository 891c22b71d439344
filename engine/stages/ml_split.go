package stages

import (
	"context"
	"fmt"
	"strings"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/ml"
)

func splitStage() *engine.StageType {
	return &engine.StageType{
		Name: "split", Group: "split", Doc: "split a table into train and test rows (or take train and test tables as given)",
		In: engine.KindTable, MinIn: 1, MaxIn: 2, Out: engine.KindSplit,
		Params: []engine.Param{
			{Name: "target", Type: engine.TypeString, Scalars: true, Required: true, Doc: "the column to predict"},
			{Name: "test_size", Type: engine.TypeFloat, Default: 0.25, Min: engine.Range(0.001), Max: engine.Range(0.999), Doc: "share of rows held out for testing (one table)"},
			{Name: "stratify", Type: engine.TypeBool, Default: false, Doc: "keep class proportions in both parts (classification)"},
			{Name: "shuffle", Type: engine.TypeBool, Default: true, Doc: "shuffle rows before splitting, from the stage seed"},
			{Name: "task", Type: engine.TypeEnum, Enum: []string{"auto", taskClassification, taskRegression}, Default: "auto", Doc: "what the target is; auto: labels and small integer sets are classes"},
			{Name: "features", Type: engine.TypeStrings, Doc: "feature columns (default: every column but the target)"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			var errs []error
			target := p.String("target")
			out := engine.Shape{Target: target}
			for i, sh := range in {
				s := schemaOf(sh)
				if s == nil {
					continue
				}
				if s.Index(target) < 0 {
					what := "the table"
					if len(in) == 2 {
						what = []string{"the train table", "the test table"}[i]
					}
					errs = append(errs, &engine.ParamError{Param: "target", Msg: fmt.Sprintf("%s has no column %q%s", what, target, suggest(target, s.Names()))})
					continue
				}
				if i > 0 {
					continue
				}
				var feats frame.Schema
				for _, f := range s {
					if f.Name != target && (len(p.Strings("features")) == 0 || contains(p.Strings("features"), f.Name)) {
						feats = append(feats, f)
					}
				}
				for _, f := range p.Strings("features") {
					if s.Index(f) < 0 {
						errs = append(errs, &engine.ParamError{Param: "features", Msg: fmt.Sprintf("no column %q%s", f, suggest(f, s.Names()))})
					}
				}
				out.Schema = shapeSchema(feats)
				switch t := s[s.Index(target)].Type; {
				case p.String("task") != "auto":
					out.Task = p.String("task")
				case t == frame.String || t == frame.Bool:
					out.Task = taskClassification
				case t == frame.Float:
					out.Task = taskRegression
				}
			}
			if p.Bool("stratify") && out.Task == taskRegression {
				errs = append(errs, &engine.ParamError{Param: "stratify", Msg: "stratify needs a classification target"})
			}
			if p.Bool("stratify") && !p.Bool("shuffle") {
				errs = append(errs, &engine.ParamError{Param: "stratify", Msg: "stratify needs shuffle: true"})
			}
			return out, errs
		},
		Run: runSplit,
	}
}

func runSplit(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
	p := sc.Params
	target := p.String("target")
	tables := make([]*frame.Frame, len(sc.Inputs))
	for i := range sc.Inputs {
		in, err := input(sc, i)
		if err != nil {
			return nil, err
		}
		tables[i] = in
		if c, _ := in.ColByName(target); c == nil {
			return nil, fmt.Errorf("no target column %q (have %s)", target, strings.Join(in.Names(), ", "))
		}
		// Rows without a target cannot be learned from or scored.
		tc, _ := in.ColByName(target)
		if tc.HasNulls() {
			var keep []int
			for r := 0; r < tc.Len(); r++ {
				if !tc.IsNull(r) {
					keep = append(keep, r)
				}
			}
			sc.Logf("dropped %d rows with no %s", tc.Len()-len(keep), target)
			tables[i] = in.Take(keep)
		}
	}
	full := tables[0]
	tcol, _ := full.ColByName(target)
	task := p.String("task")
	if task == "auto" {
		task = inferTask(tcol)
	}
	var train, test *frame.Frame
	if len(tables) == 2 {
		train, test = tables[0], tables[1]
		if !sameColumns(train, test) {
			return nil, fmt.Errorf("the train and test tables have different columns: %s vs %s", strings.Join(train.Names(), ", "), strings.Join(test.Names(), ", "))
		}
	} else {
		opt := ml.SplitOptions{TestSize: p.Float("test_size"), NoShuffle: !p.Bool("shuffle"), Seed: sc.Seed}
		if p.Bool("stratify") {
			if task != taskClassification {
				return nil, fmt.Errorf("stratify needs a classification target; %s is %s", target, task)
			}
			classes := classesOf(tcol)
			y, err := encodeTarget(tcol, task, classes)
			if err != nil {
				return nil, err
			}
			opt.Stratify = y
		}
		tr, te, err := ml.TrainTestSplit(full.NumRows(), opt)
		if err != nil {
			return nil, err
		}
		train, test = full.Take(tr), full.Take(te)
	}
	trT, _ := train.ColByName(target)
	teT, _ := test.ColByName(target)
	s := &Split{Target: target, Task: task}
	if task == taskClassification {
		s.Classes = classesOf(trT)
		if len(s.Classes) < 2 {
			return nil, fmt.Errorf("target %s has %d class in the training rows; a classifier needs two or more", target, len(s.Classes))
		}
	}
	var err error
	if s.YTrain, err = encodeTarget(trT, task, s.Classes); err != nil {
		return nil, err
	}
	if s.YTest, err = encodeTarget(teT, task, s.Classes); err != nil {
		return nil, err
	}
	feats := p.Strings("features")
	if len(feats) == 0 {
		for _, n := range train.Names() {
			if n != target {
				feats = append(feats, n)
			}
		}
	}
	if s.RawTrain, err = train.Select(feats...); err != nil {
		return nil, err
	}
	if s.RawTest, err = test.Select(feats...); err != nil {
		return nil, err
	}
	s.Train, s.Test = s.RawTrain, s.RawTest
	s.Input = inputColumns(s.RawTrain)
	sc.Logf("%s: %d train rows, %d test rows, %d features%s", task, train.NumRows(), test.NumRows(), len(feats), classText(s.Classes))
	return &engine.Output{Value: s,
		Metrics: map[string]float64{"train_rows": float64(train.NumRows()), "test_rows": float64(test.NumRows())}}, nil
}

func classText(classes []string) string {
	if len(classes) == 0 {
		return ""
	}
	if len(classes) > 10 {
		return fmt.Sprintf(", %d classes", len(classes))
	}
	return ", classes " + strings.Join(classes, ", ")
}

func sameColumns(a, b *frame.Frame) bool {
	an, bn := a.Names(), b.Names()
	if len(an) != len(bn) {
		return false
	}
	for _, n := range an {
		if c, _ := b.ColByName(n); c == nil {
			return false
		}
	}
	return true
}
