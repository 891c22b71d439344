package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sync"
	"time"
)

// keep writes a successful stage's output value and the files it keeps
// beside it to the artifact store, and returns their references, the
// output first. Without an artifact store it keeps nothing. A write that
// fails fails the stage: a run never records an output it did not keep.
func (x *execution) keep(ctx context.Context, ps *PlannedStage, out *Output) ([]ArtifactInfo, error) {
	store := x.ex.Artifacts
	if store == nil || out == nil {
		return nil, nil
	}
	began := time.Now()
	x.phase(ps.Index, "writing artifacts")
	defer x.phase(ps.Index, "")
	var refs []ArtifactInfo
	var total int
	if out.Value != nil {
		ref, err := x.put(ctx, out.Value)
		switch {
		case errors.Is(err, ErrNotKept):
		case err != nil:
			return nil, fmt.Errorf("write output: %w", err)
		default:
			ref.Stage, ref.Name = ps.Spec.ID, OutputArtifact
			refs = append(refs, ref)
			total += ref.Size
		}
	}
	for _, a := range out.Artifacts {
		if a.Name == "" || a.Name == OutputArtifact {
			return nil, fmt.Errorf("stage %s keeps an artifact named %q", ps.Spec.ID, a.Name)
		}
		key, n, err := store.Put(ctx, bytes.NewReader(a.Data))
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", a.Name, err)
		}
		info := a.ArtifactInfo
		info.Stage, info.SHA256, info.Size = ps.Spec.ID, key, int(n)
		refs = append(refs, info)
		total += info.Size
	}
	if len(refs) > 0 {
		x.logf(ps.Spec.ID, "kept %d artifact(s), %d bytes, in %.2fs", len(refs), total, time.Since(began).Seconds())
	}
	return refs, nil
}

// put encodes a value into the artifact store, streaming, and returns its
// reference. A value already written in this run (by identity) is not
// written again.
func (x *execution) put(ctx context.Context, v Value) (ArtifactInfo, error) {
	id, memo := identity(v)
	if memo {
		x.mu.Lock()
		ref, ok := x.refs[id]
		x.mu.Unlock()
		if ok {
			return ref, nil
		}
	}
	pr, pw := io.Pipe()
	var format string
	// The parts v writes through put, at any depth, go into its
	// reference so a collector keeps them with it.
	var (
		partsMu sync.Mutex
		parts   []string
	)
	sub := func(ctx context.Context, v Value) (ArtifactInfo, error) {
		ref, err := x.put(ctx, v)
		if err == nil {
			partsMu.Lock()
			parts = appendNew(appendNew(parts, ref.SHA256), ref.Parts...)
			partsMu.Unlock()
		}
		return ref, err
	}
	encDone := make(chan error, 1)
	go func() {
		var err error
		format, err = v.Encode(ctx, pw, sub)
		pw.CloseWithError(err)
		encDone <- err
	}()
	key, n, putErr := x.ex.Artifacts.Put(ctx, pr)
	pr.CloseWithError(errors.New("artifact store stopped reading"))
	encErr := <-encDone
	if encErr != nil {
		return ArtifactInfo{}, encErr
	}
	if putErr != nil {
		return ArtifactInfo{}, putErr
	}
	ref := ArtifactInfo{Kind: v.Kind(), Format: format, SHA256: key, Size: int(n), Parts: parts}
	if memo {
		x.mu.Lock()
		x.refs[id] = ref
		x.mu.Unlock()
	}
	return ref, nil
}

// appendNew appends the keys of add that list lacks.
func appendNew(list []string, add ...string) []string {
	for _, k := range add {
		if !slices.Contains(list, k) {
			list = append(list, k)
		}
	}
	return list
}

// identity returns a map key standing for the value itself (its pointer,
// or its comparable contents), and whether it has one.
func identity(v Value) (any, bool) {
	t := reflect.TypeOf(v)
	if t == nil || !t.Comparable() {
		return nil, false
	}
	return v, true
}

// LoadOutput reads back a value an executor wrote to the artifact store,
// by its reference (a stage's OutputArtifact entry in a run record), and
// decodes it with the decoder of the registry plan was validated
// against. The bytes are verified against their key; a value that is
// missing gives an error wrapping fs.ErrNotExist, a damaged one another
// error. Either way the caller should run the stage instead.
func (e *Executor) LoadOutput(ctx context.Context, plan *Plan, ref ArtifactInfo) (Value, error) {
	if e.Artifacts == nil {
		return nil, errors.New("load output: no artifact store")
	}
	if plan.decode == nil {
		return nil, errors.New("load output: the catalog has no decoder")
	}
	return loadValue(ctx, e.Artifacts, plan.decode, ref)
}

// loadValue reads and decodes one stored value and the parts it refers to.
func loadValue(ctx context.Context, store ArtifactStore, decode DecodeFunc, ref ArtifactInfo) (Value, error) {
	data, err := readBounded(ctx, store, ref)
	if err != nil {
		return nil, err
	}
	get := func(ctx context.Context, r ArtifactInfo) (Value, error) {
		return loadValue(ctx, store, decode, r)
	}
	v, err := decode(ctx, ref.Kind, ref.Format, data, get)
	if err != nil {
		return nil, fmt.Errorf("decode %s artifact %.12s: %w", ref.Kind, ref.SHA256, err)
	}
	if v == nil || v.Kind() != ref.Kind {
		return nil, fmt.Errorf("decode %s artifact %.12s: gave another kind", ref.Kind, ref.SHA256)
	}
	return v, nil
}

// readBounded reads a blob whose reference gives its size, reading at
// most one byte more than that size, so a reference never makes the
// reader take more memory than it declares.
func readBounded(ctx context.Context, store ArtifactStore, ref ArtifactInfo) ([]byte, error) {
	if ref.Size < 0 {
		return nil, fmt.Errorf("artifact %.12s: negative size", ref.SHA256)
	}
	have, err := store.Size(ctx, ref.SHA256)
	if err != nil {
		return nil, err
	}
	if have != int64(ref.Size) {
		return nil, fmt.Errorf("artifact %.12s: %d bytes, its reference says %d", ref.SHA256, have, ref.Size)
	}
	rc, err := store.Get(ctx, ref.SHA256)
	if err != nil {
		return nil, err
	}
	defer rc.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
	buf := bytes.NewBuffer(make([]byte, 0, ref.Size+1))
	if _, err := io.Copy(buf, io.LimitReader(rc, int64(ref.Size)+1)); err != nil {
		return nil, err
	}
	if buf.Len() != ref.Size {
		return nil, fmt.Errorf("artifact %.12s: %d bytes, its reference says %d", ref.SHA256, buf.Len(), ref.Size)
	}
	// The size matched: read on to the end so the hash is checked.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
