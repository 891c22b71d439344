package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
)

// The model registry: aliases like iris@champion naming one run's model,
// one record per NAME@ALIAS keyed by that text, each with its history.
// A removed alias keeps its record (and history) with no run.

var bucketAliases = []byte("aliases")

type aliasRecord struct {
	V int `json:"v"`
	engine.Alias
}

// SetAlias points NAME@ALIAS at the model of run's stage ("" for the run's
// model, see engine.Run.ModelStage) and returns the alias. The run must
// be of pipeline name and hold that model; errors wrap engine.ErrNotFound
// when it does not, and say why for a bad alias or a run of another
// pipeline. latest cannot be set: it always means the newest run.
func (db *DB) SetAlias(ctx context.Context, name, alias string, run int64, stage string) (engine.Alias, error) {
	var out engine.Alias
	if err := engine.CheckAlias(alias); err != nil {
		return out, err
	}
	if alias == engine.LatestAlias {
		return out, fmt.Errorf("%s@%s always means the pipeline's newest run with a model; choose another alias", name, alias)
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		r, err := runIn(tx, run)
		if err != nil {
			return err
		}
		if r.Pipeline != name {
			return fmt.Errorf("run %d is of pipeline %s, not %s", run, r.Pipeline, name)
		}
		st, err := r.ModelStage(stage)
		if err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists(bucketAliases)
		if err != nil {
			return fmt.Errorf("create %s bucket: %w", bucketAliases, err)
		}
		key := []byte(name + "@" + alias)
		rec, err := decodeAlias(b.Get(key))
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		rec.Name, rec.Alias.Alias, rec.Run, rec.Stage, rec.Set = name, alias, run, st, now
		rec.History = append(rec.History, engine.AliasChange{Run: run, Stage: st, Time: now})
		rec.V = recordVersion
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		out = rec.Alias
		return b.Put(key, v)
	})
	if err != nil {
		return out, fmt.Errorf("alias %s@%s: %w", name, alias, err)
	}
	return out, nil
}

// RemoveAlias removes NAME@ALIAS, keeping its history. It returns an error
// wrapping engine.ErrNotFound when the alias is not set.
func (db *DB) RemoveAlias(ctx context.Context, name, alias string) error {
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAliases)
		if b == nil {
			return engine.ErrNotFound
		}
		key := []byte(name + "@" + alias)
		rec, err := decodeAlias(b.Get(key))
		if err != nil {
			return err
		}
		if rec.Run == 0 {
			return engine.ErrNotFound
		}
		now := time.Now().UTC()
		rec.Run, rec.Stage, rec.Set = 0, "", now
		rec.History = append(rec.History, engine.AliasChange{Time: now, Removed: true})
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return b.Put(key, v)
	})
	if err != nil {
		return fmt.Errorf("alias %s@%s: %w", name, alias, err)
	}
	return nil
}

// Aliases returns the aliases of pipeline name ("": of every pipeline),
// sorted by name and alias; removed ones only with removed set.
func (db *DB) Aliases(ctx context.Context, name string, removed bool) ([]engine.Alias, error) {
	var out []engine.Alias
	err := db.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAliases)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if name != "" && !strings.HasPrefix(string(k), name+"@") {
				return nil
			}
			rec, err := decodeAlias(v)
			if err != nil {
				return err
			}
			if rec.Run == 0 && !removed {
				return nil
			}
			out = append(out, rec.Alias)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("aliases: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Alias < out[j].Alias
	})
	return out, nil
}

// ResolveModel finds the run and stage a model address stands for.
// NAME@latest is the newest successful run of pipeline NAME with a
// model. Errors wrap engine.ErrNotFound for an address that names
// nothing.
func (db *DB) ResolveModel(ctx context.Context, ref engine.ModelRef) (*engine.Run, string, error) {
	id, stage := ref.Run, ref.Stage
	switch {
	case ref.Alias == engine.LatestAlias:
		runs, err := db.Runs(ctx, RunFilter{Pipeline: ref.Name, Status: []engine.Status{engine.StatusSucceeded}})
		if err != nil {
			return nil, "", err
		}
		for _, s := range runs {
			r, err := db.Run(ctx, s.ID)
			if err != nil {
				return nil, "", err
			}
			if st, err := r.ModelStage(""); err == nil {
				return r, st, nil
			}
		}
		return nil, "", fmt.Errorf("%s: no successful run of pipeline %s has a model: %w", ref, ref.Name, engine.ErrNotFound)
	case ref.Alias != "":
		var rec aliasRecord
		err := db.view(ctx, func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketAliases)
			if b == nil {
				return engine.ErrNotFound
			}
			var err error
			rec, err = decodeAlias(b.Get([]byte(ref.Name + "@" + ref.Alias)))
			if err == nil && rec.Run == 0 {
				err = engine.ErrNotFound
			}
			return err
		})
		if errors.Is(err, engine.ErrNotFound) {
			return nil, "", fmt.Errorf("%s: no such alias (sluice alias set %s RUN sets it): %w", ref, ref, engine.ErrNotFound)
		}
		if err != nil {
			return nil, "", err
		}
		id, stage = rec.Run, rec.Stage
	case ref.Latest:
		var err error
		if id, err = db.Latest(ctx, ""); err != nil {
			return nil, "", fmt.Errorf("%s: %w", ref, err)
		}
	}
	r, err := db.Run(ctx, id)
	if err != nil {
		return nil, "", err
	}
	st, err := r.ModelStage(stage)
	if err != nil {
		return nil, "", err
	}
	return r, st, nil
}

func runIn(tx *bolt.Tx, id int64) (*engine.Run, error) {
	runs, err := bucket(tx, bucketRuns)
	if err != nil {
		return nil, err
	}
	v := runs.Get(runKey(id))
	if v == nil {
		return nil, fmt.Errorf("run %d: %w", id, engine.ErrNotFound)
	}
	return decodeRun(v)
}

func decodeAlias(v []byte) (aliasRecord, error) {
	var rec aliasRecord
	if v == nil {
		return rec, nil
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, fmt.Errorf("decode alias record: %w", err)
	}
	if rec.V > recordVersion {
		return rec, fmt.Errorf("%w: alias record version %d", ErrSchema, rec.V)
	}
	return rec, nil
}
