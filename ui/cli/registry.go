package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
)

func (e *env) registryCmds() []*cobra.Command {
	return []*cobra.Command{e.modelsCmd(), e.aliasCmd(), e.serveCmd()}
}

// modelBytes reads a model: a model file when arg names one, else the
// model of a store address (RUN, RUN:STAGE, NAME@ALIAS). It returns the
// bytes and a name for messages.
func (e *env) modelBytes(arg string) ([]byte, string, error) {
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		data, err := engine.ReadRegularFile(arg, 0)
		if err != nil {
			return nil, "", usageErr(fmt.Errorf("model: %w", err))
		}
		return data, arg, nil
	}
	ref, err := engine.ParseModelRef(arg)
	if err != nil {
		return nil, "", usageErr(fmt.Errorf("%w; and no model file %s exists", err, arg))
	}
	db, err := e.openStore()
	if err != nil {
		return nil, "", err
	}
	defer db.Close()
	data, info, err := storeModel(e, db, ref)
	if err != nil {
		return nil, "", usageErr(err)
	}
	return data, fmt.Sprintf("%s (run %d stage %s)", arg, info.run, info.stage), nil
}

// modelInfo says where a model read from the store came from.
type modelInfo struct {
	run    int64
	stage  string
	sha256 string
}

func storeModel(e *env, db *store.DB, ref engine.ModelRef) ([]byte, modelInfo, error) {
	run, stage, err := db.ResolveModel(e.ctx, ref)
	if err != nil {
		return nil, modelInfo{}, err
	}
	data, info, err := db.Artifact(e.ctx, run.ID, stage, "model")
	if err != nil {
		return nil, modelInfo{}, err
	}
	return data, modelInfo{run: run.ID, stage: stage, sha256: info.SHA256}, nil
}

// modelRow is one row of `sluice models`.
type modelRow struct {
	Name    string             `json:"name"`
	Alias   string             `json:"alias"`
	Run     int64              `json:"run"`
	Stage   string             `json:"stage"`
	SHA256  string             `json:"sha256"`
	Metrics map[string]float64 `json:"metrics"`
	Set     *time.Time         `json:"set,omitempty"`
}

func (e *env) modelsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "models [NAME...]",
		Short: "List registered models: each pipeline's newest model and its aliases",
		Long: `Models lists, per pipeline with a fitted model, NAME@latest (its newest
successful run with a model) and every alias set with sluice alias set,
with the run and stage each points at, the model's metrics and SHA-256.
Each row's NAME@ALIAS is an address export, predict and serve accept.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			rows, err := e.modelRows(db, args)
			if err != nil {
				return usageErr(err)
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(e.stdout, "no models yet: a pipeline with a train stage records one")
				return nil
			}
			tw := newTable(e.stdout)
			fmt.Fprintln(tw, "MODEL\tRUN\tSTAGE\tMETRICS\tSHA256")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s@%s\t%d\t%s\t%s\t%s\n", r.Name, r.Alias, r.Run, r.Stage, metricsText(r.Metrics, 3), short(r.SHA256))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the models as JSON")
	return cmd
}

func (e *env) modelRows(db *store.DB, names []string) ([]modelRow, error) {
	runs, err := db.Runs(e.ctx, store.RunFilter{Status: []engine.Status{engine.StatusSucceeded}})
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var pipelines []string
	seen := map[string]bool{}
	for _, r := range runs {
		if !seen[r.Pipeline] && (len(want) == 0 || want[r.Pipeline]) {
			seen[r.Pipeline] = true
			pipelines = append(pipelines, r.Pipeline)
		}
	}
	aliases, err := db.Aliases(e.ctx, "", false)
	if err != nil {
		return nil, err
	}
	rows := []modelRow{}
	row := func(name, alias string, ref engine.ModelRef, set *time.Time) error {
		run, stage, err := db.ResolveModel(e.ctx, ref)
		if errors.Is(err, engine.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		r := modelRow{Name: name, Alias: alias, Run: run.ID, Stage: stage, Metrics: map[string]float64{}, Set: set}
		if st, ok := run.Stage(stage); ok {
			for _, a := range st.Artifacts {
				if a.Name == "model" {
					r.SHA256 = a.SHA256
				}
			}
			if st.Metrics != nil {
				r.Metrics = st.Metrics
			}
		}
		rows = append(rows, r)
		return nil
	}
	for _, p := range pipelines {
		if err := row(p, engine.LatestAlias, engine.ModelRef{Name: p, Alias: engine.LatestAlias}, nil); err != nil {
			return nil, err
		}
		for _, a := range aliases {
			if a.Name == p {
				set := a.Set
				if err := row(p, a.Alias, engine.ModelRef{Run: a.Run, Stage: a.Stage}, &set); err != nil {
					return nil, err
				}
			}
		}
	}
	return rows, nil
}

func (e *env) aliasCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alias set|rm|history",
		Short: "Name a run's model (NAME@champion), move or remove the name, see its history",
		Long: `An alias names one run's model, like iris@champion (NAME is the pipeline's
