package ml

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// poolSpin is how long a workPool's idle helper keeps looking for the
// next task before it sleeps. A boosting fit runs thousands of short
// parallel steps (a histogram, a partition, a gradient pass) with short
// one-core steps between them; a helper that had gone to sleep takes
// tens of microseconds to wake (on a virtual machine, an interrupt to
// another core), as long as many of those steps take. OpenMP's threads,
// which XGBoost and scikit-learn use, spin the same way.
const poolSpin = time.Millisecond

// workPool runs numbered tasks on the calling goroutine and a fixed set
// of helper goroutines, started once for many runs. Which goroutine runs
// a task is left to chance, so a task must not depend on it: results
// stay the same on any number of cores when each task writes only its
// own part. close stops the helpers; a pool must be closed.
type workPool struct {
	helpers  int
	gen      atomic.Uint64 // counts the runs; a helper works on a run it has not seen
	job      atomic.Pointer[poolJob]
	sleeping atomic.Int32 // helpers asleep, or about to be, on cond
	stopped  atomic.Bool
	mu       sync.Mutex
	cond     *sync.Cond
	wg       sync.WaitGroup
}

// poolJob is one run: tasks 0..n-1 of fn.
type poolJob struct {
	fn   func(i int)
	n    int64
	next atomic.Int64 // the next task to claim
	left atomic.Int64 // tasks not finished
}

// newWorkPool returns a pool of workers goroutines, the caller's
// included: GOMAXPROCS at most.
func newWorkPool(workers int) *workPool {
	p := &workPool{helpers: max(0, min(workers, runtime.GOMAXPROCS(0))-1)}
	p.cond = sync.NewCond(&p.mu)
	for range p.helpers {
		p.wg.Add(1)
		go p.help()
	}
	return p
}

// run calls fn(i) for i in 0..n-1, spread over the pool, and returns
// when every call has returned.
func (p *workPool) run(n int, fn func(i int)) {
	if p == nil || p.helpers == 0 || n <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	j := &poolJob{fn: fn, n: int64(n)}
	j.left.Store(int64(n))
	p.job.Store(j)
	p.gen.Add(1)
	if p.sleeping.Load() > 0 {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	}
	p.work(j)
	for spins := 0; j.left.Load() > 0; spins++ {
		if spins%64 == 63 {
			runtime.Gosched()
		}
	}
}

// blocks calls fn on the blocks [lo, hi) of block rows that cover
// 0..n-1, spread over the pool.
func (p *workPool) blocks(n, block int, fn func(lo, hi int)) {
	p.run((n+block-1)/block, func(b int) {
		fn(b*block, min(n, (b+1)*block))
	})
}

// work claims and runs j's tasks until none is left to claim.
func (p *workPool) work(j *poolJob) {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.fn(int(i))
		j.left.Add(-1)
	}
}

// help is a helper goroutine: it looks for a run it has not worked on
// for up to poolSpin, yielding its core to other goroutines as it goes,
// then sleeps until the next run or close.
func (p *workPool) help() {
	defer p.wg.Done()
	var seen uint64
	for {
		deadline := time.Now().Add(poolSpin)
		for spins := 1; p.gen.Load() == seen; spins++ {
			if p.stopped.Load() {
				return
			}
			if spins%64 != 0 {
				continue
			}
			if time.Now().Before(deadline) {
				runtime.Gosched()
				continue
			}
			p.sleeping.Add(1)
			p.mu.Lock()
			for p.gen.Load() == seen && !p.stopped.Load() {
				p.cond.Wait()
			}
			p.mu.Unlock()
			p.sleeping.Add(-1)
		}
		seen = p.gen.Load()
		if j := p.job.Load(); j != nil {
			p.work(j)
		}
	}
}

// close stops the helpers and waits for them to return.
func (p *workPool) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.stopped.Store(true)
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}
