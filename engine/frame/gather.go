package frame

import (
	"math"
	"runtime"
	"sync"
)

// gather returns c's rows in the given order.
func gather(c *Column, rows []int) *Column {
	return gather2(c, rows, nil, nil)
}

// gather2 builds a column of len(ar) rows: row r is a's row ar[r] when
// ar[r] >= 0, else b's row br[r] when b != nil and br[r] >= 0, else missing.
// a and b must have the same type; the result is named after a. String
// results get a dictionary in order of first appearance.
func gather2(a *Column, ar []int, b *Column, br []int) *Column {
	n := len(ar)
	out := &Column{Name: a.Name, Type: a.Type}
	var nulls []uint64
	setNull := func(r int) {
		if nulls == nil {
			nulls = make([]uint64, (n+63)/64)
		}
		setBit(nulls, r)
	}
	pick := func(r int) (*Column, int) {
		if i := ar[r]; i >= 0 {
			if a.IsNull(i) {
				return nil, -1
			}
			return a, i
		}
		if b != nil {
			if i := br[r]; i >= 0 && !b.IsNull(i) {
				return b, i
			}
		}
		return nil, -1
	}
	simple := b == nil && a.nulls == nil
	switch a.Type {
	case Float:
		v := make([]float64, n)
		if simple {
			for r, i := range ar {
				if i < 0 {
					v[r] = math.NaN()
					setNull(r)
				} else {
					v[r] = a.Floats[i]
				}
			}
		} else {
			for r := range v {
				if c, i := pick(r); c != nil {
					v[r] = c.Floats[i]
				} else {
					v[r] = math.NaN()
					setNull(r)
				}
			}
		}
		out.Floats = v
	case Int, Time:
		v := make([]int64, n)
		src := func(c *Column) []int64 {
			if c.Type == Time {
				return c.Times
			}
			return c.Ints
		}
		if simple {
			av := src(a)
			for r, i := range ar {
				if i < 0 {
					setNull(r)
				} else {
					v[r] = av[i]
				}
			}
		} else {
			for r := range v {
				if c, i := pick(r); c != nil {
					v[r] = src(c)[i]
				} else {
					setNull(r)
				}
			}
		}
		if a.Type == Time {
			out.Times = v
		} else {
			out.Ints = v
		}
	case Bool:
		v := make([]bool, n)
		for r := range v {
			if c, i := pick(r); c != nil {
				v[r] = c.Bools[i]
			} else {
				setNull(r)
			}
		}
		out.Bools = v
	case String:
		codes := make([]int32, n)
		var dict []string
		// remap[k] is the new code+1 of a's code k (0: not seen yet); b's
		// values go through a map because its dictionary is different.
		useMap := len(a.Dict) > 4*n+64
		var remapA []int32
		var mapA map[int32]int32
		if useMap {
			mapA = make(map[int32]int32)
		} else {
			remapA = make([]int32, len(a.Dict))
		}
		var byValue map[string]int32
		for r := range codes {
			c, i := pick(r)
			if c == nil {
				codes[r] = -1
				setNull(r)
				continue
			}
			k := c.Codes[i]
			var nk int32
			if c == a {
				if useMap {
					nk = mapA[k]
				} else {
					nk = remapA[k]
				}
				if nk != 0 {
					codes[r] = nk - 1
					continue
				}
			}
			s := c.Dict[k]
			if byValue == nil && c != a {
				byValue = make(map[string]int32, len(dict))
				for j, d := range dict {
					byValue[d] = int32(j + 1)
				}
			}
			if byValue != nil {
				nk = byValue[s]
			}
			if nk == 0 {
				dict = append(dict, s)
				nk = int32(len(dict))
				if byValue != nil {
					byValue[s] = nk
				}
			}
			if c == a {
				if useMap {
					mapA[k] = nk
				} else {
					remapA[k] = nk
				}
			}
			codes[r] = nk - 1
		}
		if dict == nil {
			dict = []string{}
		}
		out.Codes, out.Dict = codes, dict
	}
	out.nulls = nulls
	return out
}

// parallelFor calls fn(i) for i in [0, n), on all CPUs when par is true.
func parallelFor(n int, par bool, fn func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if !par || workers < 2 || n < 2 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	if workers > n {
		workers = n
	}
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
