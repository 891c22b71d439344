package artifacts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Errors of the package.
var (
	// ErrBadKey reports a key that is not 64 lowercase hex digits.
	ErrBadKey = errors.New("bad artifact key")
	// ErrCorrupt reports a blob whose bytes do not hash to its key.
	ErrCorrupt = errors.New("corrupt artifact")
)

const (
	algoDir    = "sha256"
	tempPrefix = ".tmp-"
	gcInfix    = ".gc-"
)

// Dir is an artifact store in a folder. Its zero value is not usable;
// call Open.
type Dir struct {
	root string
}

// Open returns the store kept in the folder root, creating the folder if
// need be. It returns an error if root exists and is not a folder, or
// cannot be created.
func Open(root string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(root, algoDir), 0o755); err != nil {
		return nil, fmt.Errorf("open artifacts %s: %w", root, err)
	}
	return &Dir{root: root}, nil
}

// New returns the store kept in the folder root without touching the
// disk: for reading a store that may not exist (everything is then
// missing). Put creates the folder when it first writes.
func New(root string) *Dir { return &Dir{root: root} }

// Root returns the folder the store lives in.
func (d *Dir) Root() string { return d.root }

// Location returns the folder the store lives in, for messages.
func (d *Dir) Location() string { return d.root }

// CheckKey reports whether key is a well-formed artifact key: 64
// lowercase hexadecimal digits. The error wraps ErrBadKey.
func CheckKey(key string) error {
	if len(key) != 2*sha256.Size {
		return fmt.Errorf("%w: %q is not 64 hex digits", ErrBadKey, key)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: %q is not 64 lowercase hex digits", ErrBadKey, key)
		}
	}
	return nil
}

// path returns where the blob of a checked key lives.
func (d *Dir) path(key string) string {
	return filepath.Join(d.root, algoDir, key[:2], key)
}

// Put stores the bytes r yields under their SHA-256 and returns the key
// and size. The write is atomic and durable when Put returns: temporary
// file, fsync, rename, fsync of the folder. Content already stored (with
// the same size) is not replaced, but its modification time is set to
// now, so a concurrent DeleteBefore keeps it.
func (d *Dir) Put(ctx context.Context, r io.Reader) (string, int64, error) {
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	if err := os.MkdirAll(filepath.Join(d.root, algoDir), 0o755); err != nil {
		return "", 0, fmt.Errorf("put artifact: %w", err)
	}
	tmp, err := os.CreateTemp(d.root, tempPrefix+"*")
	if err != nil {
		return "", 0, fmt.Errorf("put artifact: %w", err)
	}
	tmpName := tmp.Name()
	done := false
	defer func() {
		if !done {
			_ = tmp.Close() // abandoned: the error that stopped the write is the one to report
			_ = os.Remove(tmpName)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err != nil {
		return "", 0, fmt.Errorf("put artifact: %w", err)
	}
	key := hex.EncodeToString(h.Sum(nil))
	final := d.path(key)
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == n {
		now := time.Now()
		// The second look matters: a collector may move the file aside
		// while Chtimes is under way, and then see the old time. Once
		// Chtimes has returned, a collector that moves the file later
		// sees the new time and puts it back.
		if err := os.Chtimes(final, now, now); err == nil {
			if _, err := os.Stat(final); err == nil {
				done = true
				_ = tmp.Close() // the same bytes are stored already: this copy is dropped
				_ = os.Remove(tmpName)
				return key, n, nil
			}
		}
		// Gone meanwhile (a collector took it): write it anew.
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("put artifact: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("put artifact: %w", err)
	}
	fan := filepath.Dir(final)
	if _, err := os.Stat(fan); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(fan, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", 0, fmt.Errorf("put artifact: %w", err)
		}
		if err := syncDir(filepath.Dir(fan)); err != nil {
			return "", 0, fmt.Errorf("put artifact: %w", err)
		}
	}
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return "", 0, fmt.Errorf("put artifact: %w", err)
	}
	if err := os.Rename(tmpName, final); err != nil {
		return "", 0, fmt.Errorf("put artifact: %w", err)
	}
	done = true
	if err := syncDir(fan); err != nil {
		return "", 0, fmt.Errorf("put artifact: %w", err)
	}
	return key, n, nil
}

// Get opens the blob stored under key. The reader hashes what it reads
// and, at the end, returns an error wrapping ErrCorrupt instead of
// io.EOF if the bytes do not match the key. A missing key gives an error
// wrapping fs.ErrNotExist.
func (d *Dir) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(d.path(key))
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", short(key), err)
	}
	return &verifier{r: f, h: sha256.New(), key: key}, nil
}

// Has reports whether a blob is stored under key.
func (d *Dir) Has(ctx context.Context, key string) (bool, error) {
	if _, err := d.Size(ctx, key); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// Size returns the size in bytes of the blob under key, or an error
// wrapping fs.ErrNotExist.
func (d *Dir) Size(ctx context.Context, key string) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	fi, err := os.Stat(d.path(key))
	if err != nil {
		return 0, fmt.Errorf("artifact %s: %w", short(key), err)
	}
	return fi.Size(), nil
}

