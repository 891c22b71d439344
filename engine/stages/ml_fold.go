package stages

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"sync"
	"weak"

	"gonum.org/v1/gonum/mat"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ml"
)

// The tuning and cross-validation stages are engine.FanOut stages: a
// unit is one fit of one candidate on one cross-validation fold, which a
// worker anywhere can do from the stage's inputs and the unit's
// descriptor alone. The fold is named by its index and recomputed from
// the split (the folds are a function of the training targets and cv),
// and inside a fold the whole preprocessing chain is refitted on the
// fold's training rows, as a scikit-learn Pipeline is in GridSearchCV, so
// no statistic of the held-out rows leaks into its fit.

// foldUnit is one unit's descriptor: candidate Candidate (0-based, in the
// order the search lists them, of Candidates) with its Params, on fold
// Fold (0-based). cross_validate has one candidate, the stage's own
// parameters.
type foldUnit struct {
	Candidate  int            `json:"candidate"`
	Candidates int            `json:"candidates"`
	Fold       int            `json:"fold"`
	Params     map[string]any `json:"params,omitempty"`
}

// foldResult is one unit's result: the fold's test score.
type foldResult struct {
	Score jsonFloat `json:"score"`
}

// jsonFloat is a float64 that survives JSON exactly: a finite value as a
// number (Go writes the shortest text that reads back to the same bits),
// NaN and the infinities as the strings "NaN", "+Inf" and "-Inf".
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return json.Marshal(strconv.FormatFloat(v, 'g', -1, 64))
	}
	return json.Marshal(v)
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	var v float64
	if err := json.Unmarshal(b, &v); err == nil {
		*f = jsonFloat(v)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("score: want a number, got %s", b)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(math.IsNaN(v) || math.IsInf(v, 0)) {
		return fmt.Errorf("score: want a number, NaN or ±Inf, got %s", b)
	}
	*f = jsonFloat(v)
	return nil
}

// foldJob is what every unit of one stage shares: the split, the
// estimator, its fixed hyperparameters, the scorer and the folds.
type foldJob struct {
	split *Split
	def   *estimatorDef
	fixed map[string]any
	score ml.Scorer
	folds []ml.Fold
	seed  uint64
}

// newFoldJob reads the stage's inputs and parameters. defaultByTask says
// what the "default" scoring is: the task's (accuracy or R²) for the
// searches, as they have always ranked by it; the estimator's (accuracy
// for a classifier, R² otherwise) for cross_validate.
func newFoldJob(sc *engine.StageContext, defaultByTask bool) (*foldJob, error) {
	s, d, fixed, score, err := tuneInputs(sc)
	if err != nil {
		return nil, err
	}
	if score == nil && defaultByTask {
		score = defaultScorer(s.Task == taskClassification)
	}
	folds, err := cachedFolds(s, sc.Params.Int("cv"))
	if err != nil {
		return nil, err
	}
	return &foldJob{split: s, def: d, fixed: fixed, score: score, folds: folds, seed: sc.Seed}, nil
}

// withFixed is the candidate's parameters over the fixed ones.
func (j *foldJob) withFixed(params map[string]any) map[string]any {
	all := make(map[string]any, len(j.fixed)+len(params))
	for k, v := range j.fixed {
		all[k] = v
	}
	for k, v := range params {
		all[k] = v
	}
	return all
}

// fit fits the candidate on fold f's training rows, the chain refitted
// there, and returns its score on the fold's test rows. The estimator's
// own progress only checks for cancellation.
func (j *foldJob) fit(ctx context.Context, c int, params map[string]any, f int) (float64, error) {
	if f < 0 || f >= len(j.folds) {
		return 0, fmt.Errorf("fold %d of %d", f, len(j.folds))
	}
	est, err := j.def.newEstimator(j.withFixed(params), j.seed)
	if err != nil {
		return 0, fmt.Errorf("candidate %d %v: %w", c, params, err)
	}
	if p, ok := est.(ml.Progressor); ok {
		p.SetProgress(func(int, int) error { return ctx.Err() })
	}
	fold := j.folds[f]
	chain := make([]*Step, 0, len(j.split.Chain))
	X, err := j.features(est, fold.Train, &chain, true)
	if err != nil {
		return 0, fmt.Errorf("fit of candidate %d on fold %d: %w", c, f, err)
	}
	if err := est.Fit(X, pick(j.split.YTrain, fold.Train)); err != nil {
		return 0, fmt.Errorf("fit of candidate %d on fold %d: %w", c, f, err)
	}
	X, err = j.features(est, fold.Test, &chain, false)
	if err != nil {
		return 0, fmt.Errorf("score of candidate %d on fold %d: %w", c, f, err)
	}
	score := j.score
	if score == nil {
		score = defaultScorer(ml.IsClassifier(est))
	}
	return score(est, X, pick(j.split.YTrain, fold.Test)), nil
}

// defaultScorer is what scoring "default" means: accuracy for a
// classifier, R² otherwise.
func defaultScorer(classifier bool) ml.Scorer {
	name := "r2"
	if classifier {
		name = "accuracy"
	}
	s, _ := ml.ScorerFor(name)
	return s
}

