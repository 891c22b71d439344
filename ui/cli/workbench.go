package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/store"
	"github.com/sluice-ml/sluice/ui"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/pipelines"
	"github.com/sluice-ml/sluice/ui/runs"
)

// findPipelines returns the pipeline files named by paths (see
// pipelines.Find).
func findPipelines(paths []string) ([]string, error) { return pipelines.Find(paths) }

// workbench opens the terminal workbench on the pipelines under paths.
func (e *env) workbench(paths []string) error {
	if p := ui.KeyFilePath(); p != "" {
		if err := ui.LoadKeyFile(p); err != nil {
			return usageErr(err)
		}
	}
	files, err := findPipelines(paths)
	if err != nil {
		return usageErr(err)
	}
	if !isTerminal(e.stdout) {
		// Not a terminal (a pipe, a file): the same overview, as text.
		return e.listPipelines(files)
	}
	var db *store.DB
	if e.cfg.ReadOnly {
		opts, err := e.storeOptions(true)
		if err != nil {
			return err
		}
		db, err = store.Open(e.cfg.DBPath, opts)
		if errors.Is(err, fs.ErrNotExist) {
			return usageErr(fmt.Errorf("no store at %s: --readonly opens an existing one and creates nothing", e.cfg.DBPath))
		}
		if err != nil {
			return usageErr(err)
		}
	} else if db, err = e.openStore(); err != nil {
		return err
	}
	defer db.Close()
	return ui.Run(e.ctx, e.workbenchDeps(paths, files, db))
}

// workbenchDeps wires the workbench: the files found, the catalog, the
// store (read, and recording runs started from the workbench), and the
// model service.
func (e *env) workbenchDeps(paths, files []string, db *store.DB) ui.Deps {
	dir := "."
	if len(paths) > 0 {
		if fi, err := os.Stat(paths[0]); err == nil {
			dir = paths[0]
			if !fi.IsDir() {
				dir = filepath.Dir(paths[0])
			}
		}
	}
	deps := ui.Deps{
		Paths:     files,
		Roots:     paths,
		Dir:       dir,
		Registry:  e.reg,
		Store:     db,
		Recorder:  db,
		Cache:     db,
		Artifacts: db.ArtifactStore(),
		Models:    &workbenchModels{e: e, db: db},
		Queue:     workbenchQueue{db},
		Version:   Version,
		Workers:   e.cfg.Workers,
		DBPath:    e.cfg.DBPath,
		ReadOnly:  e.cfg.ReadOnly,
	}
	if e.cfg.ReadOnly {
		deps.Recorder = nil
	}
	if os.Getenv("SLUICE_TEMPORAL") != "" && !e.cfg.ReadOnly {
		deps.CancelWorkflow = e.cancelWorkflow
	}
	// The terminal by default (Bubble Tea opens /dev/tty when stdin is
	// piped); other readers and writers as given (tests).
	if f, ok := e.stdin.(*os.File); !ok || f != os.Stdin {
		deps.Input = e.stdin
	}
	if f, ok := e.stdout.(*os.File); !ok || f != os.Stdout {
		deps.Output = e.stdout
	}
	return deps
}

// workbenchModels describes and exports the models the workbench shows,
// reading them as `sluice show` and `sluice export` do.
type workbenchModels struct {
	e  *env
	db *store.DB
}

var _ ui.ModelService = (*workbenchModels)(nil)

// DescribeModel loads the model a run's stage kept (the run's last model
// for stage "") and the confusion matrix of the evaluate stage that
// scored it.
func (w *workbenchModels) DescribeModel(ctx context.Context, run int64, stage string) (*ui.ModelView, error) {
	r, err := w.db.Run(ctx, run)
	if err != nil {
		return nil, err
	}
	data, info, err := w.e.modelArtifact(w.db, r, stage)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	v, err := stages.DescribeModel(fmt.Sprintf("run %d stage %s", run, info.Stage), data)
	if err != nil {
		return nil, err
	}
	v.Run, v.Stage, v.SHA256, v.Size = run, info.Stage, info.SHA256, len(data)
	v.Confusion = w.confusion(ctx, r, info.Stage)
	aliases, err := w.db.Aliases(ctx, r.Pipeline, false)
	if err != nil {
		return nil, err
	}
	for _, a := range aliases {
		if a.Run == r.ID && a.Stage == info.Stage {
			v.Aliases = append(v.Aliases, a.Name+"@"+a.Alias)
		}
	}
	return v, nil
}

