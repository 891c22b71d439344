package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/schedule"
	"github.com/sluice-ml/sluice/store"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// runDoc is the --json document of `sluice run`, exactly as DESIGN.md gives it.
type runDoc struct {
	Run      int64         `json:"run"`
	Pipeline string        `json:"pipeline"`
	Status   string        `json:"status"`
	Seconds  float64       `json:"seconds"`
	Stages   []runStageDoc `json:"stages"`
	Trigger  string        `json:"trigger"`
	Logical  time.Time     `json:"logical_time"`
}

type runStageDoc struct {
	ID         string             `json:"id"`
	Uses       string             `json:"uses"`
	Status     string             `json:"status"`
	Seconds    float64            `json:"seconds"`
	Metrics    map[string]float64 `json:"metrics"`
	Reason     string             `json:"reason,omitempty"`
	CachedFrom int64              `json:"cached_from,omitempty"`
}

func newRunDoc(r *engine.Run) runDoc {
	d := runDoc{Run: r.ID, Pipeline: r.Pipeline, Status: r.Status.String(), Seconds: round3(r.Seconds), Stages: []runStageDoc{},
		Trigger: string(r.TriggerKind()), Logical: r.Logical().UTC()}
	for _, s := range r.Stages {
		m := s.Metrics
		if m == nil {
			m = map[string]float64{}
		}
		d.Stages = append(d.Stages, runStageDoc{ID: s.ID, Uses: s.Uses, Status: s.Status.String(), Seconds: round3(s.Seconds), Metrics: m,
			Reason: s.Reason, CachedFrom: s.CachedFrom})
	}
	return d
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// runFlags are the flags of `sluice run` (and `sluice rerun`) that shape
// one run.
type runFlags struct {
	sets    []string
	asJSON  bool
	dry     bool
	noCache []string // "*": every stage
	logical string   // --logical-date
	eng     engineFlags
}

// options turns --no-cache into run options.
func (f *runFlags) options() engine.RunOptions {
	var o engine.RunOptions
	for _, s := range f.noCache {
		if s == noCacheAll {
			o.NoCache = true
			continue
		}
		o.NoCacheStages = append(o.NoCacheStages, s)
	}
	return o
}

// noCacheAll is --no-cache's value when no stage is given.
const noCacheAll = "*"

func (f *runFlags) bind(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the run as one JSON document on stdout")
	cmd.Flags().BoolVar(&f.dry, "dry", false, "say, stage by stage, what would run or be cached and why, without running anything")
	cmd.Flags().StringArrayVar(&f.noCache, "no-cache", nil, "run every stage instead of reusing stored results; --no-cache=STAGE runs that stage and its dependents (repeatable)")
	cmd.Flags().Lookup("no-cache").NoOptDefVal = noCacheAll
	f.eng.bind(cmd)
}

func (e *env) runCmd() *cobra.Command {
	var f runFlags
	var sweeps []string
	var parallel int
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a pipeline headless and record it in the store",
		Long: `Run validates the pipeline file, runs its stages (ready stages concurrently,
up to --workers), records the run in the store and prints a summary.
Progress goes to stderr: bars on a terminal, plain lines otherwise.

A stage whose fingerprint (type, parameters, upstream fingerprints, the
bytes of the files it reads, seed, sluice version) matches an earlier
successful result whose artifacts are intact is not run again: its status
is cached, with the run it came from. Every other stage says why it ran.
--dry says what a run would do without running anything; --no-cache runs
everything, --no-cache=STAGE that stage and its dependents.

Exit status: 0 the run succeeded, 1 it failed or was cancelled, 2 the file
is invalid or the command was misused.`,
		Example: `  sluice run sample-data/etl.yaml
  sluice run sample-data/iris.yaml --set model.C=0.5 --json
  sluice run sample-data/iris.yaml --set model.C=0.5 --dry
  sluice run sample-data/iris.yaml --no-cache=model
  sluice run sample-data/iris.yaml --sweep model.C=0.01,0.1,1 --sweep model.max_iter=100,1000 --parallel 2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(sweeps) > 0 {
				if f.dry || len(f.noCache) > 0 || f.logical != "" {
					return usageErr(errors.New("--sweep does not combine with --dry, --no-cache or --logical-date"))
				}
				return e.sweep(args[0], &f, sweeps, parallel)
			}
			overrides, err := parseOverrides(f.sets)
			if err != nil {
				return err
			}
			rc, err := manualContext(args[0], f.logical)
			if err != nil {
				return err
			}
			plan, err := engine.LoadPlanFor(args[0], e.reg, overrides, rc)
			if err != nil {
				return usageErr(err)
			}
			return e.runPlan(plan, &f)
		},
	}
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a parameter: STAGE.PARAM=VALUE (repeatable)")
	cmd.Flags().StringArrayVar(&sweeps, "sweep", nil, "queue one run per value: STAGE.PARAM=V1,V2,… (repeatable: the cross product)")
	cmd.Flags().IntVar(&parallel, "parallel", 1, "with --sweep: runs at once")
	cmd.Flags().StringVar(&f.logical, "logical-date", "", "the logical date or time the run stands for ({{ ds }}…), in the pipeline's time zone (default: now)")
	f.bind(cmd)
	cmd.Flags().IntVar(&e.cfg.Workers, "workers", 0, "stages run at once (default: number of CPUs)")
	return cmd
}

// manualContext is the run context of `sluice run`: now, or the
// --logical-date given, read in the pipeline's time zone.
func manualContext(file, logical string) (engine.RunContext, error) {
	if logical == "" {
		return engine.ManualRun(time.Now()), nil
	}
	spec, err := engine.LoadSpec(file)
	if err != nil {
		return engine.RunContext{}, usageErr(err)
	}
	t, err := schedule.ParseTime(logical, spec.Automation.Location)
	if err != nil {
		return engine.RunContext{}, usageErr(fmt.Errorf("--logical-date %w", err))
	}
	return spec.ManualRunAt(t), nil
}

// parseOverrides reads --set STAGE.PARAM=VALUE arguments; one that does
// not parse is a usage error.
func parseOverrides(sets []string) ([]engine.Override, error) {
	out, err := engine.ParseOverrides(sets)
	if err != nil {
		return nil, usageErr(err)
	}
	return out, nil
}

// runPlan runs (or, with --dry, forecasts) a validated plan against the
// store and prints the outcome.
func (e *env) runPlan(plan *engine.Plan, f *runFlags) error {
	opts := f.options()
	for _, id := range opts.NoCacheStages {
		if _, ok := plan.Stage(id); !ok {
			return usageErr(fmt.Errorf("--no-cache=%s: no stage %q in %s", id, id, plan.Spec.File))
		}
	}
	if f.dry {
		return e.forecast(plan, opts, f.asJSON)
	}
	tf, err := f.eng.resolve()
	if err != nil {
		return err
	}
	e.remote = tf
	db, err := e.openStore()
	if err != nil {
		return err
	}
	defer db.Close()

	run, err := e.execute(e.ctx, db, plan, opts, e.stderr)
	if err != nil {
		return err
	}
	if f.asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(newRunDoc(run)); err != nil {
			return err
		}
	} else {
		printRunSummary(e.stdout, run)
	}
	if run.Status != engine.StatusSucceeded {
		return silentExit(ExitFailed)
	}
	return nil
}

// execute runs a validated plan with the stage cache, recording it in db
// and reporting progress on progress. It is how every command that starts
// a run (run, rerun, schedule, backfill) runs it. A recorder failure is an
// ExitFailed error; the run's own outcome is in its status.
func (e *env) execute(ctx context.Context, db *store.DB, plan *engine.Plan, opts engine.RunOptions, progress io.Writer) (*engine.Run, error) {
	broker := &engine.Broker{}
	subCtx, stopSub := context.WithCancel(context.Background())
	events := broker.Subscribe(subCtx)
	rep := newReporter(progress, plan)
	repDone := make(chan struct{})
	go func() {
		rep.follow(events)
		close(repDone)
	}()
	ex := &engine.Executor{Recorder: db, Cache: db, Artifacts: db.ArtifactStore(), Events: broker, MaxParallel: e.cfg.Workers, Version: Version}
	var run *engine.Run
	var err error
	if e.remote != nil {
		run, err = e.runTemporal(ctx, e.remote, ex, plan, opts)
	} else {
		run, err = ex.RunWith(ctx, plan, opts)
	}
	stopSub()
	<-repDone
	if run != nil {
		rep.final(run)
	}
	var xe *exitError
	if errors.As(err, &xe) {
		return run, err // the engine could not be reached: said already how to exit
	}
	if err != nil {
		return run, &exitError{code: ExitFailed, err: err}
	}
	return run, nil
}

// forecast prints what a run of plan would do (--dry). A store that does
// not exist yet is not created: every stage would be new.
func (e *env) forecast(plan *engine.Plan, opts engine.RunOptions, asJSON bool) error {
	ex := &engine.Executor{Version: Version}
	if _, err := os.Stat(e.cfg.DBPath); err == nil {
		db, err := e.openStore()
		if err != nil {
			return err
		}
		defer db.Close()
		ex.Cache, ex.Artifacts = db, db.ArtifactStore()
	}
	ds, err := ex.Forecast(e.ctx, plan, opts)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(dryDoc{Pipeline: plan.Spec.Name, Dry: true, Stages: ds})
	}
	printForecast(e.stdout, plan, ds)
	return nil
}

// dryDoc is the --dry --json document: what a run would do, stage by stage.
type dryDoc struct {
	Pipeline string            `json:"pipeline"`
	Dry      bool              `json:"dry"`
	Stages   []engine.Decision `json:"stages"`
}

// printForecast writes what a run would do, stage by stage.
func printForecast(w interface{ Write([]byte) (int, error) }, plan *engine.Plan, ds []engine.Decision) {
	runs := 0
	for _, d := range ds {
		if d.Action == engine.ActionRun {
			runs++
		}
	}
	fmt.Fprintf(w, "dry run  %s  %d of %d stages would run, %d cached (nothing ran)\n", plan.Spec.Name, runs, len(ds), len(ds)-runs)
	tw := newTable(w)
	fmt.Fprintln(tw, "STAGE\tUSES\tACTION\tREASON")
	for _, d := range ds {
		icon := common.StatusIcon(engine.StatusCached)
		if d.Action == engine.ActionRun {
			icon = common.StatusIcon(engine.StatusRunning)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\n", d.Stage, d.Uses, icon, d.Action, d.Reason)
	}
	tw.Flush()
}

// printRunSummary writes the human summary of a finished run.
func printRunSummary(w interface{ Write([]byte) (int, error) }, r *engine.Run) {
	fmt.Fprintf(w, "run %d  %s  %s in %s\n", r.ID, r.Pipeline, r.Status, common.Seconds(r.Seconds))
	tw := newTable(w)
	fmt.Fprintln(tw, "STAGE\tUSES\tSTATUS\tTIME\tWHY\tOUTPUT\tMETRICS")
	for _, s := range r.Stages {
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\n", s.ID, s.Uses, common.StatusIcon(s.Status), s.Status, common.Seconds(s.Seconds), truncate(s.Reason, 48), outputText(s), metricsText(s.Metrics, 4))
	}
	tw.Flush()
	if r.Error != "" {
		fmt.Fprintf(w, "error: %s\n", r.Error)
	}
}

func outputText(s engine.StageRun) string {
	switch {
	case s.Rows > 0 || s.Cols > 0:
		return fmt.Sprintf("%d×%d table", s.Rows, s.Cols)
	case s.Status == engine.StatusSucceeded || s.Status == engine.StatusCached:
		return s.Kind.String()
	}
	return ""
}

// metricsText renders up to max metrics as "name=value", sorted by name
// (engine.MetricsLine).
func metricsText(m map[string]float64, max int) string { return engine.MetricsLine(m, max) }

// isTerminal reports whether w is a terminal (for progress bars).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd()) && os.Getenv("TERM") != "dumb"
}
