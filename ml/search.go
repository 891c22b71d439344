package ml

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// CandidateResult is one parameter setting's cross-validation result.
type CandidateResult struct {
	Params map[string]any `json:"params"`
	// Scores holds one test score per fold.
	Scores []float64 `json:"split_test_scores"`
	Mean   float64   `json:"mean_test_score"`
	// Std is the population standard deviation of Scores (ddof=0).
	Std float64 `json:"std_test_score"`
	// Rank is 1 for the best mean; equal means share the smallest rank.
	Rank int `json:"rank_test_score"`
}

// SearchResult is what a search found.
type SearchResult struct {
	Candidates []CandidateResult `json:"candidates"`
	// BestIndex is the first candidate with the highest mean score, as
	// scikit-learn's best_index_.
	BestIndex  int            `json:"best_index"`
	BestParams map[string]any `json:"best_params"`
	BestScore  float64        `json:"best_score"`
}

// ParameterGrid lists every combination of grid's values in
// scikit-learn's ParameterGrid order: keys sorted, the last key varying
// fastest, each key's values in the order given. An empty grid gives one
// empty candidate.
func ParameterGrid(grid map[string][]any) []map[string]any {
	keys := make([]string, 0, len(grid))
	for k := range grid {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []map[string]any{{}}
	for _, k := range keys {
		var next []map[string]any
		for _, base := range out {
			for _, v := range grid[k] {
				c := make(map[string]any, len(base)+1)
				for bk, bv := range base {
					c[bk] = bv
				}
				c[k] = v
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

// GridSearch cross-validates every combination of Grid and refits the
// best on all training rows, as scikit-learn's GridSearchCV with
// refit=True. It is itself an Estimator: after Fit, Predict uses Best.
type GridSearch struct {
	// Factory makes a fresh estimator (or pipeline) for a candidate.
	Factory Factory
	Grid    map[string][]any
	// CV makes the folds; nil means StratifiedKFold{NSplits: 5} for a
	// classifier and KFold{NSplits: 5} otherwise, as scikit-learn's cv=5.
	CV Splitter
	// Scorer scores a fold; nil means accuracy for classifiers and R²
	// otherwise.
	Scorer Scorer

	Result SearchResult
	// Best is the best candidate refitted on all rows given to Fit.
	Best Estimator

	progress Progress
}

// SetProgress sets a hook called after every fit with (fits done,
// candidates × folds + 1); the last unit is the refit. An error from it
// stops Fit, which returns it wrapped.
func (g *GridSearch) SetProgress(p Progress) { g.progress = p }

// Fit runs the search. It returns an error for a candidate the Factory
// rejects, a fold error, a Fit error (wrapped with its candidate and
// fold) or the hook's error. It panics if len(y) differs from the rows
// of X or Factory is nil.
func (g *GridSearch) Fit(X mat.Matrix, y []float64) error {
	res, best, err := search(g.Factory, ParameterGrid(g.Grid), g.CV, g.Scorer, X, y, g.progress)
	if err != nil {
		return err
	}
	g.Result, g.Best = res, best
	return nil
}

// Predict predicts with the refitted best estimator. It panics before
// Fit.
func (g *GridSearch) Predict(dst []float64, X mat.Matrix) []float64 {
	if g.Best == nil {
		panic("ml: GridSearch used before Fit")
	}
	return g.Best.Predict(dst, X)
}

// RandomSearch cross-validates NIter settings drawn without replacement
// from the combinations of Lists (all of them, in random order, when
// NIter is at least their number), from Seed, and refits the best, as
// scikit-learn's RandomizedSearchCV with lists of values.
type RandomSearch struct {
	Factory Factory
	Lists   map[string][]any
	NIter   int
	Seed    uint64
	CV      Splitter
	Scorer  Scorer

	Result SearchResult
	Best   Estimator

	progress Progress
}

// SetProgress sets a hook called after every fit with (fits done,
// candidates × folds + 1). An error from it stops Fit.
func (r *RandomSearch) SetProgress(p Progress) { r.progress = p }

// Candidates returns the settings the search will try, in order.
func (r *RandomSearch) Candidates() []map[string]any {
	all := ParameterGrid(r.Lists)
	k := r.NIter
	if k <= 0 || k > len(all) {
		k = len(all)
	}
	rng := rand.New(rand.NewPCG(r.Seed, 0x726e6473))
	idx := make([]int, len(all))
	for i := range idx {
		idx[i] = i
	}
	out := make([]map[string]any, k)
	for i := 0; i < k; i++ {
		j := i + rng.IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
		out[i] = all[idx[i]]
	}
	return out
}

// Fit runs the search; errors as for GridSearch.Fit.
func (r *RandomSearch) Fit(X mat.Matrix, y []float64) error {
	res, best, err := search(r.Factory, r.Candidates(), r.CV, r.Scorer, X, y, r.progress)
	if err != nil {
		return err
	}
	r.Result, r.Best = res, best
	return nil
}

// Predict predicts with the refitted best estimator. It panics before
// Fit.
func (r *RandomSearch) Predict(dst []float64, X mat.Matrix) []float64 {
	if r.Best == nil {
		panic("ml: RandomSearch used before Fit")
	}
	return r.Best.Predict(dst, X)
}

func search(f Factory, cands []map[string]any, cv Splitter, score Scorer, X mat.Matrix, y []float64, progress Progress) (SearchResult, Estimator, error) {
	if f == nil {
		panic("ml: search without a Factory")
	}
	checkXy("search", X, y)
	first, err := f(cands[0])
	if err != nil {
		return SearchResult{}, nil, fmt.Errorf("candidate 0 %v: %w", cands[0], err)
	}
	if cv == nil {
		if IsClassifier(first) {
			cv = StratifiedKFold{NSplits: 5}
		} else {
			cv = KFold{NSplits: 5}
		}
	}
	folds, err := cv.Split(y)
	if err != nil {
		return SearchResult{}, nil, err
	}
	total := len(cands)*len(folds) + 1
	var inner Progress
	if progress != nil {
		inner = func(done, _ int) error { return progress(done, total) }
	}
	Xd := dense(X)
	scores, err := runFits(f, cands, Xd, y, folds, score, inner)
	if err != nil {
		return SearchResult{}, nil, err
	}
	res := RankCandidates(cands, scores)
	best, err := f(res.BestParams)
	if err != nil {
		return SearchResult{}, nil, err
	}
	if err := best.Fit(Xd, y); err != nil {
		return SearchResult{}, nil, fmt.Errorf("refit of the best candidate %v: %w", res.BestParams, err)
	}
	if progress != nil {
		if err := progress(total, total); err != nil {
			return SearchResult{}, nil, fmt.Errorf("search stopped after the refit: %w", err)
		}
	}
	return res, best, nil
}

// RankCandidates summarises a search's cross-validation scores, scores[c]
// holding candidate c's score on each fold, as GridSearch and
// RandomSearch do: each candidate's mean and population standard
// deviation, its rank (1 for the best mean; equal means share the
// smallest rank), and the first candidate with the highest mean as the
// best (a NaN mean is beaten by any other). It panics if cands is empty
// or its length differs from that of scores.
func RankCandidates(cands []map[string]any, scores [][]float64) SearchResult {
	if len(cands) == 0 || len(cands) != len(scores) {
		panic(fmt.Sprintf("ml: RankCandidates with %d candidates and %d score lists", len(cands), len(scores)))
	}
	res := SearchResult{Candidates: make([]CandidateResult, len(cands))}
	for c, s := range scores {
		var mean float64
		for _, v := range s {
			mean += v
		}
		mean /= float64(len(s))
		var ss float64
		for _, v := range s {
			ss += (v - mean) * (v - mean)
		}
		res.Candidates[c] = CandidateResult{Params: cands[c], Scores: s, Mean: mean, Std: math.Sqrt(ss / float64(len(s)))}
	}
	for c := range res.Candidates {
		rank := 1
		for o := range res.Candidates {
			if res.Candidates[o].Mean > res.Candidates[c].Mean {
				rank++
			}
		}
		res.Candidates[c].Rank = rank
		if res.Candidates[c].Mean > res.Candidates[res.BestIndex].Mean || math.IsNaN(res.Candidates[res.BestIndex].Mean) {
			res.BestIndex = c
		}
	}
	res.BestParams = cands[res.BestIndex]
	res.BestScore = res.Candidates[res.BestIndex].Mean
	return res
}
