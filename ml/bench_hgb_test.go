package ml_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/ml"
)

// The histogram boosting benchmarks fit XGBoost's benchmark setting
// (100 iterations of depth-3 trees, no early stopping) on the synthetic
// set.

func hgbBenchClassifier() ml.Estimator {
	m := ml.NewHistGradientBoostingClassifier()
	m.MaxDepth, m.EarlyStopping = 3, "false"
	return m
}

func hgbBenchRegressor() ml.Estimator {
	m := ml.NewHistGradientBoostingRegressor()
	m.MaxDepth, m.EarlyStopping = 3, "false"
	return m
}

func BenchmarkHistGradientBoostingClassifier(b *testing.B) {
	treeBenchEstimator(b, false, hgbBenchClassifier)
}

func BenchmarkHistGradientBoostingRegressor(b *testing.B) {
	treeBenchEstimator(b, true, hgbBenchRegressor)
}

// BenchmarkHistGradientBoostingMillion fits both histogram boosting
// models (100 depth-3 iterations, no early stopping) on 1,000,000 rows of
// the synthetic set and reports the fit's processor time, its peak extra
// heap (sampled every millisecond above the heap with the data loaded,
// with the collector set to run at 1% growth: the 160 MB of float64 input
// are live throughout, so at 10% up to 16 MB of garbage would count in
// the peak), the binned matrix's size (one byte per value) and the
// model's size as JSON. Run it alone:
//
//	go test ./ml -run XXX -bench HistGradientBoostingMillion -benchtime 1x
func BenchmarkHistGradientBoostingMillion(b *testing.B) {
	s := treeSynth(1_000_000)
	n, d := s.X.Dims()
	for _, tt := range []struct {
		name string
		new  func() ml.Estimator
		y    []float64
	}{
		{"classifier", hgbBenchClassifier, s.class},
		{"regressor", hgbBenchRegressor, s.target},
	} {
		b.Run(tt.name, func(b *testing.B) {
			var m ml.Estimator
			var peak uint64
			var cpu float64
			defer debug.SetGCPercent(debug.SetGCPercent(1))
			for b.Loop() {
				m = tt.new()
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				base := ms.HeapInuse
				done := make(chan struct{})
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					t := time.NewTicker(time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-done:
							return
						case <-t.C:
							var ms runtime.MemStats
							runtime.ReadMemStats(&ms)
							if ms.HeapInuse > base {
								peak = max(peak, ms.HeapInuse-base)
							}
						}
					}
				}()
				c0 := benchCPU()
				if err := m.Fit(s.X, tt.y); err != nil {
					b.Fatal(err)
				}
				cpu += benchCPU() - c0
				close(done)
				wg.Wait()
			}
			js, err := json.Marshal(m)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(peak)/1e6, "peak-MB")
			b.ReportMetric(float64(n*d)/1e6, "binned-MB")
			b.ReportMetric(float64(len(js))/1e6, "model-MB")
		})
	}
}

// benchCPU is the processor time this process has used, in seconds.
func benchCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkTreeScaling fits histogram boosting (100 depth-3 iterations,
// three classes, no early stopping) and the random forest (100 trees of
// depth 10) on 20,000 to 1,280,000 rows of the synthetic set, reporting
// processor time as well as wall time, for the scaling table in
// ml/BENCHMARKS.md. Run it alone, with -benchtime 1x.
func BenchmarkTreeScaling(b *testing.B) {
	s := treeSynth(1_280_000)
	for _, model := range []struct {
		name string
		new  func() ml.Estimator
	}{
		{"hist_boosting", hgbBenchClassifier},
		{"random_forest", func() ml.Estimator {
			m := ml.NewRandomForestClassifier()
			m.MaxDepth = 10
			return m
		}},
	} {
		for _, n := range []int{20_000, 80_000, 320_000, 1_280_000} {
			_, d := s.X.Dims()
			X, y := s.X.Slice(0, n, 0, d), s.class[:n]
			b.Run(fmt.Sprintf("%s/%d", model.name, n), func(b *testing.B) {
				var cpu float64
				for b.Loop() {
					m := model.new()
					c0 := benchCPU()
					if err := m.Fit(X, y); err != nil {
						b.Fatal(err)
					}
					cpu += benchCPU() - c0
				}
				b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
			})
		}
	}
}
