package stages_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
)

// bigFrame is n rows of a float, an int, a string and a float with 1%
// missing values.
func bigFrame(b testing.TB, n int) *frame.Frame {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	x, m := make([]float64, n), make([]float64, n)
	k := make([]int64, n)
	s := make([]string, n)
	words := []string{"setosa", "versicolor", "virginica"}
	for i := range n {
		x[i], k[i], s[i] = rng.Float64(), int64(rng.IntN(10)), words[rng.IntN(3)]
		m[i] = rng.Float64()
		if rng.IntN(100) == 0 {
			m[i] = math.NaN()
		}
	}
	f, err := frame.New(frame.NewFloat("x", x, nil), frame.NewInt("k", k, nil), frame.NewString("s", s, nil), frame.NewFloat("m", m, nil))
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func benchmarkStage(b *testing.B, uses, with string) {
	const rows = 1 << 20
	f := bigFrame(b, rows)
	path := pipeline(b, `  - id: load
    uses: read_csv
    with: {path: d.csv}
  - id: x
    uses: `+uses+`
    with: `+with+"\n", map[string]string{"d.csv": "x,k,s,m\n0.5,1,setosa,0.25\n"})
	plan := mustPlan(b, path)
	ps, _ := plan.Stage("x")
	in := []engine.Value{stages.Table(f)}
	b.ResetTimer()
	for b.Loop() {
		sc := engine.NewStageContext(plan, ps, in, nil)
		if _, err := ps.Type.Run(context.Background(), sc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkFilter(b *testing.B) {
	benchmarkStage(b, "filter", `{expr: 'x > 0.5 && k < 5 && s != "setosa"'}`)
}

func BenchmarkFilterMissing(b *testing.B) {
	benchmarkStage(b, "filter", `{expr: 'isnull(m) || m > 0.5'}`)
}

func BenchmarkDerive(b *testing.B) {
	benchmarkStage(b, "derive", `{name: r, expr: 'x / (k + 1) + m'}`)
}

func BenchmarkDeriveString(b *testing.B) {
	benchmarkStage(b, "derive", `{name: s, expr: 'upper(trim(s))'}`)
}
