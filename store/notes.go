package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
)

// Annotations (tags and a note) live in a bucket of their own, keyed by
// run number, so that the executor's snapshots of a running run never
// overwrite them: Run and Runs fill them in when they read.

var bucketNotes = []byte("notes")

// notesRecord is the stored form of a run's annotations:
// {"v":1,"tags":[…],"note":"…"}.
type notesRecord struct {
	V    int      `json:"v"`
	Tags []string `json:"tags,omitempty"`
	Note string   `json:"note,omitempty"`
}

// CheckTag returns an error for a tag that is not letters, digits and
// . _ - (at most 64 of them), so tags stay one word in queries.
func CheckTag(tag string) error {
	if tag == "" || len(tag) > 64 {
		return fmt.Errorf("tag %q: want 1 to 64 letters, digits, '.', '_' or '-'", tag)
	}
	for _, r := range tag {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-", r) {
			return fmt.Errorf("tag %q: want letters, digits, '.', '_' or '-', not %q", tag, r)
		}
	}
	if strings.HasPrefix(tag, "-") {
		return fmt.Errorf("tag %q: must not start with '-' (it would read as a negation in queries)", tag)
	}
	return nil
}

// Tag adds tags to a run (those it has already are kept once) and
// returns its tags, sorted. It returns an error wrapping
// engine.ErrNotFound for a run that is not there, ErrReadOnly on a
// read-only store, and an error naming a malformed tag (see CheckTag)
// before writing anything.
func (db *DB) Tag(ctx context.Context, id int64, tags ...string) ([]string, error) {
	for _, t := range tags {
		if err := CheckTag(t); err != nil {
			return nil, err
		}
	}
	var out []string
	err := db.annotate(ctx, id, func(n *notesRecord) {
		for _, t := range tags {
			if !slices.Contains(n.Tags, t) {
				n.Tags = append(n.Tags, t)
			}
		}
		slices.Sort(n.Tags)
		out = slices.Clone(n.Tags)
	})
	if err != nil {
		return nil, fmt.Errorf("tag run %d: %w", id, err)
	}
	return out, nil
}

// Untag removes tags from a run and returns the tags left. Removing a tag
// the run does not have is not an error. Errors are as for Tag.
func (db *DB) Untag(ctx context.Context, id int64, tags ...string) ([]string, error) {
	var out []string
	err := db.annotate(ctx, id, func(n *notesRecord) {
		n.Tags = slices.DeleteFunc(n.Tags, func(t string) bool { return slices.Contains(tags, t) })
		out = slices.Clone(n.Tags)
	})
	if err != nil {
		return nil, fmt.Errorf("untag run %d: %w", id, err)
	}
	return out, nil
}

// SetNote replaces a run's note ("" removes it). Surrounding blank lines
// are trimmed. Errors are as for Tag.
func (db *DB) SetNote(ctx context.Context, id int64, note string) error {
	note = strings.TrimSpace(note)
	if err := db.annotate(ctx, id, func(n *notesRecord) { n.Note = note }); err != nil {
		return fmt.Errorf("note on run %d: %w", id, err)
	}
	return nil
}

// annotate changes a run's annotations in one transaction.
func (db *DB) annotate(ctx context.Context, id int64, change func(*notesRecord)) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		runs, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		if runs.Get(runKey(id)) == nil {
			return engine.ErrNotFound
		}
		b, err := tx.CreateBucketIfNotExists(bucketNotes)
		if err != nil {
			return fmt.Errorf("create notes bucket: %w", err)
		}
		n, err := decodeNotes(b.Get(runKey(id)))
		if err != nil {
			return err
		}
		change(&n)
		if len(n.Tags) == 0 && n.Note == "" {
			return b.Delete(runKey(id))
		}
		n.V = recordVersion
		v, err := json.Marshal(n)
		if err != nil {
			return err
		}
		return b.Put(runKey(id), v)
	})
}

func decodeNotes(v []byte) (notesRecord, error) {
	var n notesRecord
	if v == nil {
		return n, nil
	}
	if err := json.Unmarshal(v, &n); err != nil {
		return n, fmt.Errorf("decode notes: %w", err)
	}
	return n, checkRecordVersion(n.V)
}

// notesOf returns a function giving a run's annotations within tx; it
// gives nothing at all when no run has any (the common case, at no cost).
func notesOf(tx *bolt.Tx) func(id int64) (tags []string, note string) {
	b := tx.Bucket(bucketNotes)
	if b == nil {
		return func(int64) ([]string, string) { return nil, "" }
	}
	if k, _ := b.Cursor().First(); k == nil {
		return func(int64) ([]string, string) { return nil, "" }
	}
	return func(id int64) ([]string, string) {
		n, err := decodeNotes(b.Get(runKey(id)))
		if err != nil {
			return nil, ""
		}
		return n.Tags, n.Note
	}
}
