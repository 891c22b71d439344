package frame

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mapTestFile writes text to a file in a temporary folder and maps it,
// skipping the test where files are not mapped; the mapping and the file
// are closed when the test ends.
func mapTestFile(t *testing.T, text string) (string, *mappedFile) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.csv")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	m := openMapped(f)
	if m == nil {
		t.Skip("files are not mapped on this platform")
	}
	t.Cleanup(func() { _ = m.unmap() })
	return path, m
}

// TestMappedFileShrinks checks that a mapped file cut short while it is
// read gives ErrFileChanged instead of crashing the process.
func TestMappedFileShrinks(t *testing.T) {
	path, m := mapTestFile(t, "a,b\n"+strings.Repeat("1,x\n", 1<<16))
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	var sum byte
	err := m.withFaults(path, func() error {
		for _, c := range m.data[len(m.data)-1000:] {
			sum += c
		}
		return nil
	})
	if !errors.Is(err, ErrFileChanged) {
		t.Fatalf("reading past the new end: got %v (sum %d), want ErrFileChanged", err, sum)
	}
}

// TestMappedFileOtherPanics checks that only faults on the mapping become
// ErrFileChanged: a nil dereference elsewhere still panics.
func TestMappedFileOtherPanics(t *testing.T) {
	path, m := mapTestFile(t, "a\n1\n")
	defer func() {
		if recover() == nil {
			t.Fatal("a nil dereference did not panic")
		}
	}()
	var p *int
	_ = m.withFaults(path, func() error { return fmt.Errorf("%d", *p) })
}

// TestReadCSVMappedFileShrinks checks that reading a mapped file cut short
// after it was mapped, with its blocks scanned and parsed on several
// goroutines, gives ErrFileChanged instead of crashing the process.
func TestReadCSVMappedFileShrinks(t *testing.T) {
	path, m := mapTestFile(t, "a,b\n"+strings.Repeat("1,x\n", 1<<16))
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	err := m.withFaults(path, func() error {
		_, err := readCSV(m, ReadOptions{Name: path, Workers: 3, blockSize: 4096})
		return err
	})
	if !errors.Is(err, ErrFileChanged) {
		t.Fatalf("got %v, want ErrFileChanged", err)
	}
}
