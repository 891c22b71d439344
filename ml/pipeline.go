package ml

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// Pipeline chains preprocessing steps and a final estimator, as
// scikit-learn's Pipeline: Fit fits each step on the output of the
// previous one (training rows only) and then the model; Predict runs new
// rows through the fitted steps. Because a fresh Pipeline refits its
// steps on every training fold, cross-validation and searches over a
// pipeline factory keep preprocessing inside the folds.
//
// A Pipeline always has the Classifier methods; PredictProba panics and
// NumClasses is 0 when Model is not a Classifier (see IsClassifier).
type Pipeline struct {
	Steps []Transformer
	Model Estimator
}

var (
	_ Classifier = (*Pipeline)(nil)
	_ Progressor = (*Pipeline)(nil)
)

// NewPipeline returns a pipeline that applies steps in order and then
// model.
func NewPipeline(model Estimator, steps ...Transformer) *Pipeline {
	return &Pipeline{Steps: steps, Model: model}
}

// Fit fits the steps and the model. It returns the first error, wrapped
// with the step's position; shape mismatches panic as the steps do.
func (p *Pipeline) Fit(X mat.Matrix, y []float64) error {
	checkXy("Pipeline", X, y)
	Xt := X
	for i, s := range p.Steps {
		if err := s.Fit(Xt); err != nil {
			return fmt.Errorf("pipeline step %d (%T): %w", i, s, err)
		}
		Xt = s.Transform(nil, Xt)
	}
	return p.Model.Fit(Xt, y)
}

// Transform runs X through the fitted steps (not the model).
func (p *Pipeline) Transform(X mat.Matrix) mat.Matrix {
	for _, s := range p.Steps {
		X = s.Transform(nil, X)
	}
	return X
}

// Predict runs X through the steps and the model's Predict.
func (p *Pipeline) Predict(dst []float64, X mat.Matrix) []float64 {
	return p.Model.Predict(dst, p.Transform(X))
}

// PredictProba runs X through the steps and the model's PredictProba. It
// panics if the model is not a Classifier.
func (p *Pipeline) PredictProba(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	c, ok := p.Model.(Classifier)
	if !ok {
		panic(fmt.Sprintf("ml: Pipeline model %T is not a Classifier", p.Model))
	}
	return c.PredictProba(dst, p.Transform(X))
}

// NumClasses is the model's number of classes, or 0 for a regressor.
func (p *Pipeline) NumClasses() int {
	if c, ok := p.Model.(Classifier); ok {
		return c.NumClasses()
	}
	return 0
}

// SetProgress passes the hook to the model if it takes one.
func (p *Pipeline) SetProgress(pr Progress) {
	if m, ok := p.Model.(Progressor); ok {
		m.SetProgress(pr)
	}
}

// SetParams sets the model's hyperparameters (the model's SetParams
// method if it has one, else SetParams).
func (p *Pipeline) SetParams(params map[string]any) error {
	if m, ok := p.Model.(interface{ SetParams(map[string]any) error }); ok {
		return m.SetParams(params)
	}
	return SetParams(p.Model, params)
}