// features gives the estimator's matrix for some training rows: their
// raw features through the chain, whose steps are refitted on them
// (refit) or applied as fitted (the fold's test rows).
func (j *foldJob) features(est ml.Estimator, rows []int, chain *[]*Step, refit bool) (X *mat.Dense, err error) {
	f := j.split.RawTrain.Take(rows)
	if refit {
		for _, s := range j.split.Chain {
			st, err := fitStep(s.Type, s.Params, s.Columns, f)
			if err != nil {
				return nil, fmt.Errorf("refit %s: %w", s.Type, err)
			}
			*chain = append(*chain, st)
			if f, err = st.Apply(f); err != nil {
				return nil, err
			}
		}
	} else {
		for _, st := range *chain {
			if f, err = st.Apply(f); err != nil {
				return nil, err
			}
		}
	}
	M, err := matrix(f)
	if err != nil {
		return nil, err
	}
	if err := checkFinite(M, f.Names(), "feature", takesMissing(est)); err != nil {
		return nil, err
	}
	return M, nil
}

// pick returns y at rows.
func pick(y []float64, rows []int) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = y[r]
	}
	return out
}

// unitsFor lists the units of cands × folds, candidate-major.
func unitsFor(cands []map[string]any, folds int) ([]json.RawMessage, error) {
	units := make([]json.RawMessage, 0, len(cands)*folds)
	for c, p := range cands {
		for f := range folds {
			b, err := json.Marshal(foldUnit{Candidate: c, Candidates: len(cands), Fold: f, Params: p})
			if err != nil {
				return nil, fmt.Errorf("candidate %d %v: %w", c, p, err)
			}
			units = append(units, b)
		}
	}
	return units, nil
}

// readUnit decodes a unit's descriptor, its parameters coerced to their
// declared types again (JSON has numbers, not ints and floats).
func (j *foldJob) readUnit(raw json.RawMessage) (foldUnit, error) {
	var u foldUnit
	if err := json.Unmarshal(raw, &u); err != nil {
		return u, fmt.Errorf("unit %s: %w", raw, err)
	}
	p, err := fixedParams(j.def, u.Params)
	if err != nil {
		return u, fmt.Errorf("unit %s: %w", raw, err)
	}
	u.Params = p
	return u, nil
}

// runFoldUnit is the RunUnit of every tuning stage: it fits and scores
// one candidate on one fold. A search logs the fold with
// StageContext.LogFold as soon as it is scored (its text for a person,
// the fold as data), which the workbench turns into a live leaderboard.
func runFoldUnit(ctx context.Context, sc *engine.StageContext, raw json.RawMessage, search bool) (json.RawMessage, error) {
	j, err := newFoldJob(sc, search)
	if err != nil {
		return nil, err
	}
	u, err := j.readUnit(raw)
	if err != nil {
		return nil, err
	}
	v, err := j.fit(ctx, u.Candidate, u.Params, u.Fold)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if search {
		sc.LogFold(engine.CandidateFold{Candidate: u.Candidate + 1, Candidates: u.Candidates,
			Fold: u.Fold + 1, Folds: len(j.folds), Score: v, Params: u.Params})
	}
	return json.Marshal(foldResult{Score: jsonFloat(v)})
}

// foldScores reads the results of cands × folds units (candidate-major)
// into one list of fold scores per candidate.
func foldScores(results []json.RawMessage, cands, folds int) ([][]float64, error) {
	if len(results) != cands*folds {
		return nil, fmt.Errorf("%d results for %d candidates × %d folds", len(results), cands, folds)
	}
	out := make([][]float64, cands)
	for c := range out {
		out[c] = make([]float64, folds)
		for f := range folds {
			var r foldResult
			if err := json.Unmarshal(results[c*folds+f], &r); err != nil {
				return nil, fmt.Errorf("result of candidate %d on fold %d: %w", c, f, err)
			}
			out[c][f] = float64(r.Score)
		}
	}
	return out, nil
}

// foldCache keeps the folds of the last few splits a process tuned on,
// so the units of one stage split the training targets once, not once
// each. Folds are a function of the targets, the task and cv; the split
// value stands for its targets (values are immutable once made). The
// split is held weakly: the cache never keeps one alive.
var foldCache = struct {
	sync.Mutex
	keys []foldKey
	vals map[foldKey][]ml.Fold
}{vals: map[foldKey][]ml.Fold{}}

type foldKey struct {
	split weak.Pointer[Split]
	cv    int
}

// foldCacheSize bounds foldCache: a few stages tuning at once.
const foldCacheSize = 4

func cachedFolds(s *Split, cv int) ([]ml.Fold, error) {
	k := foldKey{weak.Make(s), cv}
	foldCache.Lock()
	folds, ok := foldCache.vals[k]
	foldCache.Unlock()
	if ok {
		return folds, nil
	}
	folds, err := foldsFor(s.Task, cv).Split(s.YTrain)
	if err != nil {
		return nil, err
	}
	foldCache.Lock()
	defer foldCache.Unlock()
	if _, ok := foldCache.vals[k]; !ok {
		if len(foldCache.keys) == foldCacheSize {
			delete(foldCache.vals, foldCache.keys[0])
			foldCache.keys = foldCache.keys[1:]
		}
		foldCache.keys = append(foldCache.keys, k)
		foldCache.vals[k] = folds
	}
	return folds, nil
}
