// The model file's format 2: writing and reading it, its header,
// checksum and compression. The packing of the estimator's state
// (decision trees as packed columns), which makes up most of its length,
// is in modelstate.go.

package stages

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/sluice-ml/sluice/ml"
)

// Model file format 2: one file, self-describing and checksummed, with
// the estimator's learned state packed instead of spelled out in JSON.
//
//	"sluice-model 2\n"                 the format and version, readable by head -1
//	uvarint n, n bytes                 the header: the ModelFile as JSON (input
//	                                   schema, chain, features, metrics, source,
//	                                   estimator type and parameters) without the
//	                                   state, plus how the state is stored
//	the state                          zstd-compressed (see below)
//	32 bytes                           SHA-256 of every byte before it
//
// The state is "trees-1" for estimators made of decision trees and "json"
// for the rest. "trees-1" is the estimator's JSON with its trees taken
// out (uvarint length, then the JSON), followed by the trees as packed
// columns: node counts, a leaf bitmap (nodes are in preorder, left child
// next, so the bitmap alone gives every child index), the split feature
// of each internal node, its threshold (float64, bytes transposed so the
// compressor sees the exponent bytes together), and the node values,
// as unsigned varints when all are whole numbers (the class counts of a
// classification tree) and as transposed float64 otherwise.
const modelMagic2 = ModelFormat + " 2\n"

// State encodings of format 2.
const (
	stateTrees = "trees-1"
	stateJSON  = "json"
)

// Bounds a format-2 decoder holds a file to, whatever the file declares.
const (
	maxModelHeader = 64 << 20 // bytes of header JSON
	maxStateRatio  = 4096     // raw state bytes per stored byte (zstd cannot do much better)
)

// modelHeader2 is the header of a format-2 file: the model file without
// its state, and how the state follows.
type modelHeader2 struct {
	ModelFile
	State stateInfo `json:"state_storage"`
}

type stateInfo struct {
	Encoding    string `json:"encoding"`    // stateTrees or stateJSON
	Compression string `json:"compression"` // "zstd"
	Size        int64  `json:"size"`        // bytes before compression
	Stored      int64  `json:"stored"`      // bytes in the file
}

// marshalModel2 writes mf (whose Estimator.State is ignored) with est's
// state as a format-2 file.
func marshalModel2(mf *ModelFile, est ml.Estimator) ([]byte, error) {
	raw, encoding, err := packState(est)
	if err != nil {
		return nil, err
	}
	stored, err := zstdCompress(raw)
	if err != nil {
		return nil, err
	}
	h := modelHeader2{ModelFile: *mf, State: stateInfo{Encoding: encoding, Compression: "zstd", Size: int64(len(raw)), Stored: int64(len(stored))}}
	h.FormatVersion = 2
	h.Estimator.State = nil
	h.Checksum = ""
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(modelMagic2)+binary.MaxVarintLen64+len(hb)+len(stored)+sha256.Size)
	out = append(out, modelMagic2...)
	out = binary.AppendUvarint(out, uint64(len(hb)))
	out = append(out, hb...)
	out = append(out, stored...)
	sum := sha256.Sum256(out)
	return append(out, sum[:]...), nil
}

// unmarshalModel2 reads a format-2 file: the header, and the estimator
// its state decodes to. Every declared size is held to the bytes present
// before anything is allocated from it.
func unmarshalModel2(data []byte) (*ModelFile, ml.Estimator, *estimatorDef, error) {
	if len(data) < len(modelMagic2)+1+sha256.Size {
		return nil, nil, nil, errors.New("the file is truncated")
	}
	body, trailer := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	sum := sha256.Sum256(body)
	if !bytes.Equal(sum[:], trailer) {
		return nil, nil, nil, errors.New("checksum mismatch: the file was changed after it was written, or is truncated")
	}
	rest := body[len(modelMagic2):]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) || n > maxModelHeader {
		return nil, nil, nil, fmt.Errorf("header of %d bytes exceeds the %d bytes present", n, len(rest))
	}
	dec := json.NewDecoder(bytes.NewReader(rest[k : k+int(n)]))
	dec.DisallowUnknownFields()
	var h modelHeader2
	if err := dec.Decode(&h); err != nil {
		return nil, nil, nil, fmt.Errorf("header: %v", err)
	}
	stored := rest[k+int(n):]
	st := h.State
	switch {
	case h.Format != ModelFormat || h.FormatVersion != 2:
		return nil, nil, nil, fmt.Errorf("header says format %q version %d", h.Format, h.FormatVersion)
	case st.Compression != "zstd":
		return nil, nil, nil, fmt.Errorf("state compression %q", st.Compression)
	case st.Stored != int64(len(stored)):
		return nil, nil, nil, fmt.Errorf("state of %d bytes declared, %d present", st.Stored, len(stored))
	case st.Size < 0 || st.Size > maxStateRatio*(st.Stored+1):
		return nil, nil, nil, fmt.Errorf("state of %d bytes declared from %d stored", st.Size, st.Stored)
	}
	raw, err := zstdDecompress(stored, st.Size)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("state: %v", err)
	}
	def, ok := estimatorByName(h.Estimator.Type)
	if !ok {
		return nil, nil, nil, fmt.Errorf("unknown estimator type %q", h.Estimator.Type)
	}
	est := def.new()
	if err := unpackState(est, st.Encoding, raw); err != nil {
		return nil, nil, nil, fmt.Errorf("estimator state: %v", err)
	}
	mf := h.ModelFile
	mf.Checksum = hex.EncodeToString(trailer)
	return &mf, est, def, nil
}

// zstd settings are fixed (one goroutine, no checksum of its own: the
// file has one) so the bytes depend only on the model.
func zstdCompress(raw []byte) ([]byte, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return nil, err
	}
	defer enc.Close() //nolint:errcheck // EncodeAll needs no Close; it frees the encoder's workers
	return enc.EncodeAll(raw, make([]byte, 0, len(raw)/2+64)), nil
}

// zstdWindow bounds the decoder's window beyond the declared output:
// the encoder's default level uses at most 8 MiB.
const zstdWindow = 8 << 20

func zstdDecompress(stored []byte, size int64) ([]byte, error) {
	dec, err := zstd.NewReader(bytes.NewReader(stored), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(size)+zstdWindow))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	raw := make([]byte, 0, size)
	buf := bytes.NewBuffer(raw)
	if _, err := io.Copy(buf, io.LimitReader(dec, size+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) != size {
		return nil, fmt.Errorf("%d bytes decompressed, %d declared", buf.Len(), size)
	}
	return buf.Bytes(), nil
}
