package frame_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
)

// TestSmallInputSmallBuffers reads a few bytes from a file-like reader
// (one that is an io.ReaderAt, so its blocks are loaded on demand) and
// checks that the read allocates in proportion to the input: a block's
// buffer used to be made with room for the largest block (4 MB)
// whatever the input's size, which made reading many small files, and
// every fuzz execution, slow.
func TestSmallInputSmallBuffers(t *testing.T) {
	csvIn := []byte("a,b\n1,x\n2,y\n")
	jsonIn := []byte(`{"a": 1, "b": "x"}` + "\n" + `{"a": 2, "b": "y"}` + "\n")
	for _, tc := range []struct {
		name string
		read func() error
	}{
		{"csv", func() error {
			_, err := frame.ReadCSV(bytes.NewReader(csvIn), frame.ReadOptions{Workers: 1})
			return err
		}},
		{"jsonl", func() error {
			_, err := frame.ReadJSONL(bytes.NewReader(jsonIn), frame.ReadOptions{Workers: 1})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.read(); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			const reads = 10
			for range reads {
				if err := tc.read(); err != nil {
					t.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			perRead := (after.TotalAlloc - before.TotalAlloc) / reads
			if perRead > 256<<10 {
				t.Errorf("reading a %s file of a few bytes allocates %d bytes", tc.name, perRead)
			}
		})
	}
}
