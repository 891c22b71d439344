package frame_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluice-ml/sluice/engine/frame"
)

// frameFromBytes builds a frame of every column type from fuzz input: the
// first byte picks the column count, later bytes the values, and some
// values come out missing.
func frameFromBytes(data []byte, name string) *frame.Frame {
	if len(data) == 0 {
		data = []byte{3}
	}
	ncol := int(data[0])%6 + 1
	data = data[1:]
	nrow := len(data) / (ncol * 3)
	take := func(n int) []byte {
		if len(data) < n {
			b := make([]byte, n)
			copy(b, data)
			data = nil
			return b
		}
		b := data[:n]
		data = data[n:]
		return b
	}
	name = strings.ToValidUTF8(name, "?")
	var cols []*frame.Column
	for j := 0; j < ncol; j++ {
		t := frame.Type(j%5 + 1)
		colName := fmt.Sprintf("c%d", j)
		if j == 1 && name != "" && !strings.HasPrefix(name, "c") {
			colName = name
		}
		b := frame.NewBuilder(colName, t, nrow)
		for i := 0; i < nrow; i++ {
			k := take(1)[0]
			if k%7 == 0 {
				b.AppendNull()
				continue
			}
			switch t {
			case frame.Float:
				v := math.Float64frombits(binary.LittleEndian.Uint64(take(8)))
				if k%3 == 0 {
					v = float64(int8(k)) / 4
				}
				b.AppendFloat(v)
			case frame.Int:
				v := int64(binary.LittleEndian.Uint64(take(8)))
				if k%3 == 0 {
					v = int64(int8(k))
				}
				b.AppendInt(v)
			case frame.Bool:
				b.AppendBool(k%2 == 0)
			case frame.String:
				s := strings.ToValidUTF8(string(take(int(k%9))), "\uFFFD")
				b.AppendString(s)
			case frame.Time:
				ns := int64(binary.LittleEndian.Uint64(take(8))) % (1 << 62)
				if k%3 == 0 {
					ns = ns / 86400e9 * 86400e9
				}
				b.AppendTime(time.Unix(0, ns))
			}
		}
		cols = append(cols, b.Build())
	}
	f, err := frame.New(cols...)
	if err != nil {
		panic(err)
	}
	return f
}

// sameValues reports the first difference between two frames' values.
func sameValues(a, b *frame.Frame) error {
	if a.NumRows() != b.NumRows() || a.Schema().String() != b.Schema().String() {
		return fmt.Errorf("shape: got %d rows [%s], want %d rows [%s]", b.NumRows(), b.Schema(), a.NumRows(), a.Schema())
	}
	for j := 0; j < a.NumCols(); j++ {
		ca, cb := a.Col(j), b.Col(j)
		for i := 0; i < a.NumRows(); i++ {
			va, vb := ca.Value(i), cb.Value(i)
			if fa, ok := va.(float64); ok {
				if fb, ok := vb.(float64); ok && math.Float64bits(fa) == math.Float64bits(fb) {
					continue
				}
			} else if ta, ok := va.(time.Time); ok {
				if tb, ok := vb.(time.Time); ok && ta.Equal(tb) {
					continue
				}
			} else if va == vb {
				continue
			}
			return fmt.Errorf("column %q row %d: got %#v, want %#v", ca.Name, i, vb, va)
		}
	}
	return nil
}

func schemaOf(f *frame.Frame) map[string]frame.Type {
	m := make(map[string]frame.Type)
	for _, fd := range f.Schema() {
		m[fd.Name] = fd.Type
	}
	return m
}

