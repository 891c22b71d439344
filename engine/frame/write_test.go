package frame_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine/frame"
)

func sampleFrame(t *testing.T) *frame.Frame {
	return mustNew(t,
		frame.NewFloat("x", []float64{1, -2.5, math.NaN(), 1e-7, 1e21, math.Inf(1), 0.1}, nil),
		frame.NewInt("n", []int64{1, 0, -3, 4, 5, 6, 7}, []bool{false, false, false, true, false, false, false}),
		frame.NewBool("b", []bool{true, false, true, false, true, false, true}, nil),
		frame.NewString("s", []string{"plain", "a,b", `say "hi"`, "", "NA", "line\nbreak", "  pad "}, []bool{false, false, false, false, false, true, false}),
		frame.NewTime("t", []time.Time{
			time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC),
			{}, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		}, []bool{false, false, true, false, false, false, false}),
	)
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	f := sampleFrame(t)
	var b bytes.Buffer
	if err := frame.WriteCSV(&b, f); err != nil {
		t.Fatal(err)
	}
	want := `x,n,b,s,t
1.0,1,true,plain,2024-01-02
-2.5,0,false,"a,b",2024-01-02T03:04:05.0000006Z
,-3,true,"say ""hi""",
1e-07,,false,"",1969-12-31
1e+21,5,true,"NA",2024-01-02T03:04:05Z
+Inf,6,false,,2000-01-01
0.1,7,true,  pad ,2000-01-01
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	back, err := frame.ReadCSV(&b, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sameValues(f, back); err != nil {
		t.Errorf("round trip with inferred types: %v", err)
	}
}

func TestWriteJSONL(t *testing.T) {
	t.Parallel()
	f := sampleFrame(t)
	var b bytes.Buffer
	if err := frame.WriteJSONL(&b, f); err != nil {
		t.Fatal(err)
	}
	want := `{"x":1.0,"n":1,"b":true,"s":"plain","t":"2024-01-02"}
{"x":-2.5,"n":0,"b":false,"s":"a,b","t":"2024-01-02T03:04:05.0000006Z"}
{"x":null,"n":-3,"b":true,"s":"say \"hi\"","t":null}
{"x":1e-07,"n":null,"b":false,"s":"","t":"1969-12-31"}
{"x":1e+21,"n":5,"b":true,"s":"NA","t":"2024-01-02T03:04:05Z"}
{"x":Infinity,"n":6,"b":false,"s":null,"t":"2000-01-01"}
{"x":0.1,"n":7,"b":true,"s":"  pad ","t":"2000-01-01"}
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	back, err := frame.ReadJSONL(&b, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sameValues(f, back); err != nil {
		t.Errorf("round trip with inferred types: %v", err)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(b []byte) (int, error) {
	if w.n--; w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(b), nil
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	big := mustRead(t, messyCSV(30000, 1, false), frame.ReadOptions{})
	for _, n := range []int{0, 1, 3} {
		if err := frame.WriteCSV(&failWriter{n: n}, big); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("CSV after %d writes: got %v, want disk full", n, err)
		}
		if err := frame.WriteJSONL(&failWriter{n: n}, big); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("JSONL after %d writes: got %v, want disk full", n, err)
		}
	}
}
