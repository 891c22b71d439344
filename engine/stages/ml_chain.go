package stages

import (
	"fmt"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/ml"
)

// Step is one fitted preprocessing step of a chain: it reads Columns and
// writes Outputs in their place. Exactly one of the state fields is set,
// by Type. A Step is plain data: it serialises to the model file and
// loads back without running any code but its own Apply.
type Step struct {
	Type    string             `json:"type"`
	Columns []string           `json:"columns"`
	Outputs []string           `json:"outputs"`
	Scaler  *ml.StandardScaler `json:"standard_scaler,omitempty"`
	MinMax  *ml.MinMaxScaler   `json:"minmax_scaler,omitempty"`
	OneHot  *ml.OneHotEncoder  `json:"one_hot,omitempty"`
	Imputer *ml.SimpleImputer  `json:"imputer,omitempty"`
	Fill    map[string]string  `json:"fill,omitempty"` // categorical columns imputed with a value
	PCA     *ml.PCA            `json:"pca,omitempty"`
	Params  map[string]any     `json:"params,omitempty"`
}

// Describe is the step in one line, for show and the workbench.
func (s *Step) Describe() string {
	switch s.Type {
	case "one_hot":
		return fmt.Sprintf("one_hot %s → %d columns", strings.Join(s.Columns, ", "), len(s.Outputs))
	case "pca":
		return fmt.Sprintf("pca %d columns → %d components", len(s.Columns), len(s.Outputs))
	}
	return fmt.Sprintf("%s %s", s.Type, strings.Join(s.Columns, ", "))
}

// numericColumns returns the names of f's numeric columns, or checks the
// requested ones exist and are numeric.
func pickColumns(f *frame.Frame, want []string, numeric bool) ([]string, error) {
	if len(want) == 0 {
		var out []string
		for _, c := range f.Columns() {
			isNum := c.Type.Numeric() && c.Type != frame.Time
			if isNum == numeric {
				out = append(out, c.Name)
			}
		}
		return out, nil
	}
	for _, n := range want {
		c, _ := f.ColByName(n)
		if c == nil {
			return nil, fmt.Errorf("no feature column %q (have %s)", n, strings.Join(f.Names(), ", "))
		}
		if numeric && !(c.Type.Numeric() && c.Type != frame.Time) {
			return nil, fmt.Errorf("column %s is %s, not numeric", n, c.Type)
		}
	}
	return want, nil
}

func subMatrix(f *frame.Frame, cols []string) (*mat.Dense, error) {
	sub, err := f.Select(cols...)
	if err != nil {
		return nil, err
	}
	return matrix(sub)
}

