package stages_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/store/artifacts"
)

// mlPipeline writes a pipeline next to copies of testdata/ml and returns its path.
func mlPipeline(t testing.TB, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "data"), os.DirFS(filepath.Join("testdata", "ml"))); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runML validates and runs a pipeline and returns the run and the
// artifacts the executor recorded.
func runML(t testing.TB, path string, overrides ...string) (*engine.Run, map[string][]byte) {
	t.Helper()
	var ovs []engine.Override
	for _, o := range overrides {
		ov, err := engine.ParseOverride(o)
		if err != nil {
			t.Fatal(err)
		}
		ovs = append(ovs, ov)
	}
	plan, err := engine.LoadPlan(path, stages.Registry(), ovs)
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	dir, err := artifacts.Open(filepath.Join(t.TempDir(), "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &artifactRecorder{arts: map[string][]byte{}, store: dir}
	run, err := (&engine.Executor{Recorder: rec, Artifacts: dir}).Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != engine.StatusSucceeded {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	return run, rec.arts
}

// artifactRecorder reads back every artifact the executor records, by
// its reference, from the artifact store.
type artifactRecorder struct {
	engine.NopRecorder
	arts  map[string][]byte
	store engine.ArtifactStore
}

func (a *artifactRecorder) RecordRun(ctx context.Context, _ *engine.Run, d *engine.RunDelta) error {
	for _, x := range d.Artifacts {
		b, err := engine.ReadArtifact(ctx, a.store, x.SHA256)
		if err != nil {
			return err
		}
		a.arts[x.Stage+"/"+x.Name] = b
	}
	return nil
}

func metric(t *testing.T, r *engine.Run, stage, name string) float64 {
	t.Helper()
	s, ok := r.Stage(stage)
	if !ok {
		t.Fatalf("no stage %s", stage)
	}
	v, ok := s.Metrics[name]
	if !ok {
		t.Fatalf("stage %s has no metric %s: %v", stage, name, s.Metrics)
	}
	return v
}

const splitHead = `name: t
seed: 42
stages:
  - {id: train, uses: read_csv, with: {path: data/%[1]s_train.csv}}
  - {id: test, uses: read_csv, with: {path: data/%[1]s_test.csv}}
  - {id: split, uses: split, needs: [train, test], with: {target: %[2]s}}
  - {id: scale, uses: standard_scaler}
`

func head(dataset, target string) string {
	return strings.NewReplacer("%[1]s", dataset, "%[2]s", target).Replace(splitHead)
}

// TestEveryEstimatorFitsExportsAndPredictsTheSame fits each train stage
// type, loads its model file back and checks the predictions on the test
// rows give the same score as the stage reported.
func TestEveryEstimatorFitsExportsAndPredictsTheSame(t *testing.T) {
	t.Parallel()
	for _, typ := range stages.Registry().Types() {
		if typ.Group != "train" {
			continue
		}
		typ := typ
		t.Run(typ.Name, func(t *testing.T) {
			t.Parallel()
			dataset, target, score := "iris", "species", "accuracy"
			if strings.HasSuffix(typ.Name, "regressor") || strings.Contains("linear_regression ridge lasso elastic_net", typ.Name) {
				dataset, target, score = "diabetes", "progression", "r2"
			}
			extra := ""
			switch {
			case strings.HasPrefix(typ.Name, "hist_gradient_boosting"):
				extra = ", with: {max_iter: 20}"
			case strings.Contains(typ.Name, "forest") || strings.Contains(typ.Name, "boosting"):
				extra = ", with: {n_estimators: 20}"
			}
			if typ.Name == "kmeans" {
				extra = ", with: {n_clusters: 3}"
				score = "inertia"
			}
			path := mlPipeline(t, head(dataset, target)+"  - {id: model, uses: "+typ.Name+extra+"}\n")
			run, arts := runML(t, path)
			want := metric(t, run, "model", score)
			p, err := stages.LoadModel("model.json", arts["model/model"])
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			rows, err := frame.ReadCSVFile(filepath.Join(filepath.Dir(path), "data", dataset+"_test.csv"), frame.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			pred, err := p.Predict(rows)
			if err != nil {
				t.Fatalf("predict: %v", err)
			}
			if typ.Name == "kmeans" {
				return
			}
			truth, _ := rows.ColByName(target)
			var got float64
			if score == "accuracy" {
				right := 0
				for i, l := range pred.Labels {
					if l == truth.Str(i) {
						right++
					}
				}
				got = float64(right) / float64(len(pred.Labels))
			} else {
				var ssr, sst, mean float64
				for i := range pred.Values {
					v, _ := truth.Float(i)
					mean += v / float64(len(pred.Values))
				}
				for i, yhat := range pred.Values {
					v, _ := truth.Float(i)
					ssr += (v - yhat) * (v - yhat)
					sst += (v - mean) * (v - mean)
				}
				got = 1 - ssr/sst
			}
			if math.Abs(got-want) > 1e-9 {
				t.Errorf("the exported model scores %.6f on the test rows, the stage reported %.6f", got, want)
			}
		})
	}
}

func TestGridSearchMatchesScikitLearnOnBreastCancer(t *testing.T) {
	t.Parallel()
	// scikit-learn 1.2.1: GridSearchCV(Pipeline([StandardScaler(),
	// LogisticRegression(max_iter=1000)]), {C: [0.01, 0.1, 1, 10]}, cv=5)
	// on splits/breast_cancer_train.csv: best C 0.1, best CV accuracy
	// 0.9714285714285715, test accuracy 0.9824561403508771
	// (ml/testdata/reference.json, grid_search_breast_cancer).
	path := mlPipeline(t, strings.Replace(head("breast_cancer", "diagnosis"), "  - {id: scale, uses: standard_scaler}\n", `  - {id: scale, uses: standard_scaler}
  - id: tune
    uses: grid_search
    with: {model: logistic_regression, params: {max_iter: 1000}, grid: {C: [0.01, 0.1, 1, 10]}, cv: 5}
  - {id: score, uses: evaluate}
`, 1))
	run, arts := runML(t, path)
	if got := metric(t, run, "tune", "best_C"); got != 0.1 {
		t.Errorf("best C: got %v, want 0.1", got)
	}
	if got := metric(t, run, "tune", "best_cv_score"); math.Abs(got-0.9714285714285715) > 1e-9 {
		t.Errorf("best CV accuracy: got %.12f, want 0.971428571429", got)
	}
	if got := metric(t, run, "score", "accuracy"); math.Abs(got-0.9824561403508771) > 1e-9 {
		t.Errorf("test accuracy: got %.6f, want 0.982456", got)
	}
	if len(arts["tune/search"]) == 0 {
		t.Error("the candidates' scores are not kept")
	}
}

func TestPreprocessingFitsOnTrainOnly(t *testing.T) {
	t.Parallel()
	path := mlPipeline(t, head("iris", "species")+"  - {id: model, uses: gaussian_nb}\n")
	_, arts := runML(t, path)
	p, err := stages.LoadModel("m", arts["model/model"])
	if err != nil {
		t.Fatal(err)
	}
	// The scaler's mean is the training rows' mean (testdata/ml/iris_train.csv), not all rows'.
	train, _ := frame.ReadCSVFile(filepath.Join("testdata", "ml", "iris_train.csv"), frame.ReadOptions{})
	c, _ := train.ColByName("sepal_length")
	var mean float64
	for i := 0; i < c.Len(); i++ {
		v, _ := c.Float(i)
		mean += v / float64(c.Len())
	}
	got := p.File.Chain[0].Scaler.Mean[0]
	if math.Abs(got-mean) > 1e-12 {
		t.Errorf("scaler mean %.6f, want the training mean %.6f", got, mean)
	}
}

func TestOneHotAndUnseenCategories(t *testing.T) {
	t.Parallel()
	path := mlPipeline(t, `name: t
seed: 1
stages:
  - {id: load, uses: read_csv, with: {path: data/cats.csv}}
  - {id: split, uses: split, with: {target: label, test_size: 0.25, stratify: true}}
  - {id: encode, uses: one_hot}
  - {id: scale, uses: standard_scaler}
  - {id: model, uses: logistic_regression}
`)
	_, arts := runML(t, path)
	p, err := stages.LoadModel("m", arts["model/model"])
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := frame.New(frame.NewFloat("size", []float64{1, 3}, nil), frame.NewString("colour", []string{"purple", "green"}, nil), frame.NewFloat("weight", []float64{10, 20}, nil))
	pred, err := p.Predict(rows)
	if err != nil {
		t.Fatalf("an unseen category should encode as zeros, got %v", err)
	}
	if pred.Labels[0] != "a" || pred.Labels[1] != "b" {
		t.Errorf("predictions %v, want [a b]", pred.Labels)
	}
	missing, _ := frame.New(frame.NewFloat("size", []float64{1}, nil))
	if _, err := p.Predict(missing); err == nil || !strings.Contains(err.Error(), `no column "colour"`) {
		t.Errorf("a missing column: got %v", err)
	}
	// Without one_hot the string column is a validation error naming it.
	bad := mlPipeline(t, "name: t\nstages:\n  - {id: load, uses: read_csv, with: {path: data/cats.csv}}\n  - {id: split, uses: split, with: {target: label}}\n  - {id: model, uses: ridge}\n")
	_, err = engine.LoadPlan(bad, stages.Registry(), nil)
	if err == nil || !strings.Contains(err.Error(), "non-numeric feature columns colour") || !strings.Contains(err.Error(), "one_hot") {
		t.Errorf("validation: got %v", err)
	}
}

func TestCancelStopsALongFitPromptly(t *testing.T) {
	t.Parallel()
	path := mlPipeline(t, head("breast_cancer", "diagnosis")+"  - {id: model, uses: random_forest_classifier, with: {n_estimators: 100000}}\n")
	plan, err := engine.LoadPlan(path, stages.Registry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Cancelled once the forest has grown a tree: the fit's progress hook
	// stops it, and the stage returns instead of being abandoned.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run, returned := runWatching(t, ctx, plan, "model", func(ev engine.Event) {
		if ev.Kind == engine.EventProgress && ev.Stage == "model" && ev.Progress.Done > 0 {
			cancel()
		}
	})
	if run.Status != engine.StatusCancelled {
		t.Errorf("run: got %s, want cancelled", run.Status)
	}
	if !returned {
		t.Error("the fit did not return when cancelled: the executor abandoned it")
	}
}

func TestCrossValidateReportsEveryFold(t *testing.T) {
	t.Parallel()
	path := mlPipeline(t, head("iris", "species")+"  - {id: cv, uses: cross_validate, needs: [scale], with: {model: knn_classifier, cv: 5}}\n")
	run, _ := runML(t, path)
	for _, k := range []string{"fold1", "fold5", "mean", "std"} {
		metric(t, run, "cv", k)
	}
	if m := metric(t, run, "cv", "mean"); m < 0.85 || m > 1 {
		t.Errorf("mean accuracy %.4f", m)
	}
}

// TestHistBoostingTakesMissingValues trains on iris with blank cells:
// histogram boosting fits, scores and exports without an impute stage,
// and its model file predicts rows with blanks; classic boosting asks for
// an impute stage.
func TestHistBoostingTakesMissingValues(t *testing.T) {
	t.Parallel()
	path := mlPipeline(t, `name: t
seed: 42
stages:
  - {id: train, uses: read_csv, with: {path: data/iris_gaps_train.csv}}
  - {id: test, uses: read_csv, with: {path: data/iris_gaps_test.csv}}
  - {id: split, uses: split, needs: [train, test], with: {target: species}}
  - {id: model, uses: hist_gradient_boosting_classifier, with: {max_iter: 30, min_samples_leaf: 5}}
`)
	data := filepath.Join(filepath.Dir(path), "data")
	for _, part := range []string{"train", "test"} {
		b, err := os.ReadFile(filepath.Join(data, "iris_"+part+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for i := 1; i < len(lines); i++ {
			f := strings.Split(lines[i], ",")
			f[i%3] = "" // a gap in one of the first three features of every row
			lines[i] = strings.Join(f, ",")
		}
		if err := os.WriteFile(filepath.Join(data, "iris_gaps_"+part+".csv"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run, arts := runML(t, path)
	if acc := metric(t, run, "model", "accuracy"); acc < 0.8 {
		t.Errorf("accuracy with gaps %.4f, want >= 0.8", acc)
	}
	p, err := stages.LoadModel("model.json", arts["model/model"])
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	rows, err := frame.ReadCSVFile(filepath.Join(data, "iris_gaps_test.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Predict(rows); err != nil {
		t.Fatalf("predict rows with gaps: %v", err)
	}

	classic := strings.Replace(string(mustRead(t, path)), "hist_gradient_boosting_classifier, with: {max_iter: 30, min_samples_leaf: 5}", "gradient_boosting_classifier", 1)
	if err := os.WriteFile(path, []byte(classic), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := engine.LoadPlan(path, stages.Registry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := (&engine.Executor{Recorder: &artifactRecorder{arts: map[string][]byte{}}}).Run(context.Background(), plan)
	s, _ := r.Stage("model")
	if s.Status != engine.StatusFailed || !strings.Contains(s.Error, "impute") {
		t.Errorf("classic boosting on gaps: status %v, error %q; want a failure asking for an impute stage", s.Status, s.Error)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
