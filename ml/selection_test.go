package ml_test

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

func TestKFold(t *testing.T) {
	// KFold docs: the first n % n_splits folds have n // n_splits + 1 rows.
	folds, err := ml.KFold{NSplits: 3}.Split(make([]float64, 10))
	if err != nil {
		t.Fatal(err)
	}
	wantTest := [][]int{{0, 1, 2, 3}, {4, 5, 6}, {7, 8, 9}}
	for f, fd := range folds {
		if !reflect.DeepEqual(fd.Test, wantTest[f]) {
			t.Errorf("fold %d test: got %v, want %v", f, fd.Test, wantTest[f])
		}
		if len(fd.Train)+len(fd.Test) != 10 {
			t.Errorf("fold %d: train and test do not cover the rows", f)
		}
	}
	a, _ := ml.KFold{NSplits: 3, Shuffle: true, Seed: 1}.Split(make([]float64, 10))
	b, _ := ml.KFold{NSplits: 3, Shuffle: true, Seed: 1}.Split(make([]float64, 10))
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed gave different folds")
	}
	if reflect.DeepEqual(a[0].Test, wantTest[0]) {
		t.Errorf("shuffled folds equal the unshuffled ones")
	}
	if _, err := (ml.KFold{NSplits: 5}).Split(make([]float64, 3)); !errors.Is(err, ml.ErrTooFewSamples) {
		t.Errorf("5 folds of 3 rows: got %v, want ErrTooFewSamples", err)
	}
}

func TestStratifiedKFold(t *testing.T) {
	t.Run("docs", func(t *testing.T) {
		// StratifiedKFold docs: y=[0,0,1,1], n_splits=2 → fold 0 tests
		// [0 2], fold 1 tests [1 3].
		folds, err := ml.StratifiedKFold{NSplits: 2}.Split([]float64{0, 0, 1, 1})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(folds[0].Test, []int{0, 2}) || !reflect.DeepEqual(folds[1].Test, []int{1, 3}) ||
			!reflect.DeepEqual(folds[0].Train, []int{1, 3}) {
			t.Errorf("got %v, want tests [0 2] and [1 3]", folds)
		}
	})
	// scikit-learn 1.2.1: StratifiedKFold(5).split on each training
	// file's labels; per fold the test size, the sum of test indices and
	// the first five test indices.
	tests := []struct {
		dataset string
		size    []int
		sum     []int
		first   [][]int
	}{
		{"breast_cancer", []int{91, 91, 91, 91, 91}, []int{4095, 12378, 20664, 28979, 37169},
			[][]int{{0, 1, 2, 3, 4}, {91, 92, 93, 94, 95}, {181, 182, 184, 185, 186}, {268, 270, 275, 276, 277}, {348, 351, 354, 362, 367}}},
		{"wine", []int{29, 29, 28, 28, 28}, []int{443, 1291, 2023, 2765, 3489},
			[][]int{{0, 1, 2, 3, 4}, {22, 25, 26, 29, 30}, {46, 47, 49, 50, 59}, {66, 72, 73, 80, 82}, {95, 102, 104, 107, 108}}},
	}
	for _, tt := range tests {
		t.Run(tt.dataset, func(t *testing.T) {
			d := loadRaw(t, tt.dataset)
			folds, err := ml.StratifiedKFold{NSplits: 5}.Split(d.ytr)
			if err != nil {
				t.Fatal(err)
			}
			for f, fd := range folds {
				sum := 0
				for _, i := range fd.Test {
					sum += i
				}
				if len(fd.Test) != tt.size[f] || sum != tt.sum[f] || !reflect.DeepEqual(fd.Test[:5], tt.first[f]) {
					t.Errorf("fold %d: got size %d, sum %d, first %v; want %d, %d, %v",
						f, len(fd.Test), sum, fd.Test[:5], tt.size[f], tt.sum[f], tt.first[f])
				}
			}
		})
	}
	t.Run("shuffle keeps strata", func(t *testing.T) {
		y := []float64{0, 0, 0, 0, 1, 1, 1, 1, 1, 1}
		folds, err := ml.StratifiedKFold{NSplits: 2, Shuffle: true, Seed: 3}.Split(y)
		if err != nil {
			t.Fatal(err)
		}
		for f, fd := range folds {
			ones := 0
			for _, i := range fd.Test {
				ones += int(y[i])
			}
			if len(fd.Test) != 5 || ones != 3 {
				t.Errorf("fold %d: got %d rows with %d of class 1, want 5 with 3", f, len(fd.Test), ones)
			}
		}
	})
	t.Run("too few", func(t *testing.T) {
		if _, err := (ml.StratifiedKFold{NSplits: 3}).Split([]float64{0, 0, 1, 1}); !errors.Is(err, ml.ErrTooFewSamples) {
			t.Errorf("got %v, want ErrTooFewSamples", err)
		}
	})
}