// Delete removes the blob under key; a missing one is not an error.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete artifact %s: %w", short(key), err)
	}
	return nil
}

// DeleteBefore removes the blob under key only if it was last written or
// refreshed (by Put) before cutoff, and reports whether it removed it and
// how many bytes that freed. A missing blob is not an error. It takes no
// lock: it renames the blob aside, checks the time of what it moved, and
// renames it back if a Put refreshed it after cutoff (the bytes under a
// key never differ, so putting them back is always right).
func (d *Dir) DeleteBefore(ctx context.Context, key string, cutoff time.Time) (bool, int64, error) {
	if err := CheckKey(key); err != nil {
		return false, 0, err
	}
	if err := ctx.Err(); err != nil {
		return false, 0, err
	}
	p := d.path(key)
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, 0, nil
		}
		return false, 0, fmt.Errorf("delete artifact %s: %w", short(key), err)
	}
	if !fi.ModTime().Before(cutoff) {
		return false, 0, nil
	}
	aside := p + gcInfix + newSuffix()
	if err := os.Rename(p, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, 0, nil
		}
		return false, 0, fmt.Errorf("delete artifact %s: %w", short(key), err)
	}
	fi, err = os.Stat(aside)
	if err != nil {
		return false, 0, fmt.Errorf("delete artifact %s: %w", short(key), err)
	}
	if !fi.ModTime().Before(cutoff) {
		// A Put refreshed it between the first look and the move.
		if err := os.Rename(aside, p); err != nil {
			return false, 0, fmt.Errorf("restore artifact %s: %w", short(key), err)
		}
		return false, 0, nil
	}
	if err := os.Remove(aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, 0, fmt.Errorf("delete artifact %s: %w", short(key), err)
	}
	return true, fi.Size(), nil
}

// List calls fn with every blob's key, size and modification time,
// stopping at fn's first error. Temporary files and anything else that
// is not a blob are skipped.
func (d *Dir) List(ctx context.Context, fn func(key string, size int64, modified time.Time) error) error {
	base := filepath.Join(d.root, algoDir)
	fans, err := os.ReadDir(base)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("list artifacts: %w", err)
	}
	for _, fan := range fans {
		if !fan.IsDir() || len(fan.Name()) != 2 {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(base, fan.Name()))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return fmt.Errorf("list artifacts: %w", err)
		}
		for _, e := range ents {
			if err := ctx.Err(); err != nil {
				return err
			}
			name := e.Name()
			if !e.Type().IsRegular() || CheckKey(name) != nil || name[:2] != fan.Name() {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // deleted meanwhile
				}
				return fmt.Errorf("list artifacts: %w", err)
			}
			if err := fn(name, fi.Size(), fi.ModTime()); err != nil {
				return err
			}
		}
	}
	return nil
}

// RemoveTemp removes temporary files older than cutoff: what writers
// that died mid-Put left behind, and blobs a collector that died had
// moved aside. It returns how many files and bytes it removed. Files
// newer than cutoff may belong to a write in progress and are kept.
func (d *Dir) RemoveTemp(ctx context.Context, cutoff time.Time, dry bool) (int, int64, error) {
	var (
		files int
		bytes int64
	)
	check := func(dir string, match func(string) bool) error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		for _, e := range ents {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !e.Type().IsRegular() || !match(e.Name()) {
				continue
			}
			fi, err := e.Info()
			if err != nil || !fi.ModTime().Before(cutoff) {
				continue
			}
			if !dry {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
					if errors.Is(err, fs.ErrNotExist) {
						continue
					}
					return err
				}
			}
			files++
			bytes += fi.Size()
		}
		return nil
	}
	if err := check(d.root, func(n string) bool { return strings.HasPrefix(n, tempPrefix) }); err != nil {
		return files, bytes, fmt.Errorf("remove temporary files: %w", err)
	}
	base := filepath.Join(d.root, algoDir)
	fans, err := os.ReadDir(base)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return files, bytes, fmt.Errorf("remove temporary files: %w", err)
	}
	for _, fan := range fans {
		if !fan.IsDir() {
			continue
		}
		if err := check(filepath.Join(base, fan.Name()), func(n string) bool { return strings.Contains(n, gcInfix) }); err != nil {
			return files, bytes, fmt.Errorf("remove temporary files: %w", err)
		}
	}
	return files, bytes, nil
}

// verifier hashes a blob as it is read and checks it at the end.
type verifier struct {
	r   io.ReadCloser
	h   hash.Hash
	key string
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.key {
			return n, fmt.Errorf("artifact %s: %w: its bytes hash to %s", short(v.key), ErrCorrupt, short(got))
		}
	}
	return n, err
}

func (v *verifier) Close() error { return v.r.Close() }

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// syncDir fsyncs a folder, so a rename or creation in it is durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close() //nolint:errcheck // a folder opened to sync it: Sync's error is the one that counts
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

func short(key string) string {
	if len(key) > 12 {
		return key[:12]
	}
	return key
}

// newSuffix returns a random suffix for names that must not collide.
func newSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
