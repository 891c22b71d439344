// Package frame is sluice's columnar table: named, typed columns with
// missing values, the operations the data stages need, and fast CSV and
// JSONL reading and writing.
//
// # Overview
//
// A [Frame] holds equally long [Column] values, each of one [Type]: Float
// (float64), Int (int64), Bool, String (dictionary-encoded, so a
// categorical column costs four bytes a row plus its distinct values) or
// Time (Unix nanoseconds, UTC). The data sits in plain typed slices
// (Column.Floats, Column.Ints, ...), so numeric code can read it without
// copying or boxing.
//
// Frames are immutable values: [Frame.Select], [Frame.Take],
// [Frame.SortBy], [Frame.Dedupe], [Frame.DropNA], [Frame.Cast], [Concat],
// [Join] and the others return new frames and share unchanged columns.
// [Frame.Take] gathers rows and is what filtering, sorting, sampling and
// splitting build on. [Frame.Describe] summarises columns the way pandas'
// describe does, and [Frame.Hash] feeds a deterministic content hash for
// stage fingerprints.
//
// [ReadCSV] parses RFC 4180 CSV in parallel blocks and infers column types;
// [ReadJSONL] reads one JSON object per line. [WriteCSV] and [WriteJSONL]
// write them back so that a read with the same Schema gives the same values
// (and inference the same types, except for strings that look like
// numbers, bools or times). Writers take an [io.Writer]: making a file
// whole or not at all is the caller's (sluice's engine writes files
// atomically).
// A 1,000,000 × 20 numeric CSV reads into a frame of exactly its float64
// size; the input is never held in memory at once when it is a file.
//
// # Missing values
//
// Each column has a bitset of missing values, nil when none is missing, so
// a complete column costs nothing extra. [Column.IsNull] reads it. At a
// missing position the data slice holds a placeholder: NaN in Floats (and a
// NaN is always missing: constructors and [New] mark it), 0 in Ints and
// Times, false in Bools and -1 in Codes. Readers treat empty unquoted
// fields and the [ReadOptions] NullValues as missing; a quoted field never
// is. Writers write missing values as empty fields (CSV) and null (JSONL).
// Operations keep missing values missing; [Frame.SortBy] puts them last,
// [Frame.Dedupe] treats them as equal to each other and [Join] never
// matches them.
//
// # Concurrency
//
// A Frame and its Columns may be read from any number of goroutines at
// once; nothing in them changes after construction. A Column must not be
// modified once it is in a Frame. A [Builder] is not safe for concurrent
// use. ReadCSV, ReadJSONL, WriteCSV, WriteJSONL, Take and Describe use
// several goroutines internally (ReadOptions.Workers, default GOMAXPROCS)
// and return only when all have finished; the Progress callback is called
// from them, one call at a time.
//
// # Errors
//
// Problems in input data are returned as errors, never panics: a
// *[ParseError] ("file:line:col: message", line and character column
// 1-based) wrapping one of the sentinels [ErrFieldCount], [ErrQuote],
// [ErrBadValue], [ErrUTF8], [ErrNoHeader], [ErrDuplicateName] or [ErrJSON].
// Operations return errors wrapping [ErrNoColumn], [ErrDuplicateName],
// [ErrLength], [ErrType] or [ErrBadValue]; test them with errors.Is.
// Caller bugs panic with a "frame: " message: a row index out of range, a
// typed Builder method on a builder of another type, a constructor given
// a null mask of the wrong length.
//
// # Caveats
//
//   - A quoted CSV field is never missing: "" and "NA" in quotes are
//     strings. This is what lets WriteCSV round-trip empty strings, but a
//     file whose missing values are written as "" reads them as strings
//     (cast the column to turn them into missing values).
//   - Numbers with surrounding spaces are strings until cast (Cast trims).
//   - Type inference looks at every value: one stray word makes a numeric
//     column String. Use ReadOptions.Schema to insist on a type and get an
//     error that points at the bad field instead.
//   - Blank lines are skipped, except in a one-column table, where a blank
//     line is a missing value (so that WriteCSV's output reads back).
//   - Times are held to the nanosecond in UTC; the zone offset of an input
//     time is applied and then dropped. Only the years 1678–2261 fit.
//   - Integers beyond int64 are read as floats; floats keep the exact value
//     strconv.ParseFloat gives.
//   - Float, Time and Int conversions in Cast use Unix seconds for times.
//   - ReadCSV reads a non-file reader (a pipe, a network stream) wholly
//     into memory before building the columns; a file is read twice
//     instead (once to find record boundaries, once to parse).
package frame
