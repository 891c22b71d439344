package engine

import (
	"context"
	"errors"
	"io"
	"unicode/utf8"
)

// Value is what flows along an edge: a table, split, model or report. Its
// Go type belongs to the stage catalog (engine/stages), which knows what
// it holds; the engine only asks it its kind, to encode itself as an
// artifact and to preview itself.
type Value interface {
	// Kind is the kind of data the value is.
	Kind() Kind
	// Encode writes the value's bytes to w and names their format
	// ("parquet", "sluice-model", "json", …). Parts that are values of
	// their own (a split's tables, a model's split) may be stored apart
	// with put, and referred to by the reference it returns. The same value
	// must encode to the same bytes. A value that cannot be kept returns
	// an error wrapping ErrNotKept.
	Encode(ctx context.Context, w io.Writer, put PutFunc) (format string, err error)
	// Preview summarises the value for people, bounded in size whatever
	// the value holds (see PreviewRows, PreviewCols, PreviewCell), or nil
	// if there is nothing to show.
	Preview() *Preview
}

// PutFunc stores a value as an artifact of its own and returns its
// reference (kind, format, key and size; no stage or name). Storing one
// value twice in a run costs one write.
type PutFunc func(ctx context.Context, v Value) (ArtifactInfo, error)

// GetFunc loads the value a PutFunc stored, by the reference it returned.
type GetFunc func(ctx context.Context, ref ArtifactInfo) (Value, error)

// DecodeFunc rebuilds a value of the given kind from the bytes and format
// its Encode wrote, loading parts stored apart with get. It must check
// every size and count against the bytes present: artifacts are data,
// and a damaged one gives an error, never a panic.
type DecodeFunc func(ctx context.Context, kind Kind, format string, data []byte, get GetFunc) (Value, error)

// ErrNotKept reports a value that cannot be written as an artifact (its
// kind has no encoding); the stage's other results are still recorded.
var ErrNotKept = errors.New("value is not kept as an artifact")

// OutputArtifact is the name of the artifact that holds a stage's output
// value; a stage's other artifacts (the model file, a search's table)
// have names of their own.
const OutputArtifact = "output"

// Bounds of every preview: rows shown, columns shown (the rest are
// counted, not shown) and bytes of one cell before it is cut.
const (
	PreviewRows = 20
	PreviewCols = 50
	PreviewCell = 200
)

// CutMarker ends a preview cell that was cut to PreviewCell bytes.
const CutMarker = "…[cut]"

// CutCell returns s if it fits in PreviewCell bytes, or its first bytes
// (whole UTF-8 characters) followed by CutMarker.
func CutCell(s string) string {
	if len(s) <= PreviewCell {
		return s
	}
	n := PreviewCell - len(CutMarker)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + CutMarker
}
