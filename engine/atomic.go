package engine

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
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
// existing file's mode is kept. Path's folder must exist (WriteBytesAtomic
// creates it). It is the one atomic write of sluice: the stages' outputs
// (WriteOutput), model files, the workbench's pipeline files.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer root.Close() //nolint:errcheck // every file opened through it is closed already
	return writeFileAtomicIn(root, base, write)
}

// WriteBytesAtomic writes data to path whole or not at all, as
// WriteFileAtomic does, creating path's folder first. The workbench saves
// pipeline files with it.
func WriteBytesAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeFileAtomicIn is WriteFileAtomic for the file name (a path relative
// to root) inside root: every step (the temporary file, its rename, the
// mode kept) goes through root, so a symbolic link, even one swapped in
// while the file is written, cannot take the write out of root's folder.
func writeFileAtomicIn(root *os.Root, name string, write func(io.Writer) error) error {
	shown := filepath.Join(root.Name(), name)
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	tmp, tmpName, err := createTempIn(root, dir, tempPattern(base, ""))
	if err != nil {
		return fmt.Errorf("write %s: %w", shown, err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()          // abandoned: the write's error is the one to report
			_ = root.Remove(tmpName) // TempOwner lets a sweep find a leftover
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", shown, err)
	}
	mode := os.FileMode(0o644)
	if st, err := root.Stat(name); err == nil {
		mode = st.Mode().Perm()
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", shown, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", shown, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", shown, err)
	}
	if err := root.Rename(tmpName, name); err != nil {
		return fmt.Errorf("write %s: %w", shown, err)
	}
	done = true
	if d, err := root.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable; not all systems support it
		_ = d.Close()
	}
	return nil
}

// createTempIn creates a new file in dir inside root, named by pattern
// with its last "*" replaced by a random string, as os.CreateTemp does.
func createTempIn(root *os.Root, dir, pattern string) (*os.File, string, error) {
	prefix, suffix, _ := strings.Cut(pattern, "*")
	if i := strings.LastIndex(pattern, "*"); i >= 0 {
		prefix, suffix = pattern[:i], pattern[i+1:]
	}
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10)+suffix)
		f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if os.IsExist(err) && try < 10000 {
			continue
		}
		return f, name, err
	}
}

// tempFileIn creates an empty file beside name in root, for a program
// to write and a caller to rename over name once complete:
// ".BASE.tmp-PID-RANDOM" followed by name's extension, so the program
// can still tell the format. It returns the file's name in root. The
// file is created through root and kept (empty), so its name is never
// another's and is no link a program writing it would follow out of
// root. TempOwner recognises it.
func tempFileIn(root *os.Root, name string) (string, error) {
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	f, tmp, err := createTempIn(root, dir, tempPattern(base, filepath.Ext(base)))
	if err != nil {
		return "", fmt.Errorf("temporary file for %s: %w", filepath.Join(root.Name(), name), err)
	}
	if err := f.Close(); err != nil {
		_ = root.Remove(tmp)
		return "", fmt.Errorf("temporary file for %s: %w", filepath.Join(root.Name(), name), err)
	}
	return tmp, nil
}

// tempInfix marks the temporary files WriteFileAtomic and tempFileIn name:
// ".BASE.tmp-PID-RANDOM[.EXT]", PID being the writing process's.
const tempInfix = ".tmp-"

func tempPattern(base, ext string) string {
	return "." + base + tempInfix + strconv.Itoa(os.Getpid()) + "-*" + ext
}

// TempOwner reports whether a file name (not a path) is one that
// WriteFileAtomic or tempFileIn gives its temporary files, and the process
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
