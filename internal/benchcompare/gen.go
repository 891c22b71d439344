package main

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// generate writes the data sets the tasks need into dir, from fixed
// seeds, so every run of a given size compares on the same bytes.
//
//   - clf_{train,test}.csv: 20 standard normal features; the class is the
//     argmax of three random linear functions plus noise (sd 2).
//   - reg_{train,test}.csv: 20 standard normal features; the target is a
//     random linear function plus 2 sin(2 x0) + x1 x2 plus unit noise.
//   - lin_{train,test}.csv: the same features; a random linear target
//     plus unit noise.
//   - num.csv: 21 numeric columns (floats, one integer column).
//   - mixed.csv: an id, two string columns (one quoted, with commas), a
//     float and an integer column with gaps, a boolean, a date and a
//     free-text column.
//   - scale<n>_{train,test}.csv: the classification set with n training
//     rows, for the scaling table (the clf set itself at -rows).
//
// Test sets have a quarter as many rows as the training sets.
func generate(dir string, rows, csvRows int, list []task, scale []int) error {
	for _, n := range scale {
		if err := genSet(dir, fmt.Sprintf("scale%d", n), "clf", n, 1); err != nil {
			return err
		}
	}
	need := map[string]bool{}
	for _, t := range list {
		switch t.name {
		case "hgb_clf", "rf_clf", "predict":
			need["clf"] = true
		case "hgb_reg":
			need["reg"] = true
		case "ridge", "lasso", "enet":
			need["lin"] = true
		case "csv_numeric":
			need["num"] = true
		case "csv_mixed":
			need["mixed"] = true
		}
	}
	if need["clf"] {
		if err := genSupervised(dir, "clf", rows, 1); err != nil {
			return err
		}
	}
	if need["reg"] {
		if err := genSupervised(dir, "reg", 2*rows, 2); err != nil {
			return err
		}
	}
	if need["lin"] {
		if err := genSupervised(dir, "lin", 2*rows, 3); err != nil {
			return err
		}
	}
	if need["num"] {
		if err := genNumeric(filepath.Join(dir, "num.csv"), csvRows); err != nil {
			return err
		}
	}
	if need["mixed"] {
		if err := genMixed(filepath.Join(dir, "mixed.csv"), csvRows); err != nil {
			return err
		}
	}
	if need["clf"] {
		// The prediction input: the classification test rows.
		b, err := os.ReadFile(filepath.Join(dir, "clf_test.csv"))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "predict.csv"), b, 0o644)
	}
	return nil
}

func genSupervised(dir, kind string, n int, seed uint64) error {
	return genSet(dir, kind, kind, n, seed)
}

// genSet writes name_train.csv (n rows) and name_test.csv (n/4 rows) of
// the given kind from PCG(seed, 1).
func genSet(dir, name, kind string, n int, seed uint64) error {
	const d = 20
	r := rand.New(rand.NewPCG(seed, 1))
	W := make([]float64, 3*d)
	for i := range W {
		W[i] = r.NormFloat64()
	}
	for _, part := range []struct {
		name string
		n    int
	}{{"train", n}, {"test", n / 4}} {
		err := writeCSV(filepath.Join(dir, name+"_"+part.name+".csv"), func(w *bufio.Writer) {
			for j := range d {
				fmt.Fprintf(w, "x%d,", j)
			}
			w.WriteString("target\n")
			x := make([]float64, d)
			for range part.n {
				for j := range x {
					x[j] = r.NormFloat64()
					w.WriteString(strconv.FormatFloat(x[j], 'g', 10, 64))
					w.WriteByte(',')
				}
				switch kind {
				case "clf":
					best, bs := 0, math.Inf(-1)
					for c := range 3 {
						v := 2 * r.NormFloat64()
						for j := range x {
							v += W[c*d+j] * x[j]
						}
						if v > bs {
							best, bs = c, v
						}
					}
					w.WriteString(strconv.Itoa(best))
				case "reg":
					v := 2*math.Sin(2*x[0]) + x[1]*x[2] + r.NormFloat64()
					for j := range x {
						v += W[j] * x[j]
					}
					w.WriteString(strconv.FormatFloat(v, 'g', 10, 64))
				default:
					v := r.NormFloat64()
					for j := range x {
						v += W[j] * x[j]
					}
					w.WriteString(strconv.FormatFloat(v, 'g', 10, 64))
				}
				w.WriteByte('\n')
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func genNumeric(path string, n int) error {
	r := rand.New(rand.NewPCG(4, 1))
	return writeCSV(path, func(w *bufio.Writer) {
		for j := range 21 {
			if j > 0 {
				w.WriteByte(',')
			}
			fmt.Fprintf(w, "c%d", j)
		}
		w.WriteByte('\n')
		for i := range n {
			w.WriteString(strconv.Itoa(i))
			for range 20 {
				w.WriteByte(',')
				w.WriteString(strconv.FormatFloat(r.NormFloat64()*100, 'f', 6, 64))
			}
			w.WriteByte('\n')
		}
	})
}

func genMixed(path string, n int) error {
	r := rand.New(rand.NewPCG(5, 1))
	names := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}
	cities := []string{"Lyon", "\"Portland, OR\"", "Zürich", "\"Austin, TX\"", "Oslo", "Kyoto"}
	words := slices.Concat(names, []string{"late", "on time", "damaged", "returned"})
	return writeCSV(path, func(w *bufio.Writer) {
		w.WriteString("id,name,city,price,qty,active,day,comment\n")
		for i := range n {
			w.WriteString(strconv.Itoa(i))
			w.WriteByte(',')
			w.WriteString(names[r.IntN(len(names))])
			w.WriteByte(',')
			w.WriteString(cities[r.IntN(len(cities))])
			w.WriteByte(',')
			if r.IntN(20) != 0 {
				w.WriteString(strconv.FormatFloat(r.ExpFloat64()*50, 'f', 2, 64))
			}
			w.WriteByte(',')
			if r.IntN(10) != 0 {
				w.WriteString(strconv.Itoa(r.IntN(1000)))
			}
			w.WriteByte(',')
			w.WriteString(strconv.FormatBool(r.IntN(2) == 0))
			w.WriteByte(',')
			fmt.Fprintf(w, "2024-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28))
			w.WriteByte(',')
			if r.IntN(4) != 0 {
				fmt.Fprintf(w, "\"%s, %s\"", words[r.IntN(len(words))], words[r.IntN(len(words))])
			}
			w.WriteByte('\n')
		}
	})
}

func writeCSV(path string, fill func(w *bufio.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fill(w)
	if err := w.Flush(); err != nil {
		_ = f.Close() // the flush's error is the one to report
		return err
	}
	return f.Close()
}
