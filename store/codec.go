package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// recordVersion is the version of the JSON envelopes written. A reader
// refuses a record with a newer version rather than misread it.
const recordVersion = 1

// Keys. Every key starts with the run number, 8 bytes big-endian, so a
// run's entries in any bucket are one cursor range, in creation order.
// Stage ids never contain a NUL byte, so NUL ends the stage part.

func runKey(id int64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(id))
	return k
}

func keyID(k []byte) int64 {
	if len(k) < 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(k))
}

// pipelinePrefix is pipeline + NUL: the prefix of a pipeline's entries
// in the pipelines index.
func pipelinePrefix(pipeline string) []byte {
	return append([]byte(pipeline), 0)
}

// pipelineKey is pipeline + NUL + run: a key of the pipelines index.
func pipelineKey(pipeline string, id int64) []byte {
	return binary.BigEndian.AppendUint64(pipelinePrefix(pipeline), uint64(id))
}

// stageKey is run + stage: the key of a preview.
func stageKey(id int64, stage string) []byte {
	k := make([]byte, 8, 8+len(stage))
	binary.BigEndian.PutUint64(k, uint64(id))
	return append(k, stage...)
}

// stagePrefix is run + stage + NUL: the prefix of a stage's log lines and
// artifacts.
func stagePrefix(id int64, stage string) []byte {
	return append(stageKey(id, stage), 0)
}

// logKey is run + stage + NUL + seq, seq being the line's number within
// the whole run (0, 1, 2… over all stages).
func logKey(id int64, stage string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(stagePrefix(id, stage), seq)
}

// artKey is run + stage + NUL + name.
func artKey(id int64, stage, name string) []byte {
	return append(stagePrefix(id, stage), name...)
}

// splitStageKey returns the stage part of a log or artifact key and what
// follows its NUL.
func splitStageKey(k []byte) (stage string, rest []byte, ok bool) {
	if len(k) < 9 {
		return "", nil, false
	}
	i := bytes.IndexByte(k[8:], 0)
	if i < 0 {
		return "", nil, false
	}
	return string(k[8 : 8+i]), k[8+i+1:], true
}

func u64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func putU64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// runRecord is the stored form of a run: {"v":1,"run":{…}}.
type runRecord struct {
	V   int         `json:"v"`
	Run *engine.Run `json:"run"`
}

func encodeRun(r *engine.Run) ([]byte, error) {
	return json.Marshal(runRecord{V: recordVersion, Run: r})
}

func decodeRun(b []byte) (*engine.Run, error) {
	var rec runRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("decode run: %w", err)
	}
	if err := checkRecordVersion(rec.V); err != nil {
		return nil, err
	}
	if rec.Run == nil {
		return nil, fmt.Errorf("decode run: no run in record")
	}
	return rec.Run, nil
}

func checkRecordVersion(v int) error {
	if v < 1 || v > recordVersion {
		return fmt.Errorf("%w: record version %d, this sluice reads up to %d", ErrSchema, v, recordVersion)
	}
	return nil
}

// RunSummary is the part of a run that lists show, kept in its own
// bucket so that listing thousands of runs reads little. It is the
// engine's type, so consumers (the workbench) need not import store.
type RunSummary = engine.RunSummary

// Summarize returns the summary of a run, as Runs lists it.
func Summarize(r *engine.Run) RunSummary { return engine.Summarize(r) }

// summaryRecord is the stored form of a summary: {"v":1,"id":…,…}.
type summaryRecord struct {
	V int `json:"v"`
	RunSummary
}

func encodeSummary(r *engine.Run) ([]byte, error) {
	return json.Marshal(summaryRecord{V: recordVersion, RunSummary: Summarize(r)})
}

func decodeSummary(b []byte) (RunSummary, error) {
	var rec summaryRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return RunSummary{}, fmt.Errorf("decode summary: %w", err)
	}
	if err := checkRecordVersion(rec.V); err != nil {
		return RunSummary{}, err
	}
	return rec.RunSummary, nil
}

// logRecord is the stored form of a log line; the stage is in its key.
type logRecord struct {
	T time.Time `json:"t"`
	S string    `json:"s,omitempty"`
	X string    `json:"x"`
	// F is the cross-validation fold the line reports (tuning stages).
	F *engine.CandidateFold `json:"f,omitempty"`
}

// previewRecord is the stored form of a preview: {"v":1,"preview":{…}}.
type previewRecord struct {
	V       int             `json:"v"`
	Preview *engine.Preview `json:"preview"`
}

// artInfoRecord is the stored description of an artifact: {"v":1,"info":{…}}.
type artInfoRecord struct {
	V    int                 `json:"v"`
	Info engine.ArtifactInfo `json:"info"`
}

func encodeArtInfo(info engine.ArtifactInfo) ([]byte, error) {
	return json.Marshal(artInfoRecord{V: recordVersion, Info: info})
}
