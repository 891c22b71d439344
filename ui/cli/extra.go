package cli

import "github.com/spf13/cobra"

// extraCmds are the model commands (compare, export, predict).
func (e *env) extraCmds() []*cobra.Command { return nil }
