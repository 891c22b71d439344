package stages

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/ml"
)

// chainEstimator lets ml's model selection refit the whole preprocessing
// chain inside every fold, as a scikit-learn Pipeline does in
// GridSearchCV: the X it is given is a one-column matrix of row numbers
// into the raw training features; Fit refits each chain step on those
// rows, then the estimator; Predict applies them. So no statistic of a
// fold's held-out rows leaks into its fit.
type chainEstimator struct {
	raw    *frame.Frame
	steps  []*Step // fitted on the full training set: their types and params are refitted per fold
	def    *estimatorDef
	est    ml.Estimator
	chain  []*Step
	seed   uint64
	prog   ml.Progress
	params map[string]any // the candidate's own parameters
}

// chainClassifier is a chainEstimator around a classifier.
type chainClassifier struct{ *chainEstimator }

func newChainFactory(s *Split, def *estimatorDef, fixed map[string]any, seed uint64) ml.Factory {
	return func(params map[string]any) (ml.Estimator, error) {
		all := map[string]any{}
		for k, v := range fixed {
			all[k] = v
		}
		for k, v := range params {
			all[k] = v
		}
		est, err := def.newEstimator(all, seed)
		if err != nil {
			return nil, err
		}
		ce := &chainEstimator{raw: s.RawTrain, steps: s.Chain, def: def, est: est, seed: seed, params: params}
		if _, ok := est.(ml.Classifier); ok {
			return chainClassifier{ce}, nil
		}
		return ce, nil
	}
}

func rowsOf(X mat.Matrix) []int {
	r, _ := X.Dims()
	rows := make([]int, r)
	for i := range rows {
		rows[i] = int(X.At(i, 0))
	}
	return rows
}

func (c *chainEstimator) features(X mat.Matrix, refit bool) (*mat.Dense, error) {
	f := c.raw.Take(rowsOf(X))
	if refit {
		c.chain = c.chain[:0]
		for _, s := range c.steps {
			st, err := fitStep(s.Type, s.Params, s.Columns, f)
			if err != nil {
				return nil, fmt.Errorf("refit %s: %w", s.Type, err)
			}
			c.chain = append(c.chain, st)
			if f, err = st.Apply(f); err != nil {
				return nil, err
			}
		}
	} else {
		var err error
		for _, st := range c.chain {
			if f, err = st.Apply(f); err != nil {
				return nil, err
			}
		}
	}
	M, err := matrix(f)
	if err != nil {
		return nil, err
	}
	if err := checkFinite(M, f.Names(), "feature", takesMissing(c.est)); err != nil {
		return nil, err
	}
	return M, nil
}

func (c *chainEstimator) Fit(X mat.Matrix, y []float64) error {
	M, err := c.features(X, true)
	if err != nil {
		return err
	}
	if p, ok := c.est.(ml.Progressor); ok && c.prog != nil {
		p.SetProgress(c.prog)
	}
	return c.est.Fit(M, y)
}

func (c *chainEstimator) Predict(dst []float64, X mat.Matrix) []float64 {
	M, err := c.features(X, false)
	if err != nil {
		panic(fmt.Sprintf("ml: fold features: %v", err))
	}
	return c.est.Predict(dst, M)
}

// SetProgress passes a progress hook to the estimator (so a cancel stops a fit).
func (c *chainEstimator) SetProgress(p ml.Progress) { c.prog = p }

func (c chainClassifier) PredictProba(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	M, err := c.features(X, false)
	if err != nil {
		panic(fmt.Sprintf("ml: fold features: %v", err))
	}
	return c.est.(ml.Classifier).PredictProba(dst, M)
}

func (c chainClassifier) NumClasses() int { return c.est.(ml.Classifier).NumClasses() }

// rowIndex is the n×1 matrix of row numbers 0..n-1.
func rowIndex(n int) *mat.Dense {
	data := make([]float64, n)
	for i := range data {
		data[i] = float64(i)
	}
	return mat.NewDense(n, 1, data)
}

// foldLogger wraps a scorer so that every scored fold is logged with
// StageContext.LogFold (an engine.CandidateFold as data, and its text),
// which the workbench turns into a live leaderboard. It finds the candidate by its parameters and the fold by
// its test rows.
func foldLogger(sc *engine.StageContext, score ml.Scorer, task string, cands []map[string]any, folds []ml.Fold) ml.Scorer {
	if score == nil {
		name := "r2"
		if task == taskClassification {
			name = "accuracy"
		}
		score, _ = ml.ScorerFor(name)
	}
	candIndex := map[string]int{}
	for i, c := range cands {
		candIndex[paramText(c)] = i + 1
	}
	foldIndex := map[int]int{}
	for i, f := range folds {
		if len(f.Test) > 0 {
			foldIndex[f.Test[0]] = i + 1
		}
	}
	return func(m ml.Estimator, X mat.Matrix, y []float64) float64 {
		v := score(m, X, y)
		var ce *chainEstimator
		switch c := m.(type) {
		case *chainEstimator:
			ce = c
		case chainClassifier:
			ce = c.chainEstimator
		}
		if ce != nil {
			first := -1
			if r, _ := X.Dims(); r > 0 {
				first = int(X.At(0, 0))
			}
			line := engine.CandidateFold{Candidate: candIndex[paramText(ce.params)], Candidates: len(cands),
				Fold: foldIndex[first], Folds: len(folds), Score: v, Params: ce.params}
			sc.LogFold(line)
		}
		return v
	}
}
