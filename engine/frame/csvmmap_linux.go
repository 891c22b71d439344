package frame

import (
	"os"
	"syscall"
)

// mapFile maps the regular file f read-only, or returns nil (not a
// regular file, empty, too large for the address space, or the call
// failed: the caller then reads it with ReadAt).
func mapFile(f *os.File) *mappedFile {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 || st.Size() != int64(int(st.Size())) {
		return nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	page := os.Getpagesize()
	return &mappedFile{
		data:  data,
		unmap: func() error { return syscall.Munmap(data) },
		drop: func(off, n int) {
			// The whole pages inside the range: a page shared with a
			// neighbouring block is read again if that block needs it.
			start, end := (off+page-1)/page*page, (off+n)/page*page
			if end > start {
				_ = syscall.Madvise(data[start:end], syscall.MADV_DONTNEED) // advice only
			}
		},
	}
}
