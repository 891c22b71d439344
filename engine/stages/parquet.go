package stages

import (
	"fmt"
	"runtime"
	"sync"
)

// The frame <-> Parquet codec. Tables written by write_parquet and every
// table artifact use it, so its output is deterministic: the same frame
// (same names, types and values, whatever the order of a string column's
// dictionary) gives the same bytes, on any core count.
//
// A frame column maps to one flat Parquet column:
//
//	frame    Parquet (physical / logical)
//	float    DOUBLE
//	int      INT64 / INT(64, signed)
//	bool     BOOLEAN
//	string   BYTE_ARRAY / STRING, dictionary encoded
//	time     INT64 / TIMESTAMP(NANOS, adjusted to UTC)
//
// A column with missing values is OPTIONAL (a missing value is a null),
// one without is REQUIRED. Reading accepts more than writing produces; see
// ReadParquet.

// forEachParallel calls fn(0..n-1) on at most GOMAXPROCS goroutines and
// returns the error of the lowest index that failed. A panic in fn is
// returned as an error.
func forEachParallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	workers := min(n, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				func() {
					defer func() {
						if p := recover(); p != nil {
							errs[i] = fmt.Errorf("malformed parquet data: %v", p)
						}
					}()
					errs[i] = fn(i)
				}()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
