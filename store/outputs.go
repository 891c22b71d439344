package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
)

// Logs returns the log lines of a run's stage, or of the whole run when
// stage is "", in the order they were recorded, skipping the first from
// lines of that selection: a caller that follows a log passes the number
// of lines it already has. It returns an error wrapping
// engine.ErrNotFound if there is no such run; a stage that logged
// nothing gives no lines and no error.
func (db *DB) Logs(ctx context.Context, run int64, stage string, from int) ([]engine.LogLine, error) {
	var out []engine.LogLine
	err := db.view(ctx, func(tx *bolt.Tx) error {
		if err := runExists(tx, run); err != nil {
			return err
		}
		b, err := bucket(tx, bucketLogs)
		if err != nil {
			return err
		}
		if stage != "" {
			out, err = stageLogs(b, run, stage, from)
		} else {
			out, err = runLogs(b, run, from)
		}
		return err
	})
	if err != nil {
		if stage == "" {
			return nil, fmt.Errorf("logs of run %d: %w", run, err)
		}
		return nil, fmt.Errorf("logs of run %d stage %s: %w", run, stage, err)
	}
	return out, nil
}

// stageLogs reads one stage's lines after skipping from of them.
func stageLogs(b *bolt.Bucket, run int64, stage string, from int) ([]engine.LogLine, error) {
	prefix := stagePrefix(run, stage)
	c := b.Cursor()
	k, v := c.Seek(prefix)
	for i := 0; i < from && k != nil && bytes.HasPrefix(k, prefix); i++ {
		k, v = c.Next()
	}
	var out []engine.LogLine
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		l, err := decodeLog(stage, v)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// runLogs reads the lines numbered from on of every stage of a run and
// puts them in recorded order. Each stage's lines are one key range, in
// line-number order, so it seeks once per stage.
func runLogs(b *bolt.Bucket, run int64, from int) ([]engine.LogLine, error) {
	type numbered struct {
		seq  uint64
		line engine.LogLine
	}
	var all []numbered
	prefix := runKey(run)
	c := b.Cursor()
	k, _ := c.Seek(prefix)
	for k != nil && bytes.HasPrefix(k, prefix) {
		stage, _, ok := splitStageKey(k)
		if !ok { // the run's line counter
			k, _ = c.Next()
			continue
		}
		sp := stagePrefix(run, stage)
		var v []byte
		for k, v = c.Seek(logKey(run, stage, uint64(max(from, 0)))); k != nil && bytes.HasPrefix(k, sp); k, v = c.Next() {
			l, err := decodeLog(stage, v)
			if err != nil {
				return nil, err
			}
			all = append(all, numbered{u64(k[len(sp):]), l})
		}
		// Jump past this stage: NUL+1 sorts after all its keys and
		// before any other stage's.
		k, _ = c.Seek(append(stageKey(run, stage), 1))
	}
	slices.SortFunc(all, func(a, b numbered) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	if len(all) == 0 {
		return nil, nil
	}
	out := make([]engine.LogLine, len(all))
	for i, n := range all {
		out[i] = n.line
	}
	return out, nil
}

func decodeLog(stage string, v []byte) (engine.LogLine, error) {
	var rec logRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return engine.LogLine{}, fmt.Errorf("decode log line: %w", err)
	}
	return engine.LogLine{Stage: stage, Time: rec.T, Stream: rec.S, Text: rec.X, Fold: rec.F}, nil
}

func runExists(tx *bolt.Tx, run int64) error {
	runs, err := bucket(tx, bucketRuns)
	if err != nil {
		return err
	}
	if runs.Get(runKey(run)) == nil {
		return fmt.Errorf("no run %d: %w", run, engine.ErrNotFound)
	}
	return nil
}

// Preview returns the preview of a stage's table output, or an error
// wrapping engine.ErrNotFound if the run or the preview is not there.
func (db *DB) Preview(ctx context.Context, run int64, stage string) (*engine.Preview, error) {
	var p *engine.Preview
	err := db.view(ctx, func(tx *bolt.Tx) error {
		b, err := bucket(tx, bucketPreviews)
		if err != nil {
			return err
		}
		v := b.Get(stageKey(run, stage))
		if v == nil {
			if err := runExists(tx, run); err != nil {
				return err
			}
			return fmt.Errorf("no preview: %w", engine.ErrNotFound)
		}
		var rec previewRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode preview: %w", err)
		}
		if err := checkRecordVersion(rec.V); err != nil {
			return err
		}
		p = rec.Preview
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("preview of run %d stage %s: %w", run, stage, err)
	}
	return p, nil
}

// Artifact returns the bytes and description of an artifact a stage
// kept (a fitted model, a report), read from Options.Artifacts and
// verified against its key, or an error wrapping engine.ErrNotFound if
// the run or the artifact is not there (fs.ErrNotExist too if the run
// refers to bytes the artifact store no longer has). The bytes are the
// caller's.
func (db *DB) Artifact(ctx context.Context, run int64, stage, name string) ([]byte, engine.ArtifactInfo, error) {
	var info engine.ArtifactInfo
	err := db.view(ctx, func(tx *bolt.Tx) error {
		ib, err := bucket(tx, bucketArtInfo)
		if err != nil {
			return err
		}
		iv := ib.Get(artKey(run, stage, name))
		if iv == nil {
			if err := runExists(tx, run); err != nil {
				return err
			}
			return fmt.Errorf("no artifact: %w", engine.ErrNotFound)
		}
		info, err = decodeArtInfo(iv)
		return err
	})
	if err == nil {
		var data []byte
		if data, err = db.readArtifact(ctx, info); err == nil {
			return data, info, nil
		}
	}
	return nil, engine.ArtifactInfo{}, fmt.Errorf("artifact %s of run %d stage %s: %w", name, run, stage, err)
}

// readArtifact reads an artifact's bytes from the artifact store, taking
// no more memory than its reference declares.
func (db *DB) readArtifact(ctx context.Context, info engine.ArtifactInfo) ([]byte, error) {
	arts := db.opts.Artifacts
	if arts == nil {
		return nil, errors.New("no artifact store")
	}
	size, err := arts.Size(ctx, info.SHA256)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("its bytes are gone from the artifact store: %w (%w)", engine.ErrNotFound, err)
		}
		return nil, err
	}
	if size != int64(info.Size) {
		return nil, fmt.Errorf("the artifact store holds %d bytes, the run recorded %d", size, info.Size)
	}
	return engine.ReadArtifact(ctx, arts, info.SHA256)
}

// Artifacts describes every artifact of a run, ordered by stage id and
// name. It returns an error wrapping engine.ErrNotFound if there is no
// such run.
func (db *DB) Artifacts(ctx context.Context, run int64) ([]engine.ArtifactInfo, error) {
	var out []engine.ArtifactInfo
	err := db.view(ctx, func(tx *bolt.Tx) error {
		if err := runExists(tx, run); err != nil {
			return err
		}
		b, err := bucket(tx, bucketArtInfo)
		if err != nil {
			return err
		}
		prefix := runKey(run)
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			info, err := decodeArtInfo(v)
			if err != nil {
				return err
			}
			out = append(out, info)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("artifacts of run %d: %w", run, err)
	}
	return out, nil
}

func decodeArtInfo(v []byte) (engine.ArtifactInfo, error) {
	var rec artInfoRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return engine.ArtifactInfo{}, fmt.Errorf("decode artifact info: %w", err)
	}
	if err := checkRecordVersion(rec.V); err != nil {
		return engine.ArtifactInfo{}, err
	}
	return rec.Info, nil
}
