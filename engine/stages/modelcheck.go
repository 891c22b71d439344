package stages

import (
	"fmt"

	"github.com/sluice-ml/sluice/ml"
)

// checkDeclaredSizes holds every count a model file declares to the data
// the file actually holds, before anything is allocated from it: a
// classifier's class count to the classes listed, the feature count to
// the features listed, and a tree's values per node to the class count.
// A file whose counts claim more than it holds (a 16 KB k-NN model with
// n_classes 2,000,000) would otherwise make predict allocate gigabytes.
func checkDeclaredSizes(est ml.Estimator, nFeatures, nClasses int) error {
	features := func(declared int) error {
		if declared != nFeatures {
			return fmt.Errorf("n_features_in is %d, the file lists %d features", declared, nFeatures)
		}
		return nil
	}
	trees := func(ts []ml.Tree, nv int) error {
		for i := range ts {
			if ts[i].NValues != nv {
				return fmt.Errorf("tree %d holds %d values per node, want %d", i, ts[i].NValues, nv)
			}
		}
		return nil
	}
	rows := func(name string, m [][]float64, want int) error {
		for i, r := range m {
			if len(r) != want {
				return fmt.Errorf("%s row %d has %d values, want %d", name, i, len(r), want)
			}
		}
		return nil
	}
	if c, ok := est.(ml.Classifier); ok {
		if k := c.NumClasses(); k < 1 || k > nClasses {
			return fmt.Errorf("n_classes is %d, the file lists %d classes", k, nClasses)
		}
	}
	switch m := est.(type) {
	case *ml.LogisticRegression:
		return rows("coef", m.Coef, nFeatures)
	case *ml.LinearSVC:
		return rows("coef", m.Coef, nFeatures)
	case *ml.GaussianNB:
		if len(m.Theta) != m.NClasses || len(m.Var) != m.NClasses {
			return fmt.Errorf("theta and var hold %d and %d classes, want n_classes %d", len(m.Theta), len(m.Var), m.NClasses)
		}
		if err := rows("theta", m.Theta, nFeatures); err != nil {
			return err
		}
		return rows("var", m.Var, nFeatures)
	case *ml.LinearRegression:
		return features(len(m.Coef))
	case *ml.Ridge:
		return features(len(m.Coef))
	case *ml.Lasso:
		return features(len(m.Coef))
	case *ml.KNeighborsClassifier:
		return features(m.NFeatures)
	case *ml.KNeighborsRegressor:
		return features(m.NFeatures)
	case *kmeansEstimator:
		if err := features(m.NFeatures); err != nil {
			return err
		}
		return rows("cluster_centers", m.ClusterCenters, nFeatures)
	case *ml.DecisionTreeClassifier:
		if err := features(m.NFeatures); err != nil {
			return err
		}
		return trees([]ml.Tree{m.Tree}, m.NClasses)
	case *ml.DecisionTreeRegressor:
		if err := features(m.NFeatures); err != nil {
			return err
		}
		return trees([]ml.Tree{m.Tree}, 1)
	case *ml.RandomForestClassifier:
		if err := features(m.NFeatures); err != nil {
			return err
		}
		if m.PerClassTrees && m.NClasses > 2 {
			if len(m.Trees)%m.NClasses != 0 {
				return fmt.Errorf("%d per-class trees for %d classes", len(m.Trees), m.NClasses)
			}
			return trees(m.Trees, 1)
		}
		return trees(m.Trees, m.NClasses)
	case *ml.RandomForestRegressor:
		if err := features(m.NFeatures); err != nil {
			return err
		}
		return trees(m.Trees, 1)
	case *ml.GradientBoostingClassifier:
		if err := features(m.NFeatures); err != nil {
			return err
		}
		for _, stage := range m.Trees {
			if err := trees(stage, 1); err != nil {
				return err
			}
		}
	case *ml.HistGradientBoostingClassifier:
		return features(m.NFeatures)
	case *ml.HistGradientBoostingRegressor:
		return features(m.NFeatures)
	case *ml.GradientBoostingRegressor:
		if err := features(m.NFeatures); err != nil {
			return err
		}
		return trees(m.Trees, 1)
	}
	return nil
}
