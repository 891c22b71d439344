//go:build unix

package store

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// readWhole is the size up to which mapFile reads a file rather than
// mapping it: unmapping costs a TLB flush on every core the process ran
// on (a third of a millisecond on a virtual machine), more than reading
// a small file.
const readWhole = 1 << 20

// mapFile maps the file at path read-only; release unmaps it. Reading a
// page of the mapping touches only that page of the file. A file of at
// most readWhole bytes is read into memory instead.
func mapFile(path string) (data []byte, release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close() //nolint:errcheck // the mapping outlives the descriptor
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if fi.Size() == 0 {
		return nil, func() {}, nil
	}
	if fi.Size() <= readWhole {
		data = make([]byte, fi.Size())
		if _, err := io.ReadFull(f, data); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
		return data, func() {}, nil
	}
	if int64(int(fi.Size())) != fi.Size() {
		return nil, nil, fmt.Errorf("%w: a file of %d bytes", ErrDamaged, fi.Size())
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("map %s: %w", path, err)
	}
	return data, func() { _ = syscall.Munmap(data) }, nil
}
