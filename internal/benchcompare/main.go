package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// task is one row of the comparison: what sluice runs and the anchors
// it is set beside.
type task struct {
	name    string
	work    string   // the row's description
	data    string   // the data set's description
	anchors []string // anchor names anchors.py knows
	whole   bool     // time whole processes instead of the reported seconds
	rows    int      // training rows of the whole-process task's forest
}

func tasks(rows, csvRows int) []task {
	return []task{
		{name: "hgb_clf", work: "histogram boosting, 100 trees depth 3, log-loss",
			data: fmt.Sprintf("%s × 20, 3 classes", count(rows)), anchors: []string{"xgb_hist", "sk_hgb"}},
		{name: "hgb_reg", work: "histogram boosting, 100 trees depth 3, squared error",
			data: fmt.Sprintf("%s × 20", count(2*rows)), anchors: []string{"xgb_hist", "sk_hgb"}},
		{name: "rf_clf", work: "random forest, 100 trees depth 10, √d features per split",
			data: fmt.Sprintf("%s × 20, 3 classes", count(rows)), anchors: []string{"xgb_rf"}},
		{name: "ridge", work: "ridge, alpha 1",
			data: fmt.Sprintf("%s × 20", count(2*rows)), anchors: []string{"sk_ridge"}},
		{name: "lasso", work: "lasso, alpha 0.01",
			data: fmt.Sprintf("%s × 20", count(2*rows)), anchors: []string{"sk_lasso"}},
		{name: "enet", work: "elastic net, alpha 0.01, l1_ratio 0.5",
			data: fmt.Sprintf("%s × 20", count(2*rows)), anchors: []string{"sk_enet"}},
		{name: "csv_numeric", work: "read CSV, numeric",
			data: fmt.Sprintf("%s × 21", count(csvRows)), anchors: []string{"pandas"}},
		{name: "csv_mixed", work: "read CSV, strings, numbers, booleans, quoted fields and gaps",
			data: fmt.Sprintf("%s × 8", count(csvRows)), anchors: []string{"pandas"}},
		{name: "predict", work: "predict, whole process: load model, score, write CSV",
			data: fmt.Sprintf("%s rows, 100-tree forest", count(rows/4)), anchors: []string{"joblib"}, whole: true, rows: rows},
	}
}

