package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrBadRef reports a ref name that is not a fingerprint: 1 to 128
// lowercase hex digits.
var ErrBadRef = errors.New("bad ref name")

const refsDir = "refs"

// maxRef is the longest ref name: a SHA-512 in hex.
const maxRef = 128

// CheckRef reports whether name is a well-formed ref name: a stage
// fingerprint, 1 to 128 lowercase hexadecimal digits (so it is safe as a
// file or object name everywhere). The error wraps ErrBadRef.
func CheckRef(name string) error {
	if name == "" || len(name) > maxRef {
		return fmt.Errorf("%w: %q is not 1 to %d hex digits", ErrBadRef, name, maxRef)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: %q is not lowercase hex digits", ErrBadRef, name)
		}
	}
	return nil
}

// refPath returns where the ref of a checked name lives: refs/<first two
// digits>/<name> (a one-digit name sits in refs/<name>/<name>).
func (d *Dir) refPath(name string) string {
	fan := name
	if len(fan) > 2 {
		fan = fan[:2]
	}
	return filepath.Join(d.root, refsDir, fan, name)
}

// PutRef points the ref name (a stage fingerprint) at key. It is atomic
// and durable when it returns (temporary file, fsync, rename, fsync of
// the folder): a reader sees the previous key or this one. It does not
// check that a blob is stored under key.
func (d *Dir) PutRef(ctx context.Context, name, key string) error {
	if err := CheckRef(name); err != nil {
		return err
	}
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	final := d.refPath(name)
	fan := filepath.Dir(final)
	if _, err := os.Stat(fan); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(fan, 0o755); err != nil {
			return fmt.Errorf("put ref: %w", err)
		}
		if err := syncDir(filepath.Dir(fan)); err != nil {
			return fmt.Errorf("put ref: %w", err)
		}
	}
	// The temporary file sits in the root, where RemoveTemp looks for
	// what a writer that died left behind.
	tmp, err := os.CreateTemp(d.root, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("put ref: %w", err)
	}
	tmpName := tmp.Name()
	_, err = tmp.WriteString(key + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmpName, 0o644)
	}
	if err == nil {
		err = os.Rename(tmpName, final)
	}
	if err != nil {
		_ = os.Remove(tmpName) // the write's error is the one to report
		return fmt.Errorf("put ref %s: %w", short(name), err)
	}
	if err := syncDir(fan); err != nil {
		return fmt.Errorf("put ref %s: %w", short(name), err)
	}
	return nil
}

// GetRef returns the key the ref name points at, or an error wrapping
// fs.ErrNotExist if there is none. A ref file that does not hold a
// well-formed key gives an error wrapping ErrCorrupt.
func (d *Dir) GetRef(ctx context.Context, name string) (string, error) {
	if err := CheckRef(name); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	b, err := os.ReadFile(d.refPath(name))
	if err != nil {
		return "", fmt.Errorf("ref %s: %w", short(name), err)
	}
	return parseRef(name, b)
}

// parseRef reads a ref's stored bytes: a key and a newline.
func parseRef(name string, b []byte) (string, error) {
	key := strings.TrimSuffix(string(b), "\n")
	if err := CheckKey(key); err != nil {
		return "", fmt.Errorf("ref %s: %w: %v", short(name), ErrCorrupt, err)
	}
	return key, nil
}