func TestTrainTestSplit(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		opt       ml.SplitOptions
		wantTest  int
		wantError bool
	}{
		{"default quarter", 10, ml.SplitOptions{Seed: 1}, 3, false}, // ceil(2.5)
		{"fraction", 150, ml.SplitOptions{TestSize: 0.2, Seed: 1}, 30, false},
		{"count", 20, ml.SplitOptions{TestSize: 5}, 5, false},
		{"no shuffle", 10, ml.SplitOptions{TestSize: 0.3, NoShuffle: true}, 3, false},
		{"all test", 10, ml.SplitOptions{TestSize: 10}, 0, true},
		{"bad size", 10, ml.SplitOptions{TestSize: 1.5}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, te, err := ml.TrainTestSplit(tt.n, tt.opt)
			if tt.wantError {
				if err == nil {
					t.Errorf("got no error, want one")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(te) != tt.wantTest || len(tr) != tt.n-tt.wantTest {
				t.Errorf("sizes: got %d/%d, want %d/%d", len(tr), len(te), tt.n-tt.wantTest, tt.wantTest)
			}
			all := append(append([]int(nil), tr...), te...)
			sort.Ints(all)
			for i, v := range all {
				if v != i {
					t.Fatalf("train and test do not partition 0..%d", tt.n-1)
				}
			}
		})
	}
	t.Run("no shuffle keeps order", func(t *testing.T) {
		_, te, _ := ml.TrainTestSplit(5, ml.SplitOptions{TestSize: 2, NoShuffle: true})
		if !reflect.DeepEqual(te, []int{3, 4}) {
			t.Errorf("got %v, want [3 4]", te)
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		a, b, _ := ml.TrainTestSplit(100, ml.SplitOptions{Seed: 42})
		c, d, _ := ml.TrainTestSplit(100, ml.SplitOptions{Seed: 42})
		e, _, _ := ml.TrainTestSplit(100, ml.SplitOptions{Seed: 43})
		if !reflect.DeepEqual(a, c) || !reflect.DeepEqual(b, d) {
			t.Errorf("same seed gave different splits")
		}
		if reflect.DeepEqual(a, e) {
			t.Errorf("different seeds gave the same split")
		}
	})
	t.Run("stratified", func(t *testing.T) {
		// iris-like: 50 of each of three classes, 20% test → 10 of each.
		y := make([]float64, 150)
		for i := range y {
			y[i] = float64(i / 50)
		}
		_, te, err := ml.TrainTestSplit(150, ml.SplitOptions{TestSize: 0.2, Stratify: y, Seed: 42})
		if err != nil {
			t.Fatal(err)
		}
		cnt := map[float64]int{}
		for _, i := range te {
			cnt[y[i]]++
		}
		if cnt[0] != 10 || cnt[1] != 10 || cnt[2] != 10 {
			t.Errorf("test class counts: got %v, want 10 each", cnt)
		}
	})
	t.Run("stratified singleton class", func(t *testing.T) {
		_, _, err := ml.TrainTestSplit(5, ml.SplitOptions{Stratify: []float64{0, 0, 0, 0, 1}, TestSize: 2})
		if !errors.Is(err, ml.ErrTooFewSamples) {
			t.Errorf("got %v, want ErrTooFewSamples", err)
		}
	})
}

func TestParameterGrid(t *testing.T) {
	// ParameterGrid docs order: keys sorted, the last key varying fastest.
	got := ml.ParameterGrid(map[string][]any{"b": {1, 2}, "a": {"x", "y"}})
	want := []map[string]any{{"a": "x", "b": 1}, {"a": "x", "b": 2}, {"a": "y", "b": 1}, {"a": "y", "b": 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCrossValScore(t *testing.T) {
	d := loadSplit(t, "iris")
	folds, err := ml.StratifiedKFold{NSplits: 5}.Split(d.ytr)
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	scores, err := ml.CrossValScore(ml.FactoryOf(ml.NewGaussianNB), nil, d.Xtr, d.ytr, folds, nil, func(done, total int) error {
		seen = append(seen, done)
		if total != 5 {
			t.Errorf("total: got %d, want 5", total)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != 5 || !reflect.DeepEqual(seen, []int{1, 2, 3, 4, 5}) {
		t.Errorf("got %d scores and progress %v, want 5 and 1..5", len(scores), seen)
	}
	for f, s := range scores {
		if s < 0.8 || s > 1 {
			t.Errorf("fold %d accuracy %v, want in [0.8, 1]", f, s)
		}
	}
	again, _ := ml.CrossValScore(ml.FactoryOf(ml.NewGaussianNB), nil, d.Xtr, d.ytr, folds, nil, nil)
	if !reflect.DeepEqual(scores, again) {
		t.Errorf("repeat: got %v, want %v", again, scores)
	}
	t.Run("stop", func(t *testing.T) {
		_, err := ml.CrossValScore(ml.FactoryOf(ml.NewLogisticRegression), nil, d.Xtr, d.ytr, folds, nil, func(done, total int) error {
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Errorf("got %v, want the hook's error", err)
		}
	})
	t.Run("bad parameter", func(t *testing.T) {
		_, err := ml.CrossValScore(ml.FactoryOf(ml.NewLogisticRegression), map[string]any{"nope": 1}, d.Xtr, d.ytr, folds, nil, nil)
		if err == nil {
			t.Errorf("got no error, want one")
		}
	})
	t.Run("scorer by name", func(t *testing.T) {
		s, err := ml.ScorerFor("neg_log_loss")
		if err != nil {
			t.Fatal(err)
		}
		scores, err := ml.CrossValScore(ml.FactoryOf(ml.NewLogisticRegression), nil, d.Xtr, d.ytr, folds, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range scores {
			if v >= 0 {
				t.Errorf("neg_log_loss: got %v, want < 0", v)
			}
		}
		if _, err := ml.ScorerFor("nope"); err == nil {
			t.Errorf("unknown scorer: got no error")
		}
	})
}

func TestRandomSearch(t *testing.T) {
	d := loadSplit(t, "diabetes")
	lists := map[string][]any{"alpha": {0.01, 0.1, 1.0, 10.0, 100.0}, "fit_intercept": {true, false}}
	r := &ml.RandomSearch{Factory: ml.FactoryOf(ml.NewRidge), Lists: lists, NIter: 4, Seed: 5}
	cands := r.Candidates()
	if len(cands) != 4 {
		t.Fatalf("candidates: got %d, want 4", len(cands))
	}
	seen := map[string]bool{}
	for _, c := range cands {
		k := fmt.Sprint(c)
		if seen[k] {
			t.Errorf("candidate %v drawn twice", c)
		}
		seen[k] = true
	}
	r2 := &ml.RandomSearch{Lists: lists, NIter: 4, Seed: 5}
	if !reflect.DeepEqual(cands, r2.Candidates()) {
		t.Errorf("same seed gave different candidates")
	}
	if err := r.Fit(d.Xtr, d.ytr); err != nil {
		t.Fatal(err)
	}
	best := r.Result.Candidates[r.Result.BestIndex]
	if best.Rank != 1 {
		t.Errorf("best rank: got %d, want 1", best.Rank)
	}
	for _, c := range r.Result.Candidates {
		if c.Mean > best.Mean {
			t.Errorf("candidate %v mean %v beats the best %v", c.Params, c.Mean, best.Mean)
		}
	}
	if got := ml.R2(d.yte, r.Predict(nil, d.Xte)); got < 0.4 {
		t.Errorf("test R² of the refitted best: got %v, want >= 0.4", got)
	}
	all := (&ml.RandomSearch{Lists: lists, NIter: 100}).Candidates()
	if len(all) != 10 {
		t.Errorf("n_iter above the grid size: got %d candidates, want 10", len(all))
	}
}
