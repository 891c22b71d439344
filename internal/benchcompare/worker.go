package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/ml"
)

// worker runs one task's sluice side: worker TASK DIR. It loads its input
// untimed, times the work and prints a result as JSON.
func worker(args []string, out io.Writer) error {
	if len(args) != 2 && len(args) != 3 {
		return fmt.Errorf("usage: worker TASK DIR [ROWS]")
	}
	name, dir := args[0], args[1]
	threads := fmt.Sprintf("GOMAXPROCS %d", runtime.GOMAXPROCS(0))
	var r result
	switch name {
	case "scale_hgb", "scale_rf":
		if len(args) != 3 {
			return fmt.Errorf("usage: worker %s DIR ROWS", name)
		}
		set := "scale" + args[2]
		Xtr, ytr, err := loadXY(filepath.Join(dir, set+"_train.csv"))
		if err != nil {
			return err
		}
		Xte, yte, err := loadXY(filepath.Join(dir, set+"_test.csv"))
		if err != nil {
			return err
		}
		var m ml.Estimator
		if name == "scale_hgb" {
			c := ml.NewHistGradientBoostingClassifier()
			c.MaxDepth, c.EarlyStopping = 3, "false"
			m = c
			r.Method = "hist boosting, binned splits (255 bins), 100 iterations × 3 classes, depth 3, " + threads
		} else {
			c := ml.NewRandomForestClassifier()
			c.NEstimators, c.MaxDepth, c.PerClassTrees = 20, 10, true
			m = c
			n, _ := Xtr.Dims()
			r.Method = fmt.Sprintf("forest, %s, 20 members × 3 per-class trees, depth 10, bootstrap, %s", forestSplits(c.MaxBins, n), threads)
		}
		start, cpu := time.Now(), cpuSeconds()
		if err := m.Fit(Xtr, ytr); err != nil {
			return err
		}
		r.Seconds, r.CPU = time.Since(start).Seconds(), cpuSeconds()-cpu
		r.Score = accuracy(yte, m.Predict(nil, Xte))
	case "hgb_clf", "hgb_reg", "rf_clf", "ridge", "lasso", "enet":
		set := map[string]string{"hgb_clf": "clf", "hgb_reg": "reg", "rf_clf": "clf", "ridge": "lin", "lasso": "lin", "enet": "lin"}[name]
		Xtr, ytr, err := loadXY(filepath.Join(dir, set+"_train.csv"))
		if err != nil {
			return err
		}
		Xte, yte, err := loadXY(filepath.Join(dir, set+"_test.csv"))
		if err != nil {
			return err
		}
		var m ml.Estimator
		classify := set == "clf"
		switch name {
		case "hgb_clf", "hgb_reg":
			if classify {
				c := ml.NewHistGradientBoostingClassifier()
				c.MaxDepth, c.EarlyStopping = 3, "false"
				m = c
			} else {
				c := ml.NewHistGradientBoostingRegressor()
				c.MaxDepth, c.EarlyStopping = 3, "false"
				m = c
			}
			r.Method = "binned splits, 255 bins, histogram subtraction, " + threads
		case "rf_clf":
			// One tree per class and member, as XGBoost's random-forest
			// mode grows them.
			c := ml.NewRandomForestClassifier()
			c.MaxDepth, c.PerClassTrees = 10, true
			m = c
			n, _ := Xtr.Dims()
			r.Method = fmt.Sprintf("%s, a tree per class, bootstrap, %s", forestSplits(c.MaxBins, n), threads)
		case "ridge":
			m = ml.NewRidge()
			r.Method = "no tree splits: normal equations, " + threads
		case "lasso":
			l := ml.NewLasso()
			l.Alpha = 0.01
			m = l
			r.Method = "no tree splits: coordinate descent on XᵀX, " + threads
		case "enet":
			e := ml.NewElasticNet()
			e.Alpha = 0.01
			m = e
			r.Method = "no tree splits: coordinate descent on XᵀX, " + threads
		}
		start, cpu := time.Now(), cpuSeconds()
		if err := m.Fit(Xtr, ytr); err != nil {
			return err
		}
		r.Seconds, r.CPU = time.Since(start).Seconds(), cpuSeconds()-cpu
		pred := m.Predict(nil, Xte)
		if classify {
			r.Score = accuracy(yte, pred)
		} else {
			r.Score = r2(yte, pred)
		}
		switch l := m.(type) {
		case *ml.Ridge:
			r.Coef = append([]float64{l.Intercept}, l.Coef...)
		case *ml.Lasso:
			r.Coef = append([]float64{l.Intercept}, l.Coef...)
		case *ml.ElasticNet:
			r.Coef = append([]float64{l.Intercept}, l.Coef...)
		}
	case "csv_numeric", "csv_mixed":
		file := map[string]string{"csv_numeric": "num.csv", "csv_mixed": "mixed.csv"}[name]
		start, cpu := time.Now(), cpuSeconds()
		f, err := frame.ReadCSVFile(filepath.Join(dir, file), frame.ReadOptions{})
		if err != nil {
			return err
		}
		r.Seconds, r.CPU = time.Since(start).Seconds(), cpuSeconds()-cpu
		r.Score = float64(f.NumRows() * f.NumCols())
		r.Method = "type inference, parallel blocks, " + threads
	default:
		return fmt.Errorf("unknown task %q", name)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

// forestSplits says how sluice's forest splits on n training rows of
// continuous features: exactly with max_bins 0 or on at most 5,000 rows
// (the ml package's rule), else between maxBins bins.
func forestSplits(maxBins, n int) string {
	if maxBins == 0 || n <= 5000 {
		return "exact splits"
	}
	return fmt.Sprintf("binned splits (%d bins)", maxBins)
}

// cpuSeconds is the processor time (user and system) this process has
// used so far, on all its threads.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// loadXY reads a generated CSV: every column but the last is a feature,
// the last ("target") the target.
func loadXY(path string) (*mat.Dense, []float64, error) {
	f, err := frame.ReadCSVFile(path, frame.ReadOptions{})
	if err != nil {
		return nil, nil, err
	}
	n, d := f.NumRows(), f.NumCols()-1
	X := mat.NewDense(n, d, nil)
	for j := range d {
		c := f.Col(j)
		for i := range n {
			v, _ := c.Float(i)
			X.Set(i, j, v)
		}
	}
	y := make([]float64, n)
	c := f.Col(d)
	for i := range n {
		y[i], _ = c.Float(i)
	}
	return X, y, nil
}

func accuracy(y, p []float64) float64 {
	n := 0
	for i := range y {
		if y[i] == p[i] {
			n++
		}
	}
	return float64(n) / float64(len(y))
}

func r2(y, p []float64) float64 {
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var ssr, sst float64
	for i, v := range y {
		ssr += (v - p[i]) * (v - p[i])
		sst += (v - mean) * (v - mean)
	}
	return 1 - ssr/sst
}
