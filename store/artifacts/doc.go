// Package artifacts keeps sluice's stage outputs as content-addressed
// blobs: in a folder (Dir; by default `.sluice/artifacts/`, beside the
// run database) or in an S3 bucket under a prefix (S3, through
// minio-go). Both implement engine.ArtifactStore and engine.RefStore
// (the method sets are spelled out in Store: the package does not import
// engine). OpenURL opens either from a location: a folder, file://PATH or
// s3://BUCKET/PREFIX.
//
//	dir, err := artifacts.Open(".sluice/artifacts")
//	if err != nil { … }
//	key, size, err := dir.Put(ctx, r)   // key: hex SHA-256 of the bytes
//	rc, err := dir.Get(ctx, key)        // verified as it is read
//
// # S3
//
// An S3 store keeps sha256/<key> (the blobs), refs/<name>, touch/<key>
// (written by a Put that found its blob present: its time counts as the
// blob's) and gc/ (what a collector has in hand) under its prefix. Put
// spools the bytes to a local temporary file while hashing them, then
// uploads them in one request (or a multipart upload, which becomes
// visible only when complete), the server checking their MD5; Get hashes
// what it streams. Having no rename, DeleteBefore copies a blob aside,
// deletes it, looks at its touch and copies it back if a Put touched it
// meanwhile. Object times are the server's: the store measures the
// server's clock against its own (writing a small object and reading its
// time back) and errs toward keeping a blob. Endpoint, region and
// credentials come from S3Options, which OpenURL fills from the standard
// environment (S3OptionsFromEnv and the AWS credential chain).
//
// # Overview
//
// A blob lives at sha256/<first two hex digits>/<64 hex digits> under
// the folder, named by the SHA-256 of its bytes, so equal outputs are
// stored once and a name never changes meaning. The two-digit fan-out
// keeps folders small on file systems that slow down with many entries.
//
// # Refs
//
// Dir also implements engine.RefStore: PutRef points a name (a stage
// fingerprint, lowercase hex) at a key, GetRef reads it back. A ref is a
// small file refs/<first two digits>/<name> holding the key, replaced
// atomically, so a stage computed by one process is found by its
// fingerprint in any other that shares the folder. Refs are not blobs:
// List does not see them, and a ref may name a blob a collector has
// since removed.
//
// # Durability
//
// Put streams the bytes into a temporary file (".tmp-*") in the folder
// while hashing them, fsyncs it, renames it to its final name and
// fsyncs the folder it landed in. A crash leaves either the whole blob
// under its name or a temporary file that no key names (RemoveTemp
// clears those). Get hashes what it reads and fails at the end if the
// bytes do not match the name, so a blob damaged after the fact is never
// trusted.
//
// # Concurrency
//
// A *Dir is safe for concurrent use by goroutines and by processes
// sharing the folder: writers of the same content race only to rename
// identical bytes to the same name. DeleteBefore lets a garbage
// collector remove a blob only if no writer refreshed it since a cutoff,
// without a lock: it moves the blob aside atomically, looks at the time
// of what it moved, and puts it back if a Put touched it meanwhile.
//
// # Errors
//
// A missing key or ref gives an error wrapping fs.ErrNotExist; a
// malformed key ErrBadKey, a malformed ref name ErrBadRef; bytes that do
// not match their key (or a ref file that holds no key) ErrCorrupt.
//
// # Caveats
//
// Modification times decide what a garbage collector may remove, so the
// folder's clock should be the clock of the processes writing to it (a
// local disk, not a share between hosts).
package artifacts
