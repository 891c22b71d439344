package frame_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
)

// messyCSV writes rows of awkward but valid CSV with encoding/csv: quoted
// fields with commas, quotes and newlines, missing values, a column that
// turns from ints to words late, and one that turns from ints to floats.
func messyCSV(rows int, seed uint64, crlf bool) string {
	rng := rand.New(rand.NewPCG(seed, 2))
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = crlf
	w.Write([]string{"id", "word", "num", "mixed", "flag", "late_float", "sparse"})
	alphabet := []string{"a", "b", "é", ",", "\"", "\n", " ", "x", "東"}
	flipAt := rng.IntN(rows)
	for i := 0; i < rows; i++ {
		var word strings.Builder
		for range rng.IntN(6) {
			word.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		num := strconv.FormatFloat((rng.Float64()-0.5)*1e4, 'f', rng.IntN(8), 64)
		if rng.IntN(10) == 0 {
			num = strconv.FormatFloat(rng.NormFloat64()*1e-8, 'g', -1, 64)
		}
		mixed := strconv.Itoa(rng.IntN(1000))
		if i == flipAt {
			mixed = "word"
		}
		late := strconv.Itoa(rng.IntN(100))
		if i == rows-1 {
			late = "0.25"
		}
		sparse := ""
		if rng.IntN(50) == 0 {
			sparse = strconv.Itoa(i)
		}
		rec := []string{strconv.Itoa(i), word.String(), num, mixed, strconv.FormatBool(rng.IntN(2) == 0), late, sparse}
		if rng.IntN(20) == 0 {
			rec[2] = ""
		}
		w.Write(rec)
	}
	w.Flush()
	return b.String()
}

func TestReadCSVBlocksMatchEncodingCSV(t *testing.T) {
	t.Parallel()
	for _, crlf := range []bool{false, true} {
		in := messyCSV(3000, 7, crlf)
		ref, err := csv.NewReader(strings.NewReader(in)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		wantTypes := "id int, word string, num float, mixed string, flag bool, late_float float, sparse int"
		for _, bs := range []int{0, 5, 97, 4096} {
			for _, workers := range []int{1, 3} {
				for _, rd := range readers {
					name := fmt.Sprintf("crlf=%v/block=%d/workers=%d/%s", crlf, bs, workers, rd.name)
					t.Run(name, func(t *testing.T) {
						opts := frame.ReadOptions{Workers: workers}
						frame.SetBlockSize(&opts, bs)
						f, err := frame.ReadCSV(rd.wrap(in), opts)
						if err != nil {
							t.Fatal(err)
						}
						if got := f.Schema().String(); got != wantTypes {
							t.Fatalf("schema: got %q, want %q", got, wantTypes)
						}
						if got, want := f.NumRows(), len(ref)-1; got != want {
							t.Fatalf("rows: got %d, want %d", got, want)
						}
						checkAgainst(t, f, ref[1:], crlf)
					})
				}
			}
		}
	}
}

// checkAgainst compares every value of f with the text encoding/csv read.
// With crlf, CRLF in values counts as LF (encoding/csv turns one into the other).
func checkAgainst(t *testing.T, f *frame.Frame, rows [][]string, crlf bool) {
	t.Helper()
	bad := 0
	for i, rec := range rows {
		for j, raw := range rec {
			c := f.Col(j)
			ok := true
			switch {
			case raw == "":
				ok = c.IsNull(i)
			case c.IsNull(i):
				ok = false
			case c.Type == frame.String:
				got := c.Str(i)
				if crlf {
					got = strings.ReplaceAll(got, "\r\n", "\n")
				}
				ok = got == raw
			case c.Type == frame.Int:
				v, _ := strconv.ParseInt(raw, 10, 64)
				ok = c.Ints[i] == v
			case c.Type == frame.Float:
				v, _ := strconv.ParseFloat(raw, 64)
				ok = c.Floats[i] == v
			case c.Type == frame.Bool:
				v, _ := strconv.ParseBool(raw)
				ok = c.Bools[i] == v
			}
			if !ok {
				t.Errorf("row %d column %s: got %q (missing %v), want %q", i, c.Name, c.Str(i), c.IsNull(i), raw)
				if bad++; bad > 10 {
					t.FailNow()
				}
			}
		}
	}
}

func TestReadCSVErrorInLaterBlock(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "%d,\"x\ny\"\n", i)
	}
	b.WriteString("1,2,3\n")
	for i := 0; i < 100; i++ {
		b.WriteString("1,\"unterminated\n")
	}
	for _, bs := range []int{0, 64, 1000} {
		for _, rd := range readers {
			opts := frame.ReadOptions{Name: "f.csv", Workers: 2}
			frame.SetBlockSize(&opts, bs)
			_, err := frame.ReadCSV(rd.wrap(b.String()), opts)
			want := "f.csv:4002:5: wrong number of fields: got 3, want 2"
			if err == nil || err.Error() != want {
				t.Errorf("block %d %s: got %v, want %q", bs, rd.name, err, want)
			}
		}
	}
}

