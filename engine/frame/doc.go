// Package frame is sluice's columnar table: typed columns with missing
// values, and fast CSV and JSONL reading and writing.
package frame
