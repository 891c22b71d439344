package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// AllowOutsideParam is the parameter every stage type that writes a file
// has (Registry.Add declares it where a type does not): set true, the
// stage may write outside the pipeline's folder.
const AllowOutsideParam = "allow_outside"

// ErrOutside reports an output path that leaves the folder writes are
// confined to.
var ErrOutside = errors.New("outside the folder")

// OutputPath is the one write policy of sluice: every file sluice writes
// for a user (the write stages, export_model, exec's output, `sluice
// export`, `predict -o`, the workbench's export) resolves its path here
// before writing. value is resolved against base (the pipeline's folder,
// or the current folder for a command); unless allowOutside, the result
// must stay under base with symbolic links followed: "../x", an absolute
// path elsewhere, and a path through a symlinked folder that points out of
// base are refused with an error wrapping ErrOutside. The deepest part of
// the path that exists is resolved through an os.Root opened on base, so
// the check follows links the way the kernel will. It returns the absolute
// path to write.
//
// The check is made before writing, not during: a link swapped in between
// by someone who can already write under base is not caught.
func OutputPath(base, value string, allowOutside bool) (string, error) {
	if base == "" {
		base = "."
	}
	absBase, err := filepath.Abs(base)
	if err != nil {
		return "", err
	}
	abs := ResolvePath(absBase, value)
	if allowOutside {
		return abs, nil
	}
	outside := func() error {
		return fmt.Errorf("%s is %w %s (allow_outside: true, or --allow-outside on the command line, writes there)", value, ErrOutside, absBase)
	}
	rel, err := filepath.Rel(absBase, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", outside()
	}
	root, err := os.OpenRoot(absBase)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return abs, nil // nothing exists under base yet: no link to follow
		}
		return "", err
	}
	defer root.Close()
	for p := rel; ; p = filepath.Dir(p) {
		_, err := root.Stat(p)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			// os.Root refuses a path that a link takes out of base; any
			// other failure (a file where a folder should be, no
			// permission) the plain file system reports too, and the
			// write itself will report it.
			if _, plain := os.Stat(filepath.Join(absBase, p)); plain == nil || errors.Is(plain, fs.ErrNotExist) {
				return "", outside()
			}
			break
		}
		if fi, lerr := root.Lstat(p); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return "", outside() // a dangling link: where it points is not under base
		}
		if p == "." || p == string(filepath.Separator) {
			break
		}
	}
	return abs, nil
}
