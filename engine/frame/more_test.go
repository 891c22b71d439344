package frame_test

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
)

func TestJoinStringKeysOuter(t *testing.T) {
	t.Parallel()
	left := mustRead(t, "k,a\nx,1\ny,2\n,3\n", frame.ReadOptions{})
	right := mustRead(t, "k,b\nz,true\ny,false\nw,true\n", frame.ReadOptions{})
	g, err := frame.Join(left, right, []string{"k"}, "outer")
	if err != nil {
		t.Fatal(err)
	}
	want := "k|a|b\nx|1|∅\ny|2|false\n∅|3|∅\nz|∅|true\nw|∅|true"
	if got := table(g); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	k, _ := g.ColByName("k")
	if got := strings.Join(k.Dict, ","); got != "x,y,z,w" {
		t.Errorf("key dictionary: got %q, want %q", got, "x,y,z,w")
	}
}

func TestTakeLargeDictionary(t *testing.T) {
	t.Parallel()
	vals := make([]string, 1000)
	for i := range vals {
		vals[i] = "v" + strconv.Itoa(i)
	}
	f := mustNew(t, frame.NewString("s", vals, nil))
	g := f.Take([]int{999, 5, 999})
	c := g.Col(0)
	if got := strings.Join(c.Dict, ","); got != "v999,v5" || c.Codes[2] != 0 {
		t.Errorf("got dict %q codes %v", got, c.Codes)
	}
	if got := f.Slice(10, 12).Col(0).Str(1); got != "v11" {
		t.Errorf("Slice: got %q", got)
	}
}

func TestReadFileErrors(t *testing.T) {
	t.Parallel()
	if _, err := frame.ReadCSVFile("testdata/nope.csv", frame.ReadOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CSV: got %v, want not exist", err)
	}
	if _, err := frame.ReadJSONLFile("testdata/nope.jsonl", frame.ReadOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("JSONL: got %v, want not exist", err)
	}
	_, err := frame.ReadCSV(errReader{}, frame.ReadOptions{Name: "pipe"})
	if err == nil || err.Error() != "frame: read pipe: broken" {
		t.Errorf("reader error: got %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("broken") }
