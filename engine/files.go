package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotRegular reports a path that names something other than a regular
// file (a folder, FIFO, socket or device) where a file is read.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge reports a file over the size a reader accepts.
var ErrTooLarge = errors.New("file too large")

// ReadRegularFile reads the regular file at path, refusing anything else
// before opening it, so a FIFO never blocks the caller, and refusing a file
// over limit bytes (limit <= 0: no limit) without reading it. Errors are
// *os.PathError, wrapping ErrNotRegular or ErrTooLarge for those cases.
func ReadRegularFile(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, fileKind(fi.Mode()))}
	}
	if limit > 0 && fi.Size() > limit {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: %d bytes, at most %d are read", ErrTooLarge, fi.Size(), limit)}
	}
	// O_NONBLOCK: should the path be swapped for a FIFO after the check,
	// the open still returns at once.
	f, err := os.OpenFile(path, os.O_RDONLY|syscallNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, fileKind(fi.Mode()))}
	}
	r := io.Reader(f)
	if limit > 0 {
		r = io.LimitReader(f, limit+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if limit > 0 && int64(len(b)) > limit {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)}
	}
	return b, nil
}

// fileKind names a non-regular file's type for messages.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}