// fitStep fits a preprocessing step of the given type on the training
// features.
func fitStep(kind string, p map[string]any, cols []string, train *frame.Frame) (*Step, error) {
	s := &Step{Type: kind, Params: p}
	numeric := kind == "standard_scaler" || kind == "minmax_scaler" || kind == "pca"
	var err error
	if kind == "one_hot" && len(cols) == 0 {
		s.Columns, err = pickColumns(train, nil, false)
	} else {
		s.Columns, err = pickColumns(train, cols, numeric)
	}
	if err != nil {
		return nil, err
	}
	if kind == "impute" && len(cols) == 0 {
		// As scikit-learn's SimpleImputer, learn a value for every number
		// column, gaps in training or not, so a gap that first shows up in
		// the test rows or at prediction is filled too; string columns as
		// well when the strategy can fill them. Other columns (bool, time,
		// strings under mean or median) are imputed when they have gaps in
		// training, where mean and median on strings fail, saying so.
		s.Columns = nil
		strategy := stringOr(p, "strategy", "mean")
		fillsStrings := strategy == "most_frequent" || strategy == "constant"
		for _, c := range train.Columns() {
			if c.Type == frame.Float || c.Type == frame.Int || (fillsStrings && c.Type == frame.String) || c.HasNulls() {
				s.Columns = append(s.Columns, c.Name)
			}
		}
	}
	if len(s.Columns) == 0 {
		s.Outputs = nil
		return s, nil
	}
	switch kind {
	case "standard_scaler":
		X, err := subMatrix(train, s.Columns)
		if err != nil {
			return nil, err
		}
		s.Scaler = &ml.StandardScaler{}
		if err := s.Scaler.Fit(X); err != nil {
			return nil, err
		}
		s.Outputs = s.Columns
	case "minmax_scaler":
		X, err := subMatrix(train, s.Columns)
		if err != nil {
			return nil, err
		}
		s.MinMax = ml.NewMinMaxScaler()
		s.MinMax.FeatureRange = [2]float64{floatOr(p, "min", 0), floatOr(p, "max", 1)}
		s.MinMax.Clip = boolOr(p, "clip", false)
		if err := s.MinMax.Fit(X); err != nil {
			return nil, err
		}
		s.Outputs = s.Columns
	case "one_hot":
		vals := make([][]string, len(s.Columns))
		for j, name := range s.Columns {
			c, _ := train.ColByName(name)
			vals[j] = stringsOf(c)
		}
		s.OneHot = &ml.OneHotEncoder{}
		if err := s.OneHot.FitStrings(vals); err != nil {
			return nil, err
		}
		s.Outputs = s.OneHot.FeatureNames(s.Columns)
	case "impute":
		strategy := stringOr(p, "strategy", "mean")
		var num []string
		for _, name := range s.Columns {
			c, _ := train.ColByName(name)
			if c.Type.Numeric() && c.Type != frame.Time {
				num = append(num, name)
				continue
			}
			if s.Fill == nil {
				s.Fill = map[string]string{}
			}
			switch strategy {
			case "constant":
				s.Fill[name] = stringOr(p, "fill_value", "missing")
			case "most_frequent":
				s.Fill[name] = mostFrequent(c)
			default:
				return nil, fmt.Errorf("column %s is %s: impute it with strategy most_frequent or constant", name, c.Type)
			}
		}
		if len(num) > 0 {
			X, err := subMatrix(train, num)
			if err != nil {
				return nil, err
			}
			s.Imputer = &ml.SimpleImputer{Strategy: strategy, FillValue: floatOr(p, "fill_value", 0)}
			if err := s.Imputer.Fit(X); err != nil {
				return nil, err
			}
		}
		// Numeric columns first, then the categorical ones, so Apply can
		// find each by position.
		s.Columns = append(num, sortedFillKeys(s.Fill)...)
		s.Outputs = s.Columns
	case "pca":
		X, err := subMatrix(train, s.Columns)
		if err != nil {
			return nil, err
		}
		if err := checkFinite(X, s.Columns, "pca input", false); err != nil {
			return nil, err
		}
		s.PCA = &ml.PCA{NComponents: intOr(p, "n_components", 0), Whiten: boolOr(p, "whiten", false)}
		if err := s.PCA.Fit(X); err != nil {
			return nil, err
		}
		_, k := s.PCA.Transform(nil, X.Slice(0, 1, 0, len(s.Columns))).Dims()
		for i := 1; i <= k; i++ {
			s.Outputs = append(s.Outputs, fmt.Sprintf("pc%d", i))
		}
	default:
		return nil, fmt.Errorf("unknown preprocessing step %q", kind)
	}
	return s, nil
}

func sortedFillKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func stringsOf(c *frame.Column) []string {
	out := make([]string, c.Len())
	for i := range out {
		out[i] = c.Str(i)
	}
	return out
}

func mostFrequent(c *frame.Column) string {
	counts := map[string]int{}
	best, bestN := "", -1
	for i := 0; i < c.Len(); i++ {
		if c.IsNull(i) {
			continue
		}
		counts[c.Str(i)]++
	}
	for k, n := range counts {
		if n > bestN || (n == bestN && k < best) {
			best, bestN = k, n
		}
	}
	return best
}

