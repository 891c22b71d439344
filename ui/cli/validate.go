package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
)

func (e *env) validateCmd() *cobra.Command {
	var sets []string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check pipeline files without running them",
		Long: `Validate parses each pipeline file and checks it against the stage catalog:
stage types and parameters, types and ranges, ids, needs (missing or cyclic),
the kind of data each stage is fed, input files, and expressions against the
columns that reach them. Every problem is listed as file:line:col: message.

Exit status: 0 all files are valid, 2 any is not.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			overrides, err := parseOverrides(sets)
			if err != nil {
				return err
			}
			bad := 0
			for _, file := range args {
				plan, err := engine.LoadPlan(file, e.reg, overrides)
				if err != nil {
					bad++
					var list engine.ErrorList
					if errors.As(err, &list) {
						for _, p := range list {
							fmt.Fprintln(e.stderr, p.Error())
						}
						fmt.Fprintf(e.stderr, "%s: %d problem%s\n", file, len(list), plural(len(list)))
					} else {
						fmt.Fprintf(e.stderr, "%s: %v\n", file, err)
					}
					continue
				}
				fmt.Fprintf(e.stdout, "%s: ok (%s, %d stage%s)\n", file, plan.Spec.Name, len(plan.Stages), plural(len(plan.Stages)))
			}
			if bad > 0 {
				return silentExit(ExitInvalid)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&sets, "set", nil, "check with a parameter overridden: STAGE.PARAM=VALUE (repeatable)")
	return cmd
}
