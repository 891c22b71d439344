// Package artifacts keeps sluice's stage outputs as content-addressed
// files in a folder: by default `.sluice/artifacts/`, beside the run
// database. It implements engine.ArtifactStore with the standard library
// only.
//
//	dir, err := artifacts.Open(".sluice/artifacts")
//	if err != nil { … }
//	key, size, err := dir.Put(ctx, r)   // key: hex SHA-256 of the bytes
//	rc, err := dir.Get(ctx, key)        // verified as it is read
//
// # Overview
//
// A blob lives at sha256/<first two hex digits>/<64 hex digits> under
// the folder, named by the SHA-256 of its bytes, so equal outputs are
// stored once and a name never changes meaning. The two-digit fan-out
// keeps folders small on file systems that slow down with many entries.
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
// A missing key gives an error wrapping fs.ErrNotExist; a malformed key
// ErrBadKey; bytes that do not match their key ErrCorrupt.
//
// # Caveats
//
// Modification times decide what a garbage collector may remove, so the
// folder's clock should be the clock of the processes writing to it (a
// local disk, not a share between hosts).
package artifacts
