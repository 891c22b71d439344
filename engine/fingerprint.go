package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

// fingerprintScheme names the recipe below; it is hashed first, so a
// change of recipe never matches a fingerprint made by the old one.
const fingerprintScheme = "sluice-stage/2"

// fingerprintInput is everything a stage's output is a function of.
type fingerprintInput struct {
	Version  string            // sluice version
	Uses     string            // stage type
	Seed     uint64            // the stage's seed (pipeline seed and stage id)
	Params   Params            // resolved: defaults, overrides, templating
	Upstream []string          // fingerprints of the inputs, in order
	Reads    map[string]string // file as written in the parameters → SHA-256 of its bytes
}

// fingerprint hashes in into the stage-cache key: hex SHA-256. The stage
// id is not part of it (its seed is), so the same work under another
// name or in another pipeline is the same fingerprint.
func fingerprint(in fingerprintInput) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\nversion %q\nuses %q\nseed %d\n", fingerprintScheme, in.Version, in.Uses, in.Seed)
	if params, err := json.Marshal(canonicalParams(in.Params)); err == nil {
		fmt.Fprintf(h, "params %s\n", params)
	} else {
		// Params hold YAML-born values, which marshal; should one not,
		// fmt prints maps in key order, which is stable too.
		fmt.Fprintf(h, "params %#v\n", canonicalParams(in.Params))
	}
	for _, u := range in.Upstream {
		fmt.Fprintf(h, "in %s\n", u)
	}
	names := make([]string, 0, len(in.Reads))
	for n := range in.Reads {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "file %q %s\n", n, in.Reads[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalParams turns params into JSON-stable values (durations as
// text); json.Marshal sorts map keys.
func canonicalParams(p Params) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		if d, ok := v.(time.Duration); ok {
			out[k] = d.String()
			continue
		}
		out[k] = v
	}
	return out
}

// readsOf returns the files a stage reads, as written in its parameters,
// with their resolved paths: what the stage type's Reads says, or its
// Input path parameters (every file a Glob one matches).
func readsOf(ps *PlannedStage, dir string) (map[string]string, error) {
	if ps.Type.Reads != nil {
		files, err := ps.Type.Reads(ps.Params, dir)
		if err != nil {
			return nil, err
		}
		out := make(map[string]string, len(files))
		for _, f := range files {
			out[f] = ResolvePath(dir, f)
		}
		return out, nil
	}
	out := map[string]string{}
	for _, p := range ps.Type.Params {
		if p.Type != TypePath || !p.Input || ps.Params.String(p.Name) == "" {
			continue
		}
		v := ps.Params.String(p.Name)
		if p.Glob {
			names, err := ExpandInput(dir, v)
			if err != nil {
				return nil, err
			}
			for _, name := range names {
				out[name] = ResolvePath(dir, name)
			}
			continue
		}
		out[v] = ResolvePath(dir, v)
	}
	return out, nil
}

// writesOf returns the files a stage writes (its Output path parameters),
// as written, with their resolved paths.
func writesOf(ps *PlannedStage, dir string) map[string]string {
	out := map[string]string{}
	for _, p := range ps.Type.Params {
		if p.Type != TypePath || !p.Output || ps.Params.String(p.Name) == "" {
			continue
		}
		v := ps.Params.String(p.Name)
		out[v] = ResolvePath(dir, v)
	}
	return out
}

// hashFiles returns the SHA-256 of each file, keyed as given.
func hashFiles(files map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(files))
	for name, path := range files {
		sum, err := hashFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = sum
	}
	return out, nil
}

// hashFile returns the hex SHA-256 of a file's bytes. Only the bytes
// count: a file touched but not changed hashes the same.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
