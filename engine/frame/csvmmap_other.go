//go:build !linux

package frame

import "os"

// mapFile maps files on Linux only; elsewhere ReadCSV reads them with
// ReadAt.
func mapFile(*os.File) *mappedFile { return nil }

// hugePages advises huge pages on Linux only.
func hugePages([]byte) {}
