package frame

import (
	"os"
	"syscall"
	"unsafe"
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
		fill: func(off, n int) {
			start, end := off/page*page, min(off+n, len(data))
			if end > start {
				_ = syscall.Madvise(data[start:end], madvPopulateRead) // advice only
			}
		},
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

// hugePages asks the kernel to back the whole 2 MiB pages inside b, fresh
// memory of a large column, with huge pages: the column is then faulted
// in a few hundred times instead of once per 4 KiB page. It is advice
// only (and a no-op where transparent huge pages are off).
func hugePages(b []byte) {
	const huge = 2 << 20
	if len(b) < 2*huge {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	start := int((p+huge-1)&^(huge-1) - p)
	end := start + (len(b)-start)&^(huge-1)
	if end > start {
		_ = syscall.Madvise(b[start:end], madvHugePage)
	}
}

// Linux's madvise advice values that package syscall does not name.
const (
	madvHugePage     = 14
	madvPopulateRead = 22 // Linux 5.14 on; older kernels refuse it
)
