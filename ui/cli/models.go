package cli

import (
	"github.com/spf13/cobra"
)

// extraCmds are the commands on runs' models, one file each: compare
// (compare.go), export (export.go) and predict (predict.go).
func (e *env) extraCmds() []*cobra.Command {
	return []*cobra.Command{e.compareCmd(), e.exportCmd(), e.predictCmd()}
}
