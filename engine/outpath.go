package engine

import (
	"errors"
	"fmt"
	"io"
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
// OutputPath only checks; WriteOutput and RenameOutput also write through
// an os.Root on base, so a link swapped in between the check and the write
// cannot take the write out of base either.
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
	defer root.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
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

// openOutput resolves the output value names under the write policy (see
// OutputPath) and opens the folder a write of it goes through; it returns
// that root, the output's absolute path and its name inside the root.
func openOutput(base, value string, allowOutside bool) (root *os.Root, abs, rel string, err error) {
	if abs, err = OutputPath(base, value, allowOutside); err != nil {
		return nil, "", "", err
	}
	if root, rel, err = outputRoot(base, abs, allowOutside); err != nil {
		return nil, "", "", err
	}
	return root, abs, rel, nil
}

// outputRoot opens the folder a write of abs (which OutputPath returned)
// goes through, and returns the name of abs inside it: base itself
// (created if need be), or with allowOutside abs's own folder (created if
// need be).
func outputRoot(base, abs string, allowOutside bool) (*os.Root, string, error) {
	if base == "" {
		base = "."
	}
	absBase, err := filepath.Abs(base)
	if err != nil {
		return nil, "", err
	}
	rel, err := filepath.Rel(absBase, abs)
	switch {
	case allowOutside:
		// Links may take it anywhere: only the file's own folder is held.
		absBase, rel = filepath.Dir(abs), filepath.Base(abs)
	case err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel):
		return nil, "", fmt.Errorf("%s is %w %s", abs, ErrOutside, absBase)
	}
	if err := os.MkdirAll(absBase, 0o755); err != nil {
		return nil, "", err
	}
	root, err := os.OpenRoot(absBase)
	if err != nil {
		return nil, "", err
	}
	if err := root.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
		_ = root.Close()
		return nil, "", outsideOr(err, abs, absBase)
	}
	return root, rel, nil
}

// outsideOr says that a write was refused for leaving base where os.Root
// refused it for that reason, and returns other errors as they are.
func outsideOr(err error, path, base string) error {
	if strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("%s is %w %s (a symbolic link under it points out)", path, ErrOutside, base)
	}
	return err
}

// WriteOutput writes the file value names, resolved against base under
// the write policy (see OutputPath), atomically through write (see
// WriteFileAtomic): folders on the way are created, and every
// step goes through an os.Root on base, so no symbolic link, even one
// swapped in during the write, takes it out of base. It returns the
// absolute path written.
func WriteOutput(base, value string, allowOutside bool, write func(io.Writer) error) (string, error) {
	root, abs, rel, err := openOutput(base, value, allowOutside)
	if err != nil {
		return "", err
	}
	defer root.Close() //nolint:errcheck // every file opened through it is closed already
	if err := writeFileAtomicIn(root, rel, write); err != nil {
		return "", outsideOr(err, value, root.Name())
	}
	return abs, nil
}

// OutputTemp creates, empty, a temporary file beside the output value
// names (resolved against base under the write policy, see OutputPath),
// for a program to write and RenameOutput to rename over the output.
// The output's folders and the file are made through an os.Root, as
// WriteOutput makes them, so the file lies in the output's confined
// folder. It returns the file's absolute path.
func OutputTemp(base, value string, allowOutside bool) (string, error) {
	root, abs, rel, err := openOutput(base, value, allowOutside)
	if err != nil {
		return "", err
	}
	defer root.Close() //nolint:errcheck // the file made through it is closed already
	tmp, err := tempFileIn(root, rel)
	if err != nil {
		return "", outsideOr(err, value, root.Name())
	}
	return filepath.Join(filepath.Dir(abs), filepath.Base(tmp)), nil
}

// RenameOutput renames the file at from (a temporary file beside the
// output, as OutputTemp makes it) over the output value names,
// resolved against base under the write policy, through an os.Root as
// WriteOutput writes. It returns the absolute path of the output.
func RenameOutput(base, value string, allowOutside bool, from string) (string, error) {
	root, abs, rel, err := openOutput(base, value, allowOutside)
	if err != nil {
		return "", err
	}
	defer root.Close() //nolint:errcheck // nothing opened through it
	fromRel := filepath.Join(filepath.Dir(rel), filepath.Base(from))
	if filepath.Dir(from) != filepath.Dir(abs) {
		return "", fmt.Errorf("rename %s over %s: not in the output's folder", from, value)
	}
	if err := root.Rename(fromRel, rel); err != nil {
		return "", outsideOr(err, value, root.Name())
	}
	return abs, nil
}
