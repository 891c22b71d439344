package frame

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"unsafe"
)

// mappedFile is a regular file mapped into memory for ReadCSV: the blocks
// are cut and parsed in place, where reading them with ReadAt copies every
// byte twice (once to find the record boundaries, once to parse).
// mapFile (per platform) returns nil where files are not mapped.
//
// A file that shrinks while it is mapped makes the pages past its new end
// fault. ReadCSV turns such a fault into ErrFileChanged (withFaults):
// reading a file that another process truncates is an error, not a crash.
type mappedFile struct {
	data  []byte // the file from its start
	base  int64  // the offset reading started at (the file's offset when mapped)
	pos   int64  // Seek's position, relative to the file's start
	unmap func() error
	drop  func(off, n int) // lets the kernel take back the pages of data[off:off+n]; they read again on use
	fill  func(off, n int) // maps the pages of data[off:off+n] in one call instead of a fault for each
}

// ErrFileChanged is returned (wrapped) when a file being read shrinks
// while it is read.
var ErrFileChanged = errors.New("the file changed while it was read")

// openMapped maps f from its current offset, or returns nil.
func openMapped(f *os.File) *mappedFile {
	cur, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil
	}
	m := mapFile(f)
	if m == nil {
		return nil
	}
	if cur > int64(len(m.data)) {
		_ = m.unmap() // nothing was read from it
		return nil
	}
	m.base, m.pos = cur, cur
	return m
}

// ReadAt, Read and Seek make a mappedFile the io.ReaderAt and io.Seeker
// that readBlocks scans; slice and release hand out and take back the
// bytes without copying them.
func (m *mappedFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n := copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *mappedFile) Read(p []byte) (int, error) {
	n, err := m.ReadAt(p, m.pos)
	m.pos += int64(n)
	return n, err
}

func (m *mappedFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += m.pos
	case io.SeekEnd:
		off += int64(len(m.data))
	default:
		return 0, fmt.Errorf("frame: seek: invalid whence %d", whence)
	}
	if off < 0 {
		return 0, fmt.Errorf("frame: seek: negative position")
	}
	m.pos = off
	return off, nil
}

// slice returns the n bytes at off, in place, with their pages mapped.
func (m *mappedFile) slice(off int64, n int) []byte {
	if m.fill != nil {
		m.fill(int(off), n)
	}
	return m.data[off : off+int64(n) : off+int64(n)]
}

// done says the bytes at off are no longer needed for now.
func (m *mappedFile) done(off int64, n int) {
	if m.drop != nil {
		m.drop(int(off), n)
	}
}

// withFaults runs fn with a memory fault on m's pages (a page of the
// file past its new end) turned into ErrFileChanged, on the calling
// goroutine. Any other panic, a fault elsewhere included, goes on.
func (m *mappedFile) withFaults(name string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if e := recover(); e != nil {
			f, ok := e.(interface{ Addr() uintptr })
			if !ok || !m.holds(f.Addr()) {
				panic(e)
			}
			err = fmt.Errorf("frame: read %s: %w", nameOr(name), ErrFileChanged)
		}
	}()
	return fn()
}

// holds reports whether addr is in the mapping.
func (m *mappedFile) holds(addr uintptr) bool {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))
	return addr >= start && addr-start < uintptr(len(m.data))
}
