package ml

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// dense returns X as a *mat.Dense, without copying when it already is one.
func dense(X mat.Matrix) *mat.Dense {
	if d, ok := X.(*mat.Dense); ok {
		return d
	}
	return mat.DenseCopyOf(X)
}

// checkXy panics when y does not have one value per row of X.
func checkXy(name string, X mat.Matrix, y []float64) {
	r, c := X.Dims()
	if r != len(y) {
		panic(fmt.Sprintf("ml: %s: X has %d rows, y has %d values", name, r, len(y)))
	}
	if c == 0 {
		panic(fmt.Sprintf("ml: %s: X has no columns", name))
	}
}

// checkFinite returns ErrNaN wrapped with the first place X holds a
// non-finite value.
func checkFinite(X *mat.Dense) error {
	r, c := X.Dims()
	bad := make([]bool, (r+chunkRows-1)/chunkRows)
	parallelChunks(r, func(ch, lo, hi int) {
		for i := lo; i < hi; i++ {
			for _, v := range X.RawRowView(i)[:c] {
				if v-v != 0 { // NaN or ±Inf
					bad[ch] = true
					return
				}
			}
		}
	})
	for ch, b := range bad {
		if !b {
			continue
		}
		for i := ch * chunkRows; i < r; i++ {
			for j, v := range X.RawRowView(i)[:c] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("%w in X at row %d, column %d", ErrNaN, i, j)
				}
			}
		}
	}
	return nil
}

// checkFiniteVec returns ErrNaN wrapped for the first non-finite y.
func checkFiniteVec(name string, y []float64) error {
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w in %s at row %d", ErrNaN, name, i)
		}
	}
	return nil
}

// classCodes checks that y holds class codes (whole numbers >= 0) and
// returns the number of classes (largest code + 1) and how many rows each
// class has. Non-codes are a caller bug and panic; fewer than two classes
// present returns ErrOneClass.
func classCodes(name string, y []float64) (k int, counts []int, err error) {
	if len(y) == 0 {
		return 0, nil, fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	maxc := 0.0
	for i, v := range y {
		if v < 0 || v != math.Trunc(v) || v > 1<<20 {
			panic(fmt.Sprintf("ml: %s: y[%d] = %v is not a class code (0, 1, 2, ...)", name, i, v))
		}
		maxc = math.Max(maxc, v)
	}
	k = int(maxc) + 1
	counts = make([]int, k)
	for _, v := range y {
		counts[int(v)]++
	}
	present := 0
	for _, c := range counts {
		if c > 0 {
			present++
		}
	}
	if present < 2 {
		return k, counts, fmt.Errorf("%s: %w (got %d)", name, ErrOneClass, present)
	}
	if k < 2 {
		k = 2
	}
	return k, counts, nil
}

// prepare is the common Fit preamble for estimators: shape check (panic),
// then finite X and y (error).
func prepare(name string, X mat.Matrix, y []float64) (*mat.Dense, error) {
	checkXy(name, X, y)
	if len(y) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	Xd := dense(X)
	if err := checkFinite(Xd); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkFiniteVec("y", y); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return Xd, nil
}

// predictDst returns dst when it has length n, else a new slice.
func predictDst(dst []float64, n int) []float64 {
	if len(dst) == n {
		return dst
	}
	return make([]float64, n)
}

// denseDst returns dst reset to r×c when it has those dims (or is
// empty), else a new matrix.
func denseDst(dst *mat.Dense, r, c int) *mat.Dense {
	if dst == nil {
		return mat.NewDense(r, c, nil)
	}
	if dst.IsEmpty() {
		dst.ReuseAs(r, c)
		return dst
	}
	if rr, cc := dst.Dims(); rr == r && cc == c {
		return dst
	}
	return mat.NewDense(r, c, nil)
}

// checkCols panics when X does not have the fitted number of columns.
func checkCols(name string, X mat.Matrix, want int) {
	if want == 0 {
		panic(fmt.Sprintf("ml: %s used before Fit", name))
	}
	if _, c := X.Dims(); c != want {
		panic(fmt.Sprintf("ml: %s: X has %d columns, fitted on %d", name, c, want))
	}
}

// chunkRows is the row-block size for work split across goroutines.
// Blocks are fixed in size and their results combined in block order, so
// results do not depend on the number of cores.
const chunkRows = 4096

// parallelChunks calls fn(c, lo, hi) for each block of chunkRows rows of
// n, on up to GOMAXPROCS goroutines (one when there is a single block).
func parallelChunks(n int, fn func(c, lo, hi int)) int {
	nc := (n + chunkRows - 1) / chunkRows
	if nc <= 1 {
		fn(0, 0, n)
		return 1
	}
	workers := min(runtime.GOMAXPROCS(0), nc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				c := next
				next++
				mu.Unlock()
				if c >= nc {
					return
				}
				lo := c * chunkRows
				fn(c, lo, min(lo+chunkRows, n))
			}
		}()
	}
	wg.Wait()
	return nc
}

// rowsSubset copies the rows idx of X into a new matrix.
func rowsSubset(X *mat.Dense, idx []int) *mat.Dense {
	_, c := X.Dims()
	if len(idx) == 0 {
		return &mat.Dense{}
	}
	out := mat.NewDense(len(idx), c, nil)
	raw := out.RawMatrix()
	for i, r := range idx {
		copy(raw.Data[i*raw.Stride:i*raw.Stride+c], X.RawRowView(r))
	}
	return out
}

func valuesSubset(y []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, r := range idx {
		out[i] = y[r]
	}
	return out
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