// SetAlias points the alias of the run's pipeline at its stage's model,
// as `sluice alias set` does.
func (w *workbenchModels) SetAlias(ctx context.Context, run int64, stage, alias string) (string, error) {
	r, err := w.db.Run(ctx, run)
	if err != nil {
		return "", err
	}
	a, err := w.db.SetAlias(ctx, r.Pipeline, alias, run, stage)
	if err != nil {
		return "", err
	}
	return a.Name + "@" + a.Alias, nil
}

// confusion reads the confusion matrix from the report of the evaluate
// stage that scored the model, if there is one.
func (w *workbenchModels) confusion(ctx context.Context, r *engine.Run, stage string) [][]int {
	for _, s := range r.Stages {
		if s.Uses != "evaluate" || !containsString(s.Needs, stage) {
			continue
		}
		b, _, err := w.db.Artifact(ctx, r.ID, s.ID, "report")
		if err != nil {
			continue
		}
		if rep, err := engine.DecodeReport(b); err == nil && len(rep.Details.Confusion) > 0 {
			return rep.Details.Confusion
		}
	}
	return nil
}

// ExportModel writes the model file `sluice export` writes, to the path
// the user typed, under the same write policy (engine.OutputPath): a path
// outside the current folder is refused; `sluice export --allow-outside`
// writes there.
func (w *workbenchModels) ExportModel(ctx context.Context, run int64, stage, path string) (string, error) {
	sum, _, err := w.e.exportModel(w.db, run, stage, path, false, stages.ModelFileSluice)
	if err != nil {
		var xe *exitError
		if errors.As(err, &xe) && xe.err != nil {
			return "", xe.err
		}
		return "", err
	}
	return sum, nil
}

// listPipelines prints the pipelines found with their validation state
// and the recorded runs: what the workbench shows, as text.
func (e *env) listPipelines(files []string) error {
	w := e.stdout
	fmt.Fprintln(w, "PIPELINES")
	for _, f := range files {
		plan, err := engine.LoadPlan(f, e.reg, nil)
		if err != nil {
			first := err.Error()
			var list engine.ErrorList
			if errors.As(err, &list) && len(list) > 0 {
				first = fmt.Sprintf("%s (%d problem%s)", list[0].Error(), len(list), plural(len(list)))
			}
			fmt.Fprintf(w, "  ✗ %s\n      %s\n", f, first)
			continue
		}
		fmt.Fprintf(w, "  ✓ %-40s %s, %d stages\n", f, plan.Spec.Name, len(plan.Stages))
	}
	db, err := e.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	runs, err := db.Runs(e.ctx, store.RunFilter{Limit: 20})
	if err != nil {
		return usageErr(err)
	}
	fmt.Fprintf(w, "\nRUNS (%s)\n", e.cfg.DBPath)
	if len(runs) == 0 {
		fmt.Fprintln(w, "  none yet: sluice run FILE records one")
	}
	tw := newTable(w)
	for _, r := range runs {
		fmt.Fprintf(tw, "  %d\t%s\t%s %s\t%s\t%s\n", r.ID, r.Pipeline, common.StatusIcon(r.Status), r.Status, common.Seconds(r.Seconds), metricsText(r.Metrics, 3))
	}
	return tw.Flush()
}

// The store gives the Runs screen what d, u, t and N need.
var (
	_ runs.Deleter   = (*store.DB)(nil)
	_ runs.Annotator = (*store.DB)(nil)
)

// workbenchQueue is the store's queue as the workbench uses it.
type workbenchQueue struct{ db *store.DB }

func (q workbenchQueue) Enqueue(ctx context.Context, file string, sets [][]string) (string, []int64, error) {
	items, err := q.db.Enqueue(ctx, file, sets)
	if err != nil || len(items) == 0 {
		return "", nil, err
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return items[0].Sweep, ids, nil
}

func (q workbenchQueue) Claim(ctx context.Context, item int64) (bool, error) {
	_, ok, err := q.db.Claim(ctx, item)
	return ok, err
}

func (q workbenchQueue) Finish(ctx context.Context, item, run int64) error {
	return q.db.Finish(ctx, item, run, run == 0)
}
