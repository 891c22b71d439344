package ml_test

import (
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

// BenchmarkKMeans fits k = number of classes (2 on breast_cancer, 3 on
// the synthetic set) and 8 (the default) clusters, reporting the test
// adjusted Rand index.
func BenchmarkKMeans(b *testing.B) {
	for _, ds := range treeBenchSets(b, false) {
		ks := []int{2}
		if ds.name != "breast_cancer" {
			ks = []int{3, 8}
		}
		for _, k := range ks {
			name := ds.name + "/k=" + string(rune('0'+k))
			b.Run("fit/"+name, func(b *testing.B) {
				var m *ml.KMeans
				for b.Loop() {
					m = ml.NewKMeans()
					m.NClusters = k
					if err := m.Fit(ds.Xtr); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(kmeansARI(ds.yte, m.Predict(nil, ds.Xte)), "ari")
				b.ReportMetric(float64(m.NIter), "iters")
			})
			b.Run("predict/"+name, func(b *testing.B) {
				m := ml.NewKMeans()
				m.NClusters = k
				if err := m.Fit(ds.Xtr); err != nil {
					b.Fatal(err)
				}
				var pred []float64
				for b.Loop() {
					pred = m.Predict(pred, ds.Xte)
				}
			})
		}
	}
}
