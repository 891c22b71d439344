package ml

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestWorkPool runs tasks through a pool, back to back and after its
// helpers have gone to sleep, and checks that every task ran exactly once
// before run returned, and that close leaves no goroutine behind.
func TestWorkPool(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, workers := range []int{1, 2, 4} {
		p := newWorkPool(workers)
		for round, n := range []int{0, 1, 2, 3, 100, 1000, 7, 64} {
			if round == 4 {
				time.Sleep(3 * poolSpin) // the helpers sleep now
			}
			counts := make([]atomic.Int32, n)
			p.run(n, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("%d workers, %d tasks: task %d ran %d times when run returned", workers, n, i, c)
				}
			}
		}
		var sum atomic.Int64
		p.blocks(1000, 64, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				sum.Add(int64(i))
			}
		})
		if s := sum.Load(); s != 999*1000/2 {
			t.Errorf("%d workers: blocks covered rows summing to %d, want %d", workers, s, 999*1000/2)
		}
		p.close()
	}
	var nilPool *workPool
	ran := 0
	nilPool.run(3, func(int) { ran++ })
	nilPool.close()
	if ran != 3 {
		t.Errorf("a nil pool ran %d of 3 tasks", ran)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines after closing the pools, %d before", g, before)
	}
}
