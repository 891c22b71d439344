package store

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// migrate brings a store of an older schema version to SchemaVersion,
// in one transaction: either the whole migration commits or nothing
// changes. It only reads when there is nothing to do.
func (db *DB) migrate(ctx context.Context) error {
	old, missing := 0, false
	err := db.do(ctx, false, false, func(tx *bolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m != nil {
			old, _ = strconv.Atoi(string(m.Get(keySchema)))
		}
		for _, name := range allBuckets {
			missing = missing || tx.Bucket(name) == nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	if old == SchemaVersion && missing {
		// A bucket this version added after its first stores (trash).
		return db.do(ctx, true, false, func(tx *bolt.Tx) error {
			for _, name := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return fmt.Errorf("create %s bucket: %w", name, err)
				}
			}
			return nil
		})
	}
	if old != 1 {
		return nil // a newer or unknown version fails the schema check
	}
	return db.do(ctx, true, false, func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || string(m.Get(keySchema)) != "1" {
			return nil // another process migrated it meanwhile
		}
		return db.migrateV1(ctx, tx)
	})
}

// migrateV1 moves the artifacts' bytes out of bbolt into the artifact
// store (their keys, the SHA-256 of the bytes, were already recorded),
// adds the buckets version 2 has, and sets the version.
func (db *DB) migrateV1(ctx context.Context, tx *bolt.Tx) error {
	if blobs := tx.Bucket(bucketBlobsV1); blobs != nil {
		if db.opts.Artifacts == nil {
			return fmt.Errorf("%w: schema version 1 keeps artifacts in the database; migrating it needs an artifact store", ErrSchema)
		}
		infos := tx.Bucket(bucketArtInfo)
		err := blobs.ForEach(func(k, v []byte) error {
			key, _, err := db.opts.Artifacts.Put(ctx, bytes.NewReader(v))
			if err != nil {
				return fmt.Errorf("migrate artifact: %w", err)
			}
			if infos == nil {
				return nil
			}
			iv := infos.Get(k)
			if iv == nil {
				return nil
			}
			info, err := decodeArtInfo(iv)
			if err != nil {
				return err
			}
			if info.SHA256 == key && info.Size == len(v) {
				return nil
			}
			info.SHA256, info.Size = key, len(v)
			b, err := encodeArtInfo(info)
			if err != nil {
				return err
			}
			return infos.Put(bytes.Clone(k), b)
		})
		if err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketBlobsV1); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("migrate: create %s bucket: %w", name, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
}
