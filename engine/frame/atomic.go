package frame

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// WriteFileAtomic writes a file through write so that path holds either its
// old content or the complete new content, never a part: write gets a
// buffered writer on a temporary file in path's directory, which is then
// flushed, synced and renamed over path. If write returns an error (or
// panics), or any step fails, the temporary file is removed, path is left
// as it was and the error is returned. A new file gets mode 0644; an
// existing file's mode is kept.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, tempPattern(base, ""))
	if err != nil {
		return fmt.Errorf("frame: write %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("frame: write %s: %w", path, err)
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("frame: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("frame: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("frame: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("frame: write %s: %w", path, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable; not all systems support it
		d.Close()
	}
	return nil
}

// TempPath returns a fresh, unused name beside path for a file that will
// be renamed over path once complete: ".BASE.tmp-RANDOM" followed by
// path's extension, so a program writing it can still tell the format.
// The name is reserved by creating the file empty and then removing it,
// so two callers never get the same one. TempOwner recognises it.
func TempPath(path string) (string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, tempPattern(base, filepath.Ext(base)))
	if err != nil {
		return "", fmt.Errorf("frame: temporary file for %s: %w", path, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return "", err
	}
	return name, nil
}

// tempInfix marks the temporary files WriteFileAtomic and TempPath name:
// ".BASE.tmp-PID-RANDOM[.EXT]", PID being the writing process's.
const tempInfix = ".tmp-"

func tempPattern(base, ext string) string {
	return "." + base + tempInfix + strconv.Itoa(os.Getpid()) + "-*" + ext
}

// TempOwner reports whether a file name (not a path) is one that
// WriteFileAtomic or TempPath gives its temporary files, and the process
// id of the writer it names. Such a file whose writer is gone belongs to
// a write that never finished.
func TempOwner(name string) (pid int, ok bool) {
	i := strings.LastIndex(name, tempInfix)
	if !strings.HasPrefix(name, ".") || i < 2 {
		return 0, false
	}
	rest := name[i+len(tempInfix):]
	j := strings.IndexByte(rest, '-')
	if j <= 0 {
		return 0, false
	}
	pid, err := strconv.Atoi(rest[:j])
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}
