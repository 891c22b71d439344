package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// IsPattern reports whether a path parameter's value is a glob pattern
// (it holds *, ? or [), as path/filepath.Match reads them.
func IsPattern(p string) bool { return strings.ContainsAny(p, "*?[") }

// ExpandInput returns the files that an input path parameter declared
// with Param.Glob names, as written (relative to dir unless absolute),
// in sorted order: the file itself; for a glob pattern the regular files
// it matches; for a folder the regular files in it (not in its
// subfolders) whose names do not start with "." or "_", the way Spark
// and Hive leave _SUCCESS and .crc files beside the part files. It
// returns an error when the path does not exist, the pattern is malformed
// or matches no file, or the folder holds no such file.
func ExpandInput(dir, value string) ([]string, error) {
	abs := ResolvePath(dir, value)
	name := func(p string) string {
		if filepath.IsAbs(value) {
			return p
		}
		if rel, err := filepath.Rel(dir, p); err == nil {
			return rel
		}
		return p
	}
	if IsPattern(value) {
		matches, err := filepath.Glob(abs)
		if err != nil {
			return nil, fmt.Errorf("bad pattern %s: %w", value, err)
		}
		var out []string
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
				out = append(out, name(m))
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no file matches %s", value)
		}
		sort.Strings(out)
		return out, nil
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("no such file %s", value)
	}
	if !fi.IsDir() {
		return []string{value}, nil
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "_") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(abs, e.Name())); err == nil && fi.Mode().IsRegular() {
			out = append(out, filepath.Join(value, e.Name()))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("folder %s holds no data files", value)
	}
	sort.Strings(out)
	return out, nil
}