func TestReadCSVProgress(t *testing.T) {
	t.Parallel()
	in := messyCSV(2000, 3, false)
	for _, rd := range readers {
		opts := frame.ReadOptions{Workers: 2}
		frame.SetBlockSize(&opts, 1000)
		var calls int
		var last, total int64
		opts.Progress = func(done, tot int64) {
			calls++
			if done < last {
				t.Errorf("%s: progress went back: %d after %d", rd.name, done, last)
			}
			last, total = done, tot
		}
		if _, err := frame.ReadCSV(rd.wrap(in), opts); err != nil {
			t.Fatal(err)
		}
		if calls < 10 || last != total || total != int64(len(in)) {
			t.Errorf("%s: %d calls, last %d of %d, want many calls ending at %d", rd.name, calls, last, total, len(in))
		}
	}
}

// TestReadCSVNumbersMatchStrconv checks all-numeric input, which takes the
// record fast path, against strconv, value by value.
func TestReadCSVNumbersMatchStrconv(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	forms := []func() string{
		func() string { return strconv.FormatFloat((rng.Float64()-0.5)*1e3, 'f', rng.IntN(12), 64) },
		func() string { return strconv.FormatFloat(rng.NormFloat64()*1e300, 'g', -1, 64) },
		func() string { return strconv.FormatFloat(rng.Float64(), 'f', 20, 64) },
		func() string { return "-0.0" },
		func() string { return "+" + strconv.Itoa(rng.IntN(100)) + ".5" },
		func() string { return strconv.FormatInt(rng.Int64(), 10) },
		func() string { return "" },
		func() string { return "0.000000000000000000000000001" },
		func() string { return "123456789012345678.5" },
	}
	for _, crlf := range []bool{false, true} {
		var b strings.Builder
		b.WriteString("f,i,g\n")
		var want [][3]string
		for i := 0; i < 5000; i++ {
			row := [3]string{strconv.FormatFloat((rng.Float64()-0.5)*100, 'f', 6, 64), strconv.Itoa(rng.IntN(1e6) - 5e5), forms[rng.IntN(len(forms))]()}
			if rng.IntN(100) == 0 {
				row[0] = ""
			}
			if i == 4000 {
				row[1] = "-0"
			}
			want = append(want, row)
			b.WriteString(strings.Join(row[:], ","))
			if crlf {
				b.WriteString("\r\n")
			} else {
				b.WriteString("\n")
			}
		}
		for _, bs := range []int{0, 1000} {
			opts := frame.ReadOptions{Workers: 2}
			frame.SetBlockSize(&opts, bs)
			f, err := frame.ReadCSV(strings.NewReader(b.String()), opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Schema().String(); got != "f float, i int, g float" {
				t.Fatalf("schema: got %q", got)
			}
			for i, row := range want {
				for j, text := range row {
					c := f.Col(j)
					if text == "" {
						if !c.IsNull(i) {
							t.Fatalf("row %d col %d: got %v, want missing", i, j, c.Value(i))
						}
						continue
					}
					var ok bool
					if c.Type == frame.Int {
						v, _ := strconv.ParseInt(text, 10, 64)
						ok = c.Ints[i] == v
					} else {
						v, _ := strconv.ParseFloat(text, 64)
						ok = math.Float64bits(c.Floats[i]) == math.Float64bits(v)
					}
					if !ok {
						t.Fatalf("crlf %v block %d row %d col %d: got %v, want %q", crlf, bs, i, j, c.Value(i), text)
					}
				}
			}
		}
	}
}

// TestReadCSVLateTypeChange reads columns whose first values have one
// kind and whose later ones, blocks further on, change the column's type
// to one stored with another width (a boolean or integer column that
// turns to words, words before integers, dates that turn to integers,
// values only after a run of missing ones, a "-0" in an integer column
// that turns to floats). Whichever block finds a column's first value,
// the values must be those encoding/csv reads, with the same types for
// every block size and number of workers.
func TestReadCSVLateTypeChange(t *testing.T) {
	t.Parallel()
	const rows = 3000
	var b strings.Builder
	b.WriteString("bool_word,int_bool,word_int,date_int,gap_bool,gap_word,negzero,all_gap,bool_gap\n")
	rng := rand.New(rand.NewPCG(11, 3))
	for i := 0; i < rows; i++ {
		rec := []string{
			strconv.FormatBool(rng.IntN(2) == 0),
			strconv.Itoa(rng.IntN(100) - 50),
			strconv.Itoa(rng.IntN(1000)),
			fmt.Sprintf("2024-%02d-%02d", 1+rng.IntN(12), 1+rng.IntN(28)),
			"",
			"",
			strconv.Itoa(rng.IntN(9)),
			"",
			strconv.FormatBool(rng.IntN(3) == 0),
		}
		switch {
		case i == rows-2:
			rec[0], rec[1], rec[3] = "maybe", "TRUE", "17"
		case i == 0:
			rec[2], rec[6] = "first", "-0"
		}
		if i > rows/2 {
			rec[4] = strconv.FormatBool(rng.IntN(2) == 0)
			rec[5] = `"w, ` + strconv.Itoa(rng.IntN(5)) + `"`
		}
		if i == rows-1 {
			rec[6] = "2.5"
		}
		if rng.IntN(7) == 0 {
			rec[8] = ""
		}
		b.WriteString(strings.Join(rec, ",") + "\n")
	}
	in := b.String()
	ref, err := csv.NewReader(strings.NewReader(in)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := "bool_word string, int_bool string, word_int string, date_int string, gap_bool bool, gap_word string, negzero float, all_gap float, bool_gap bool"
	var fingerprint string
	for _, bs := range []int{0, 61, 997, 8192} {
		for _, workers := range []int{1, 2, 5} {
			for _, rd := range readers {
				opts := frame.ReadOptions{Workers: workers}
				frame.SetBlockSize(&opts, bs)
				f, err := frame.ReadCSV(rd.wrap(in), opts)
				if err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("block=%d/workers=%d/%s", bs, workers, rd.name)
				if got := f.Schema().String(); got != wantTypes {
					t.Fatalf("%s: schema: got %q, want %q", name, got, wantTypes)
				}
				checkAgainst(t, f, ref[1:], false)
				if c := f.Col(6); !math.Signbit(c.Floats[0]) || c.Floats[0] != 0 {
					t.Fatalf("%s: negzero row 0: got %v, want -0", name, c.Floats[0])
				}
				if fp := f.Fingerprint(); fingerprint == "" {
					fingerprint = fp
				} else if fp != fingerprint {
					t.Fatalf("%s: fingerprint %s, want %s as with one block", name, fp, fingerprint)
				}
			}
		}
	}
}

// TestReadCSVLargeMappedBlock reads a file whose one block is parsed past
// the point where its first pages are given back to the kernel.
func TestReadCSVLargeMappedBlock(t *testing.T) {
	t.Parallel()
	in := messyCSV(60000, 9, false)
	if len(in) < 2<<20 {
		t.Fatalf("input of %d bytes, want over 2 MiB", len(in))
	}
	ref, err := csv.NewReader(strings.NewReader(in)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	opts := frame.ReadOptions{Workers: 1}
	frame.SetBlockSize(&opts, 8<<20)
	f, err := frame.ReadCSV(tempFile(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.NumRows(), len(ref)-1; got != want {
		t.Fatalf("rows: got %d, want %d", got, want)
	}
	checkAgainst(t, f, ref[1:], false)
}