name). export, predict and serve accept NAME@ALIAS wherever they take a
model; a server serving NAME@ALIAS follows it when it moves. Every set and
rm is kept in the alias's history.`,
	}
	set := &cobra.Command{
		Use:     "set NAME@ALIAS RUN[:STAGE]",
		Short:   "Point an alias at a run's model",
		Example: "  sluice alias set iris@champion 4\n  sluice alias set breast_cancer_models@champion 7:forest",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := engine.ParseModelRef(args[0])
			if err != nil || ref.Alias == "" {
				return usageErr(fmt.Errorf("%s: want NAME@ALIAS, like iris@champion", args[0]))
			}
			target, err := engine.ParseModelRef(args[1])
			if err != nil || target.Alias != "" {
				return usageErr(fmt.Errorf("%s: want RUN or RUN:STAGE, like 4 or 4:model", args[1]))
			}
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			run, stage, err := db.ResolveModel(e.ctx, target)
			if err != nil {
				return usageErr(err)
			}
			a, err := db.SetAlias(e.ctx, ref.Name, ref.Alias, run.ID, stage)
			if err != nil {
				return usageErr(err)
			}
			prev := ""
			if n := len(a.History); n > 1 && !a.History[n-2].Removed {
				prev = fmt.Sprintf(" (was run %d stage %s)", a.History[n-2].Run, a.History[n-2].Stage)
			}
			fmt.Fprintf(e.stdout, "%s@%s → run %d stage %s%s\n", a.Name, a.Alias, a.Run, a.Stage, prev)
			return nil
		},
	}
	rm := &cobra.Command{
		Use:   "rm NAME@ALIAS",
		Short: "Remove an alias (its history is kept)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := engine.ParseModelRef(args[0])
			if err != nil || ref.Alias == "" {
				return usageErr(fmt.Errorf("%s: want NAME@ALIAS, like iris@champion", args[0]))
			}
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.RemoveAlias(e.ctx, ref.Name, ref.Alias); err != nil {
				return usageErr(err)
			}
			fmt.Fprintf(e.stdout, "removed %s\n", args[0])
			return nil
		},
	}
	var asJSON bool
	history := &cobra.Command{
		Use:   "history [NAME[@ALIAS]]",
		Short: "Where each alias pointed, and when",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, alias := "", ""
			if len(args) == 1 {
				name, alias, _ = strings.Cut(args[0], "@")
			}
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			all, err := db.Aliases(e.ctx, name, true)
			if err != nil {
				return usageErr(err)
			}
			var list []engine.Alias
			for _, a := range all {
				if alias == "" || a.Alias == alias {
					list = append(list, a)
				}
			}
			if asJSON {
				if list == nil {
					list = []engine.Alias{}
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			tw := newTable(e.stdout)
			fmt.Fprintln(tw, "ALIAS\tWHEN\tCHANGE")
			for _, a := range list {
				for _, h := range a.History {
					change := fmt.Sprintf("→ run %d stage %s", h.Run, h.Stage)
					if h.Removed {
						change = "removed"
					}
					fmt.Fprintf(tw, "%s@%s\t%s\t%s\n", a.Name, a.Alias, h.Time.Local().Format("2006-01-02 15:04:05"), change)
				}
			}
			return tw.Flush()
		},
	}
	history.Flags().BoolVar(&asJSON, "json", false, "print the aliases with their history as JSON")
	cmd.AddCommand(set, rm, history)
	return cmd
}
