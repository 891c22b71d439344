package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
)

// scalePoint is one size of the scaling table.
type scalePoint struct {
	rows           int
	fits           int // fits per model, whose medians hgb and rf hold
	hgb, rf        result
	loadLo, loadHi float64
}

// measureScaling fits histogram boosting and the per-class forest on each
// size, rounds times each, the two interleaved, one process each on one
// thread (GOMAXPROCS=1), so the processor time is the work itself: no
// waiting for the other core, no parallel overhead. A size's figures are
// the medians of its fits: one fit's processor time moves by 10–15%
// from run to run on a shared machine, enough to tip a step over
// n·log n's.
func measureScaling(dir, self string, sizes []int, rounds int) ([]scalePoint, error) {
	var out []scalePoint
	for _, n := range sizes {
		p := scalePoint{rows: n, fits: rounds}
		sampler := startLoad()
		var cpu, sec [2][]float64
		for range max(1, rounds) {
			for k, task := range []string{"scale_hgb", "scale_rf"} {
				r, err := scaleFit(dir, self, task, n)
				if err != nil {
					return nil, err
				}
				if k == 0 {
					p.hgb = r
				} else {
					p.rf = r
				}
				cpu[k], sec[k] = append(cpu[k], r.CPU), append(sec[k], r.Seconds)
				fmt.Fprintf(os.Stderr, "%s %d rows: %.2f cpu s, %.2f s (load %.2f)\n", task, n, r.CPU, r.Seconds, loadavg())
			}
		}
		p.hgb.CPU, p.hgb.Seconds = median(cpu[0]), median(sec[0])
		p.rf.CPU, p.rf.Seconds = median(cpu[1]), median(sec[1])
		p.loadLo, p.loadHi = sampler.stop()
		out = append(out, p)
	}
	return out, nil
}

// scaleFit runs one fit of the scaling table in a worker process.
func scaleFit(dir, self, task string, n int) (result, error) {
	var r result
	cmd := exec.Command(self, "worker", task, dir, fmt.Sprint(n))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	b, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return r, fmt.Errorf("%s %d: %v: %s", task, n, err, ee.Stderr)
		}
		return r, fmt.Errorf("%s %d: %v", task, n, err)
	}
	if err := json.Unmarshal(lastJSON(b), &r); err != nil {
		return r, fmt.Errorf("%s printed %q: %v", task, b, err)
	}
	return r, nil
}

// renderScaling writes the scaling table: processor seconds per size and
// each step's growth beside n·log n's.
func renderScaling(points []scalePoint) string {
	var b strings.Builder
	fits := "one fit"
	if len(points) > 0 && points[0].fits > 1 {
		fits = fmt.Sprintf("the median of %d fits, the two models' interleaved,", points[0].fits)
	}
	fmt.Fprintf(&b, "\nScaling, in the same run: %s per size on one thread (GOMAXPROCS=1), on sets made as the classification set "+
		"(same generator and seed, 20 features, 3 classes) with n training rows, scored on n/4 held-out rows. CPU s is the fit's processor time; × previous is its growth from the size before, "+
		"beside n·log₂ n's.\n\n", fits)
	b.WriteString("| training rows | boosting CPU s | × previous | forest CPU s | × previous | n·log n × previous | accuracy boosting / forest | load |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---|---|\n")
	for i, p := range points {
		grow := func(cur, prev float64) string {
			if i == 0 {
				return ""
			}
			return fmt.Sprintf("%.1f", cur/prev)
		}
		nlogn := ""
		if i > 0 {
			q := points[i-1].rows
			nlogn = fmt.Sprintf("%.1f", float64(p.rows)*math.Log2(float64(p.rows))/(float64(q)*math.Log2(float64(q))))
		}
		var ph, pr float64
		if i > 0 {
			ph, pr = points[i-1].hgb.CPU, points[i-1].rf.CPU
		}
		fmt.Fprintf(&b, "| %s | %.2f | %s | %.2f | %s | %s | %.4f / %.4f | %.1f–%.1f |\n",
			count(p.rows), p.hgb.CPU, grow(p.hgb.CPU, ph), p.rf.CPU, grow(p.rf.CPU, pr), nlogn, p.hgb.Score, p.rf.Score, p.loadLo, p.loadHi)
	}
	if len(points) > 0 {
		fmt.Fprintf(&b, "\nWhat ran: %s; %s.\n", points[0].hgb.Method, points[0].rf.Method)
	}
	return b.String()
}