// Apply transforms a feature table with the fitted step.
func (s *Step) Apply(f *frame.Frame) (*frame.Frame, error) {
	if len(s.Columns) == 0 {
		return f, nil
	}
	for _, name := range s.Columns {
		if c, _ := f.ColByName(name); c == nil {
			return nil, fmt.Errorf("%s: no column %q", s.Type, name)
		}
	}
	var outs []*frame.Column
	denseOut := func(Y *mat.Dense, names []string) {
		r, k := Y.Dims()
		for j := 0; j < k; j++ {
			vals := make([]float64, r)
			mat.Col(vals, j, Y)
			outs = append(outs, frame.NewFloat(names[j], vals, nil))
		}
	}
	switch s.Type {
	case "standard_scaler", "minmax_scaler", "pca":
		X, err := subMatrix(f, s.Columns)
		if err != nil {
			return nil, err
		}
		var Y *mat.Dense
		switch {
		case s.Scaler != nil:
			Y = s.Scaler.Transform(nil, X)
		case s.MinMax != nil:
			Y = s.MinMax.Transform(nil, X)
		case s.PCA != nil:
			if err := checkFinite(X, s.Columns, "pca input", false); err != nil {
				return nil, err
			}
			Y = s.PCA.Transform(nil, X)
		default:
			return nil, fmt.Errorf("%s step has no fitted state", s.Type)
		}
		if _, k := Y.Dims(); k != len(s.Outputs) {
			return nil, fmt.Errorf("%s step gives %d columns, model expects %d", s.Type, k, len(s.Outputs))
		}
		denseOut(Y, s.Outputs)
	case "one_hot":
		if s.OneHot == nil {
			return nil, fmt.Errorf("one_hot step has no fitted state")
		}
		vals := make([][]string, len(s.Columns))
		for j, name := range s.Columns {
			c, _ := f.ColByName(name)
			vals[j] = stringsOf(c)
		}
		Y := s.OneHot.TransformStrings(nil, vals)
		denseOut(Y, s.Outputs)
	case "impute":
		nNum := len(s.Columns) - len(s.Fill)
		if nNum > 0 {
			if s.Imputer == nil {
				return nil, fmt.Errorf("impute step has no fitted state")
			}
			X, err := subMatrix(f, s.Columns[:nNum])
			if err != nil {
				return nil, err
			}
			denseOut(s.Imputer.Transform(nil, X), s.Columns[:nNum])
		}
		for _, name := range s.Columns[nNum:] {
			c, _ := f.ColByName(name)
			vals := stringsOf(c)
			for i := range vals {
				if c.IsNull(i) {
					vals[i] = s.Fill[name]
				}
			}
			outs = append(outs, frame.NewString(name, vals, nil))
		}
	default:
		return nil, fmt.Errorf("unknown preprocessing step %q", s.Type)
	}
	return replaceColumns(f, s.Columns, outs)
}

// replaceColumns removes the input columns and puts outs where the first
// of them was.
func replaceColumns(f *frame.Frame, inputs []string, outs []*frame.Column) (*frame.Frame, error) {
	drop := map[string]bool{}
	for _, n := range inputs {
		drop[n] = true
	}
	var cols []*frame.Column
	placed := false
	for _, c := range f.Columns() {
		if drop[c.Name] {
			if !placed {
				cols = append(cols, outs...)
				placed = true
			}
			continue
		}
		cols = append(cols, c)
	}
	if !placed {
		cols = append(cols, outs...)
	}
	return frame.New(cols...)
}

func boolOr(p map[string]any, k string, d bool) bool {
	if v, ok := p[k].(bool); ok {
		return v
	}
	return d
}

func floatOr(p map[string]any, k string, d float64) float64 {
	switch v := p[k].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	}
	return d
}

func intOr(p map[string]any, k string, d int) int {
	if v, ok := p[k].(int); ok {
		return v
	}
	return d
}

func stringOr(p map[string]any, k string, d string) string {
	switch v := p[k].(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	case int:
		return fmt.Sprint(v)
	}
	return d
}
