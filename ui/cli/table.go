package cli

import (
	"io"
	"text/tabwriter"
)

// newTable returns a tab-aligned writer for plain listings.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}