func FuzzCSVRoundTrip(f *testing.F) {
	f.Add([]byte("\x03abcdefghijklmnopqrstuvwxyz0123456789"), "name")
	f.Add([]byte("\x01\x00\x01\x02"), "")
	f.Add([]byte("\x04\"a,b\"\n\r\nNA\x00\xff\xfe"), "NA")
	f.Add([]byte("\x05"+strings.Repeat("x,\"\n", 40)), "a,b")
	f.Add([]byte("\x00\x07\x07\x07\x01\x02\x03"), "\uFEFFbom")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		want := frameFromBytes(data, name)
		var buf bytes.Buffer
		if err := frame.WriteCSV(&buf, want); err != nil {
			t.Fatal(err)
		}
		got, err := frame.ReadCSV(bytes.NewReader(buf.Bytes()), frame.ReadOptions{Schema: schemaOf(want)})
		if err != nil {
			t.Fatalf("read back: %v\n%q", err, buf.String())
		}
		if err := sameValues(want, got); err != nil {
			t.Fatalf("%v\n%q", err, buf.String())
		}
		if got.Fingerprint() != want.Fingerprint() {
			t.Fatalf("fingerprints differ")
		}
		// JSONL round-trips too.
		buf.Reset()
		if err := frame.WriteJSONL(&buf, want); err != nil {
			t.Fatal(err)
		}
		if want.NumRows() > 0 {
			got, err = frame.ReadJSONL(bytes.NewReader(buf.Bytes()), frame.ReadOptions{Schema: schemaOf(want)})
			if err != nil {
				t.Fatalf("JSONL read back: %v\n%q", err, buf.String())
			}
			if err := sameValues(want, got); err != nil {
				t.Fatalf("JSONL: %v\n%q", err, buf.String())
			}
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "a,b\n\"x\ny\",1\r\n", "\xEF\xBB\xBFa\n1\n\n2", "a,b\n1,\"abc\n", "a,b\n1,ab\"c\n",
		"a,b\n1,2,3\n", "a,,a\n", "a\n1\nx\n2.5\ntrue\n", "a,b\n\"\",NA\n", "x\n2020-01-01\n2020-01-01T00:00:00Z\n",
		"a;b\n1;2\n", "a\n1e400\n-0\n", "a,b\n\xff,1\n",
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, mode uint8) {
		opts := frame.ReadOptions{Name: "f"}
		if mode&1 != 0 {
			opts.Delimiter = ';'
		}
		ref, refErr := frame.ReadCSV(bytes.NewReader(in), opts)
		if refErr == nil {
			for _, c := range ref.Columns() {
				if c.Len() != ref.NumRows() {
					t.Fatalf("column %q has %d rows, frame %d", c.Name, c.Len(), ref.NumRows())
				}
				if !utf8.ValidString(c.Name) {
					t.Fatalf("invalid UTF-8 name %q", c.Name)
				}
			}
		}
		// Small blocks and a plain stream must give the same result.
		opts.Workers = 3
		frame.SetBlockSize(&opts, int(mode>>1)%32+1)
		got, err := frame.ReadCSV(plainReader{bytes.NewReader(in)}, opts)
		sameRead(t, "small blocks", got, err, ref, refErr)
		// So must small blocks of a file, which is mapped and scanned in
		// parallel pieces.
		if len(in) == 0 {
			return
		}
		file := tempFile(string(in)).(*os.File)
		defer file.Close()
		got, err = frame.ReadCSV(file, opts)
		sameRead(t, "small blocks of a file", got, err, ref, refErr)
	})
}

// sameRead fails t unless a read (got, err) gave what the one-block
// read gave: the same error text, or the same values.
func sameRead(t *testing.T, what string, got *frame.Frame, err error, ref *frame.Frame, refErr error) {
	t.Helper()
	switch {
	case (err == nil) != (refErr == nil):
		t.Fatalf("%s: error %v, one block: error %v", what, err, refErr)
	case err != nil && err.Error() != refErr.Error():
		t.Fatalf("%s: error %q, one block: %q", what, err, refErr)
	case err == nil:
		if err := sameValues(ref, got); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// FuzzReadJSONL checks that no input makes the JSONL reader panic, and
// that a table it reads is well formed and writes back to JSONL that
// reads again.
func FuzzReadJSONL(f *testing.F) {
	for _, s := range []string{
		`{"a": 1, "b": "x"}` + "\n" + `{"a": 2.5, "c": true}` + "\n",
		`{"a": null}` + "\n\n" + `{"a": [1, 2]}`,
		`{"a": {"b": 1}}`, `[1, 2]`, `{"a": 1e400}`, `{"a": "2020-01-01"}`,
		"{\"a\": \"\xff\"}", `{"a": 1, "a": 2}`, `{`, `{"":0}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := frame.ReadJSONL(bytes.NewReader(in), frame.ReadOptions{Name: "f"})
		if err != nil {
			return
		}
		for _, c := range got.Columns() {
			if c.Len() != got.NumRows() {
				t.Fatalf("column %q has %d rows, frame %d", c.Name, c.Len(), got.NumRows())
			}
		}
		var buf bytes.Buffer
		if err := frame.WriteJSONL(&buf, got); err != nil {
			t.Fatalf("write back: %v", err)
		}
	})
}