// result is what a worker prints.
type result struct {
	Seconds float64   `json:"seconds"`
	CPU     float64   `json:"cpu_seconds"` // processor time of the timed work, all threads
	Score   float64   `json:"score"`
	Method  string    `json:"method"`
	Coef    []float64 `json:"coef,omitempty"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if err := worker(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "benchcompare worker:", err)
			os.Exit(1)
		}
		return
	}
	rows := flag.Int("rows", 80000, "training rows of the classification sets (regression and linear sets get twice as many)")
	csvRows := flag.Int("csv-rows", 1000000, "rows of the CSV files")
	rounds := flag.Int("rounds", 3, "interleaved rounds per task")
	only := flag.String("tasks", "", "comma-separated tasks to run (default: all)")
	dir := flag.String("dir", "", "folder for the generated data (default: a temporary folder, removed after)")
	update := flag.String("update", "", "also write the table into this Markdown file, between its bench-compare markers")
	python := flag.String("python", "/usr/bin/python3", "the Python with the anchors' packages")
	anchorsOnly := flag.String("anchors", "", "comma-separated anchors to run (default: all; sk_hgb is slow on a loaded machine)")
	note := flag.String("note", "", "a sentence added to the table's first line, such as what else ran on the machine")
	scaleFlag := flag.String("scale", "auto", "training rows of the scaling table, comma-separated (auto: rows/4, rows, 4·rows; none: no table)")
	flag.Parse()
	scale, err := scaleRows(*scaleFlag, *rows)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcompare:", err)
		os.Exit(2)
	}
	if err := run(*rows, *csvRows, *rounds, *only, *anchorsOnly, *dir, *update, *python, *note, scale); err != nil {
		fmt.Fprintln(os.Stderr, "benchcompare:", err)
		os.Exit(1)
	}
}

// scaleRows parses the -scale flag.
func scaleRows(v string, rows int) ([]int, error) {
	switch v {
	case "auto":
		return []int{rows / 4, rows, 4 * rows}, nil
	case "none", "":
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 {
			return nil, fmt.Errorf("-scale: %q is not a row count of at least 100", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(rows, csvRows, rounds int, only, anchorsOnly, dir, update, python, note string, scale []int) error {
	src, err := sourceDir()
	if err != nil {
		return err
	}
	anchors := filepath.Join(src, "anchors.py")
	if out, err := exec.Command(python, anchors, "check").CombinedOutput(); err != nil {
		fmt.Printf("bench-compare skipped: the anchors need %s with python3-sklearn, python3-xgboost and python3-pandas (apt-get install -y python3-sklearn python3-xgboost python3-pandas): %s\n",
			python, strings.TrimSpace(lastLine(string(out), err)))
		return nil
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "benchcompare")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d) //nolint:errcheck // best effort: a temporary folder
		dir = d
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var list []task
	for _, t := range tasks(rows, csvRows) {
		if only != "" && !slices.Contains(strings.Split(only, ","), t.name) {
			continue
		}
		if anchorsOnly != "" {
			t.anchors = slices.DeleteFunc(t.anchors, func(a string) bool { return !slices.Contains(strings.Split(anchorsOnly, ","), a) })
			if len(t.anchors) == 0 {
				continue
			}
		}
		list = append(list, t)
	}
	if len(list) == 0 && len(scale) == 0 {
		return fmt.Errorf("no task matches %q", only)
	}
	fmt.Fprintf(os.Stderr, "generating data in %s\n", dir)
	if err := generate(dir, rows, csvRows, list, scale); err != nil {
		return err
	}
	began, commit := time.Now().UTC(), commitOf(src)
	load := startLoad()
	var rowsOut []row
	for _, t := range list {
		r, err := measure(t, dir, rounds, self, python, anchors, src)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		rowsOut = append(rowsOut, r...)
		// The task's rows as soon as they are measured.
		fmt.Fprint(os.Stderr, render(r, rounds))
	}
	var points []scalePoint
	if len(scale) > 0 {
		var err error
		if points, err = measureScaling(dir, self, scale, rounds); err != nil {
			return fmt.Errorf("scaling: %w", err)
		}
	}
	lo, hi := load.stop()
	table := header(began, time.Now().UTC(), rounds, lo, hi, commit, note)
	if len(rowsOut) > 0 {
		table += render(rowsOut, rounds)
	}
	if len(points) > 0 {
		table += renderScaling(points)
	}
	fmt.Print(table)
	if update != "" {
		return writeBetweenMarkers(update, table)
	}
	return nil
}

// sourceDir is the folder of this command's source, for anchors.py.
func sourceDir() (string, error) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "github.com/sluice-ml/sluice/internal/benchcompare").Output()
	if err != nil {
		return "", fmt.Errorf("find the source folder (run from the module): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func lastLine(s string, err error) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return err.Error()
	}
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// side is one measured command's results over the rounds.
type side struct {
	name    string
	seconds []float64
	cpu     []float64
	res     result
}

// row is one line of the table.
type row struct {
	t      task
	sluice side
	anchor side
	load   [2]float64 // min and max one-minute load average seen
	coef   float64    // largest coefficient difference, -1 if none
}

func measure(t task, dir string, rounds int, self, python, anchors, src string) ([]row, error) {
	if t.whole {
		if err := predictSetup(dir, python, anchors, src); err != nil {
			return nil, err
		}
	}
	cmds := map[string][]string{"sluice": {self, "worker", t.name, dir}}
	if t.whole {
		// Relative paths from the data folder: sluice writes only under
		// the folder it runs in unless told otherwise.
		cmds["sluice"] = []string{filepath.Join(dir, "sluice"), "predict", "forest.model.json", "predict.csv", "-o", "sluice_out.csv"}
	}
	for _, a := range t.anchors {
		cmds[a] = []string{python, anchors, t.name, a, dir}
	}
	order := append([]string{"sluice"}, t.anchors...)
	sides := map[string]*side{}
	for _, n := range order {
		sides[n] = &side{name: n}
	}
	sampler := startLoad()
	for round := range rounds {
		for _, n := range order {
			l := loadavg()
			start := time.Now()
			cmd := exec.Command(cmds[n][0], cmds[n][1:]...)
			cmd.Dir = dir
			out, err := cmd.Output()
			wall := time.Since(start).Seconds()
			if err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					return nil, fmt.Errorf("%s: %v: %s", n, err, ee.Stderr)
				}
				return nil, fmt.Errorf("%s: %v", n, err)
			}
			s := sides[n]
			if t.whole {
				s.seconds = append(s.seconds, wall)
				s.cpu = append(s.cpu, cmd.ProcessState.UserTime().Seconds()+cmd.ProcessState.SystemTime().Seconds())
				s.res.Method = wholeMethod(n, t.rows)
			} else {
				var r result
				if err := json.Unmarshal(lastJSON(out), &r); err != nil {
					return nil, fmt.Errorf("%s printed %q: %v", n, out, err)
				}
				s.seconds = append(s.seconds, r.Seconds)
				s.cpu = append(s.cpu, r.CPU)
				s.res = r
			}
			fmt.Fprintf(os.Stderr, "%s round %d %s: %.3f s (load %.2f)\n", t.name, round+1, n, s.seconds[len(s.seconds)-1], l)
		}
	}
	var load [2]float64
	load[0], load[1] = sampler.stop()
	if t.whole {
		var err error
		if sides["sluice"].res.Score, err = agreement(dir); err != nil {
			return nil, err
		}
		sides["joblib"].res.Score = sides["sluice"].res.Score
	}
	var out []row
	for _, a := range t.anchors {
		r := row{t: t, sluice: *sides["sluice"], anchor: *sides[a], load: load, coef: -1}
		if c1, c2 := r.sluice.res.Coef, r.anchor.res.Coef; len(c1) > 0 && len(c1) == len(c2) {
			r.coef = 0
			for i := range c1 {
				r.coef = max(r.coef, abs(c1[i]-c2[i]))
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// lastJSON returns the last line of out that looks like a JSON object.
func lastJSON(out []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if bytes.HasPrefix(lines[i], []byte("{")) {
			return lines[i]
		}
	}
	return out
}

// loadSampler records the range of the load average, read every second
// until stop.
type loadSampler struct {
	done   chan struct{}
	result chan [2]float64
}

func startLoad() *loadSampler {
	s := &loadSampler{done: make(chan struct{}), result: make(chan [2]float64, 1)}
	go func() {
		r := [2]float64{loadavg(), loadavg()}
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				l := loadavg()
				s.result <- [2]float64{min(r[0], l), max(r[1], l)}
				return
			case <-t.C:
				l := loadavg()
				r[0], r[1] = min(r[0], l), max(r[1], l)
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the lowest and highest load seen.
func (s *loadSampler) stop() (float64, float64) {
	close(s.done)
	r := <-s.result
	return r[0], r[1]
}

// loadavg is the one-minute load average, 0 where it cannot be read.
func loadavg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// wholeMethod says what ran in the prediction task's process: side
// sluice or joblib, the forest trained on rows rows.
func wholeMethod(side string, rows int) string {
	if side == "sluice" {
		return fmt.Sprintf("whole process; default forest, %s, 100 trees of depth 10; GOMAXPROCS %d", forestSplits(256, rows), runtime.NumCPU())
	}
	return fmt.Sprintf("whole process; scikit-learn forest, exact splits, 100 trees of depth 10, n_jobs %d", runtime.NumCPU())
}

var anchorNames = map[string]string{
	"xgb_hist": "XGBoost `hist`",
	"xgb_rf":   "XGBoost random forest (`XGBRFClassifier`, `hist`)",
	"sk_hgb":   "scikit-learn HistGradientBoosting",
	"sk_ridge": "scikit-learn Ridge",
	"sk_lasso": "scikit-learn Lasso",
	"sk_enet":  "scikit-learn ElasticNet",
	"pandas":   "pandas.read_csv",
	"joblib":   "Python: joblib.load + predict_proba (scikit-learn forest)",
}

// header says when, on what and from which commit the tables were
// measured, and the range of the load average over the whole run.
func header(began, ended time.Time, rounds int, lo, hi float64, commit, note string) string {
	if note = strings.TrimSpace(note); note != "" {
		note = " " + note
	}
	return fmt.Sprintf("Measured in one run of `make bench-compare` from %s to %s UTC on %s, %s: %d cores (GOMAXPROCS %d), %d interleaved rounds; %s. "+
		"One-minute load average over the run, sampled every second: %.1f–%.1f.%s\n\n",
		began.Format("2006-01-02 15:04"), ended.Format("15:04"), commit, runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), rounds, runtime.Version(), lo, hi, note)
}

// commitOf names the commit of the source tree that holds src, and
// whether tracked files differ from it.
func commitOf(src string) string {
	commit := "an unknown commit"
	root := filepath.Dir(filepath.Dir(src))
	if out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = "commit " + strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
			commit += " with uncommitted changes"
		}
	}
	return commit
}

func render(rows []row, rounds int) string {
	var b strings.Builder
	b.WriteString("| work | data | sluice: median (range) | anchor | anchor: median (range) | sluice / anchor | CPU s sluice / anchor | score sluice / anchor | what ran | load |\n")
	b.WriteString("|---|---|---:|---|---:|---:|---:|---|---|---|\n")
	for _, r := range rows {
		ms, ma := median(r.sluice.seconds), median(r.anchor.seconds)
		score := fmt.Sprintf("%.4f / %.4f", r.sluice.res.Score, r.anchor.res.Score)
		switch {
		case strings.HasPrefix(r.t.name, "csv"):
			score = fmt.Sprintf("%s / %s cells", count(int(r.sluice.res.Score)), count(int(r.anchor.res.Score)))
		case r.t.whole:
			score = fmt.Sprintf("%.4f of labels agree", r.sluice.res.Score)
		}
		if r.coef >= 0 {
			score += fmt.Sprintf("; max coef diff %.1e", r.coef)
		}
		fmt.Fprintf(&b, "| %s | %s | %s (%s–%s) | %s | %s (%s–%s) | **%.2f×** | %.2f / %.2f | %s | sluice: %s; anchor: %s | %.1f–%.1f |\n",
			r.t.work, r.t.data, secs(ms), secs(slices.Min(r.sluice.seconds)), secs(slices.Max(r.sluice.seconds)),
			anchorNames[r.anchor.name], secs(ma), secs(slices.Min(r.anchor.seconds)), secs(slices.Max(r.anchor.seconds)),
			ms/ma, median(r.sluice.cpu), median(r.anchor.cpu), score, r.sluice.res.Method, r.anchor.res.Method, r.load[0], r.load[1])
	}
	b.WriteString("\nTimes are wall-clock medians of the timed work (whole processes for prediction); ratios below 1 mean sluice took less time. " +
		"CPU s is the median processor time over all threads: on a loaded machine it shows the work done where wall time also shows waiting " +
		"(OpenMP's worker threads spin while they wait, which counts as CPU time). " +
		"Scores: test accuracy (classifiers) or R² (regressors) on the same held-out rows. load is the range of the one-minute load average, sampled every second while the task's rounds ran.\n")
	return b.String()
}

func secs(s float64) string {
	switch {
	case s >= 10:
		return fmt.Sprintf("%.1f s", s)
	case s >= 1:
		return fmt.Sprintf("%.2f s", s)
	default:
		return fmt.Sprintf("%.0f ms", s*1000)
	}
}

// count writes n with thousands separators.
func count(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

const (
	markStart = "<!-- bench-compare:start -->"
	markEnd   = "<!-- bench-compare:end -->"
)

// writeBetweenMarkers replaces the text between the markers of the
// Markdown file at path with table.
func writeBetweenMarkers(path, table string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, markStart), strings.Index(s, markEnd)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %s ... %s markers", path, markStart, markEnd)
	}
	s = s[:i+len(markStart)] + "\n" + table + s[j:]
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// predictSetup builds the sluice binary, fits the forest both ways and
// writes the model files, untimed.
func predictSetup(dir, python, anchors, src string) error {
	root := filepath.Dir(filepath.Dir(src))
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "sluice"), ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build sluice: %v: %s", err, out)
	}
	pipeline := `name: bench_forest
seed: 1
stages:
  - {id: train, uses: read_csv, with: {path: clf_train.csv}}
  - {id: test, uses: read_csv, with: {path: clf_test.csv}}
  - {id: split, uses: split, needs: [train, test], with: {target: target, task: classification}}
  - {id: forest, uses: random_forest_classifier, with: {n_estimators: 100, max_depth: 10}}
  - {id: export, uses: export_model, with: {path: forest.model.json}}
`
	if err := os.WriteFile(filepath.Join(dir, "forest.yaml"), []byte(pipeline), 0o644); err != nil {
		return err
	}
	runCmd := exec.Command(filepath.Join(dir, "sluice"), "--db", filepath.Join(dir, "bench.db"), "run", "forest.yaml")
	runCmd.Dir = dir
	if out, err := runCmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sluice run: %v: %s", err, out)
	}
	if out, err := exec.Command(python, anchors, "predict_setup", "joblib", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("anchor setup: %v: %s", err, out)
	}
	return nil
}

// agreement is the share of rows where sluice's and the anchor's
// predicted labels agree (the two forests differ in their random draws).
func agreement(dir string) (float64, error) {
	read := func(name, col string) ([]string, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		head := strings.Split(lines[0], ",")
		j := slices.Index(head, col)
		if j < 0 {
			return nil, fmt.Errorf("%s has no column %s", name, col)
		}
		out := make([]string, 0, len(lines)-1)
		for _, l := range lines[1:] {
			out = append(out, strings.Split(l, ",")[j])
		}
		return out, nil
	}
	a, err := read("sluice_out.csv", "prediction")
	if err != nil {
		return 0, err
	}
	b, err := read("joblib_out.csv", "prediction")
	if err != nil {
		return 0, err
	}
	if len(a) != len(b) {
		return 0, fmt.Errorf("%d predictions against %d", len(a), len(b))
	}
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / float64(len(a)), nil
}
