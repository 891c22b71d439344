package frame_test

import (
	"crypto/sha256"
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
)

func TestDescribe(t *testing.T) {
	t.Parallel()
	f := mustRead(t, `x,n,one,s,b,tie,t
1,10,5,a,true,x,2020-01-01
2,20,,b,false,y,2020-01-03
3,,,a,true,,
4,,,,,,
,,,c,,,
,,,b,,,
,,,a,,,
`, frame.ReadOptions{})
	nan := math.NaN()
	// Reference values worked by hand (pandas describe gives the same):
	// x: mean 2.5, sample std sqrt((2.25+0.25+0.25+2.25)/3) = sqrt(5/3).
	want := []frame.ColumnSummary{
		{Name: "x", Type: frame.Int, Count: 4, Missing: 3, Mean: 2.5, Std: math.Sqrt(5.0 / 3), Min: 1, Max: 4},
		{Name: "n", Type: frame.Int, Count: 2, Missing: 5, Mean: 15, Std: math.Sqrt(50), Min: 10, Max: 20},
		{Name: "one", Type: frame.Int, Count: 1, Missing: 6, Mean: 5, Std: nan, Min: 5, Max: 5},
		{Name: "s", Type: frame.String, Count: 6, Missing: 1, Mean: nan, Std: nan, Min: nan, Max: nan, Unique: 3,
			Top: []frame.ValueCount{{Value: "a", Count: 3}, {Value: "b", Count: 2}, {Value: "c", Count: 1}}},
		{Name: "b", Type: frame.Bool, Count: 3, Missing: 4, Mean: nan, Std: nan, Min: nan, Max: nan, Unique: 2,
			Top: []frame.ValueCount{{Value: "true", Count: 2}, {Value: "false", Count: 1}}},
		{Name: "tie", Type: frame.String, Count: 2, Missing: 5, Mean: nan, Std: nan, Min: nan, Max: nan, Unique: 2,
			Top: []frame.ValueCount{{Value: "x", Count: 1}, {Value: "y", Count: 1}}},
		{Name: "t", Type: frame.Time, Count: 2, Missing: 5, Mean: 1577923200, Std: math.Sqrt(2) * 86400, Min: 1577836800, Max: 1578009600},
	}
	got := f.Describe()
	if len(got) != len(want) {
		t.Fatalf("got %d summaries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Type != w.Type || g.Count != w.Count || g.Missing != w.Missing || g.Unique != w.Unique || !reflect.DeepEqual(g.Top, w.Top) {
			t.Errorf("%s: got %+v, want %+v", w.Name, g, w)
		}
		for _, p := range []struct {
			stat      string
			got, want float64
		}{{"mean", g.Mean, w.Mean}, {"std", g.Std, w.Std}, {"min", g.Min, w.Min}, {"max", g.Max, w.Max}} {
			if !(math.IsNaN(p.got) && math.IsNaN(p.want)) && math.Abs(p.got-p.want) > 1e-9*math.Max(1, math.Abs(p.want)) {
				t.Errorf("%s %s: got %v, want %v", w.Name, p.stat, p.got, p.want)
			}
		}
	}
	b, err := json.Marshal(got[2])
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"one","type":"int","count":1,"missing":6,"mean":5,"std":null,"min":5,"max":5,"unique":0}`; string(b) != want {
		t.Errorf("JSON: got %s, want %s", b, want)
	}
	var back frame.ColumnSummary
	if err := json.Unmarshal(b, &back); err != nil || back.Name != "one" || !math.IsNaN(back.Std) || back.Mean != 5 {
		t.Errorf("JSON round trip: got %+v, %v", back, err)
	}
}

func TestHash(t *testing.T) {
	t.Parallel()
	a := mustRead(t, "x,s\n1.5,a\n,b\n2,a\n", frame.ReadOptions{})
	b := mustRead(t, "x,s\n1.5,a\n,b\n2,a\n", frame.ReadOptions{})
	if a.Fingerprint() != b.Fingerprint() {
		t.Errorf("equal frames hash differently")
	}
	// Same values, different dictionary order.
	c, _ := a.SortBy([]frame.SortKey{{Column: "s", Desc: true}})
	c, _ = c.SortBy([]frame.SortKey{{Column: "x"}})
	if c.Fingerprint() != a.Take([]int{0, 2, 1}).Fingerprint() {
		t.Errorf("dictionary order changed the hash")
	}
	for name, other := range map[string]*frame.Frame{
		"value":  mustRead(t, "x,s\n1.5,a\n,b\n2,c\n", frame.ReadOptions{}),
		"name":   mustRead(t, "y,s\n1.5,a\n,b\n2,a\n", frame.ReadOptions{}),
		"type":   mustRead(t, "x,s\n1.5,a\n,b\n2,a\n", frame.ReadOptions{Schema: map[string]frame.Type{"x": frame.String}}),
		"rows":   a.Take([]int{0, 1}),
		"order":  a.Take([]int{1, 0, 2}),
		"filled": mustRead(t, "x,s\n1.5,a\n0,b\n2,a\n", frame.ReadOptions{}),
	} {
		if other.Fingerprint() == a.Fingerprint() {
			t.Errorf("%s: different frames hash equal", name)
		}
	}
	h := sha256.New()
	a.Hash(h)
	if len(h.Sum(nil)) != 32 {
		t.Errorf("hash not written")
	}
}
