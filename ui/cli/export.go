package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/store"
)

// modelArtifact finds a run's model: the given stage's, or the last model
// in pipeline order.
func (e *env) modelArtifact(db *store.DB, run *engine.Run, stage string) ([]byte, engine.ArtifactInfo, error) {
	var candidates []string
	for _, s := range run.Stages {
		for _, a := range s.Artifacts {
			if a.Name == "model" {
				candidates = append(candidates, s.ID)
			}
		}
	}
	if len(candidates) == 0 {
		return nil, engine.ArtifactInfo{}, usageErr(fmt.Errorf("run %d has no fitted model", run.ID))
	}
	if stage == "" {
		stage = candidates[len(candidates)-1]
		// export_model passes a model through; prefer the stage that fitted it.
		for _, s := range run.Stages {
			if s.ID == stage && s.Uses == "export_model" && len(s.Needs) == 1 {
				stage = s.Needs[0]
			}
		}
	} else if !containsString(candidates, stage) {
		return nil, engine.ArtifactInfo{}, usageErr(fmt.Errorf("run %d has no model from stage %q (models: %s)", run.ID, stage, strings.Join(candidates, ", ")))
	}
	data, info, err := db.Artifact(e.ctx, run.ID, stage, "model")
	if err != nil {
		return nil, info, usageErr(err)
	}
	return data, info, nil
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// exportModel writes a run's model file to path atomically, in the
// named format (stages.ModelFileSluice, the file as the run kept it, or
// stages.ModelFileJSON), and returns the SHA-256 of what it wrote.
func (e *env) exportModel(db *store.DB, id int64, stage, path string, allowOutside bool, format string) (string, string, error) {
	// Checked first, to refuse before any work; the write checks again.
	if _, err := engine.OutputPath(".", path, allowOutside); err != nil {
		return "", "", usageErr(err)
	}
	run, err := db.Run(e.ctx, id)
	if err != nil {
		return "", "", usageErr(err)
	}
	data, info, err := e.modelArtifact(db, run, stage)
	if err != nil {
		return "", "", err
	}
	sum, _, err := stages.ExportModelFileTo(fmt.Sprintf("run %d stage %s", id, info.Stage), data, format, func(write func(io.Writer) error) error {
		_, err := engine.WriteOutput(".", path, allowOutside, write)
		return err
	})
	if err != nil {
		return "", "", usageErr(err)
	}
	return sum, info.Stage, nil
}

func (e *env) exportCmd() *cobra.Command {
	var stage, out, format string
	var allowOutside bool
	cmd := &cobra.Command{
		Use:   "export MODEL -o FILE",
		Short: "Write a run's fitted model to a file that predicts on raw rows",
		Long: `Export writes the model a run fitted (the last one in pipeline order, or
--stage's) as one self-describing, versioned, checksummed file: input schema,
preprocessing chain, estimator, metrics and where it came from. The default
format (sluice, model format 2) packs the learned values compactly; --format
json writes model format 1, one JSON document. sluice predict reads both.
The file is written atomically; a path outside the current folder needs
--allow-outside. MODEL is RUN (a run number or latest), RUN:STAGE or
NAME@ALIAS.`,
		Example: "  sluice export latest -o iris.model\n  sluice export 4 --stage forest --format json -o forest.json\n  sluice export iris@champion -o champion.model",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErr(errors.New("export needs -o FILE"))
			}
			if format != stages.ModelFileSluice && format != stages.ModelFileJSON {
				return usageErr(fmt.Errorf("--format %q: want %s or %s", format, stages.ModelFileSluice, stages.ModelFileJSON))
			}
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			ref, err := engine.ParseModelRef(args[0])
			if err != nil {
				return usageErr(err)
			}
			if stage != "" {
				if ref.Stage != "" && ref.Stage != stage {
					return usageErr(fmt.Errorf("%s names stage %s, --stage %s", args[0], ref.Stage, stage))
				}
				ref.Stage = stage
			}
			run, st, err := db.ResolveModel(e.ctx, ref)
			if err != nil {
				return usageErr(err)
			}
			id := run.ID
			sum, st, err := e.exportModel(db, id, st, out, allowOutside, format)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "wrote %s (run %d, stage %s, sha256 %s)\n", out, id, st, sum)
			return nil
		},
	}
	cmd.Flags().StringVar(&stage, "stage", "", "the stage whose model to export (default: the last model)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write")
	cmd.Flags().StringVar(&format, "format", stages.ModelFileSluice, "file format: sluice (model format 2) or json (model format 1)")
	cmd.Flags().BoolVar(&allowOutside, "allow-outside", false, "allow a path outside the current folder (symbolic links followed)")
	return cmd
}
