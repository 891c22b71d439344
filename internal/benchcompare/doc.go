// Command benchcompare times sluice beside the tools people would pick
// instead — XGBoost's hist and random-forest modes, scikit-learn's
// HistGradientBoosting, Ridge and Lasso, pandas.read_csv, a Python
// process that loads a joblib model and calls predict_proba — on the
// same generated data, and writes a Markdown table. `make bench-compare`
// runs it.
//
// # Overview
//
//	go run ./internal/benchcompare [-rows 80000] [-csv-rows 1000000] [-rounds 3]
//	    [-tasks hgb_clf,hgb_reg,...] [-scale auto|none|N,N,...] [-dir DIR]
//	    [-update ml/BENCHMARKS.md]
//
// It generates the data sets into DIR (a temporary folder by default),
// then for each task runs the sluice side and each anchor as separate
// processes, one after the other, for -rounds rounds (A B A B ...), so a
// change in the machine's load hits both sides. Each worker process
// loads its input untimed, times only the work (a fit, a CSV read) with
// its own clock, and prints one JSON line: the seconds, the test score
// and what ran (split method, threads). The prediction task times whole
// processes instead (start, load the model, score, write). The table
// gives each side's median and range, the ratio of the medians, the
// scores, and the range of the one-minute load average, sampled every
// second while the task ran.
//
// In the same run it fits histogram boosting and the forest on one
// thread at rows/4, rows and 4·rows training rows (-scale) and writes a
// second table of their processor times and growth beside n·log n. The
// header names the commit and the load over the whole run, so the file
// says what produced it.
//
// The anchors run under /usr/bin/python3 with Debian's python3-sklearn,
// python3-xgboost and python3-pandas; when they are missing it says so
// and exits without measuring.
//
// # Caveats
//
// Figures are only as quiet as the machine: the load column says how
// busy it was. The sluice side and XGBoost use every core
// (GOMAXPROCS, nthread); scikit-learn uses OpenMP's default, every core.
package main
