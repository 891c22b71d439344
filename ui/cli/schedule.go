package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/schedule"
	"github.com/sluice-ml/sluice/engine/temporal"
	"github.com/sluice-ml/sluice/store"
)

func (e *env) automationCmds() []*cobra.Command {
	return []*cobra.Command{e.scheduleCmd(), e.backfillCmd()}
}

// plainWriter hides the terminal behind w, so progress from runs going
// side by side prints as plain lines rather than redrawn bars.
type plainWriter struct{ io.Writer }

// runner runs a pipeline file for a run context the way `sluice run`
// does: validated for that run, with the stage cache, recorded in db.
func (e *env) runner(db *store.DB, progress io.Writer) schedule.Runner {
	return func(ctx context.Context, file string, rc engine.RunContext) (*engine.Run, error) {
		plan, err := engine.LoadPlanFor(file, e.reg, nil, rc)
		if err != nil {
			return nil, err
		}
		return e.execute(ctx, db, plan, engine.RunOptions{}, plainWriter{progress})
	}
}

func (e *env) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(e.stderr, nil))
}

func (e *env) scheduleCmd() *cobra.Command {
	var now string
	var once, verbose bool
	var poll time.Duration
	var ef engineFlags
	cmd := &cobra.Command{
		Use:   "schedule [PATH...]",
		Short: "Run pipelines when their schedule or trigger says, in the foreground",
		Long: `Schedule watches the pipeline files given, or found under the folders given
(default: the current folder), and runs each one that has a schedule: or a
trigger: when it is due, as sluice run would (validated, cached, recorded).
It logs one line per decision on stderr and stops on Ctrl-C or SIGTERM,
cancelling the runs still going (recorded as cancelled).

Intervals missed while no scheduler ran are handled per the pipeline's
catchup; an interval due while the last run still goes, per its overlap.
Schedulers sharing a store never start the same interval twice, nor one
pipeline twice at once (a lease in the store).

--once evaluates once (at --now, default the current time), runs what is
due, waits for it and exits: 0 if every run succeeded, 1 if any did not.

With --engine temporal, sluice runs no scheduler itself: it validates the
files and creates (or updates) one Temporal Schedule per pipeline that has a
schedule: (id sluice-NAME), then exits. The Temporal server then starts each
interval's run on the workers (sluice worker): cron or @every in the file's
timezone; overlap skip, queue, cancel_running as the overlap policies SKIP,
BUFFER_ALL, CANCEL_OTHER; catchup none, latest, all as catch-up windows of
10 s, one period and a year. File triggers (trigger:) are not run on
Temporal. sluice runs sync brings the runs into the local store.`,
		Example: `  sluice schedule sample-data
  sluice schedule sample-data/scheduled/daily_iris.yaml --now 2025-03-02T00:05 --once
  sluice schedule --engine temporal --temporal localhost:7233 sample-data/scheduled`,
		RunE: func(cmd *cobra.Command, args []string) error {
			tf, err := ef.resolve()
			if err != nil {
				return err
			}
			if tf != nil {
				if once || now != "" {
					return usageErr(errors.New("--once and --now are for the local scheduler: with --engine temporal the server keeps time"))
				}
				return e.scheduleTemporal(tf, args)
			}
			if now != "" && !once {
				return usageErr(errors.New("--now needs --once: a scheduler left running follows the clock"))
			}
			at := time.Now()
			if now != "" {
				t, err := schedule.ParseTime(now, time.UTC)
				if err != nil {
					return usageErr(fmt.Errorf("--now %w", err))
				}
				at = t
			}
			files, err := findPipelines(args)
			if err != nil {
				return usageErr(err)
			}
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			progress := io.Discard
			if verbose {
				progress = e.stderr
			}
			s := &schedule.Scheduler{Files: files, Store: db, Run: e.runner(db, progress), Log: e.logger(), Poll: poll}
			if once {
				if err := s.Once(e.ctx, at); err != nil {
					return &exitError{code: ExitFailed, err: err}
				}
				if _, failed := s.Counts(); failed > 0 {
					return silentExit(ExitFailed)
				}
				return nil
			}
			s.Log.Info("scheduling", "files", len(files), "store", e.cfg.DBPath)
			return s.Loop(e.ctx)
		},
	}
	cmd.Flags().StringVar(&now, "now", "", "evaluate at this time instead of the clock (with --once): 2025-03-02T00:05 (UTC) or RFC 3339")
	cmd.Flags().BoolVar(&once, "once", false, "evaluate once, run what is due, wait for it and exit")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print each run's stage progress")
	cmd.Flags().DurationVar(&poll, "poll", schedule.DefaultPoll, "how often to evaluate schedules and look for trigger files")
	ef.bind(cmd)
	return cmd
}

func (e *env) backfillCmd() *cobra.Command {
	var from, to string
	var workers int
	var rerun, verbose bool
	var ef engineFlags
	cmd := &cobra.Command{
		Use:   "backfill FILE --from DATE --to DATE",
		Short: "Run a scheduled pipeline once per interval of a past period",
		Long: `Backfill makes one run per interval of the pipeline's schedule whose logical
time falls within [--from, --to] (both included), in order, as backfill runs
with that logical time ({{ ds }} and the rest resolve to it). Intervals that
already have a successful run are skipped unless --rerun. DATE is a date
(2025-03-01) or a time (2025-03-01T06:00) in the pipeline's time zone, or
RFC 3339.

Exit status: 0 every run succeeded (or none was needed), 1 one did not,
2 bad usage or an invalid file.

With --engine temporal, the pipeline's Temporal Schedule (made by sluice
schedule --engine temporal) backfills the period: Temporal starts the
intervals' runs on the workers, one after another, and sluice exits once it
has asked. An interval whose run already succeeded on Temporal is not run
again (each interval's workflow id names it); --rerun and --workers are for
local backfills. sluice runs sync brings the runs into the local store.`,
		Example: "  sluice backfill sample-data/scheduled/daily_iris.yaml --from 2025-03-01 --to 2025-03-03",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" || to == "" {
				return usageErr(errors.New("backfill needs --from DATE and --to DATE"))
			}
			if workers < 1 {
				return usageErr(fmt.Errorf("--workers must be at least 1, got %d", workers))
			}
			tf, err := ef.resolve()
			if err != nil {
				return err
			}
			file := args[0]
			plan, err := engine.LoadPlan(file, e.reg, nil)
			if err != nil {
				return usageErr(err)
			}
			spec := plan.Spec
			loc := spec.Automation.Location
			f, err := schedule.ParseTime(from, loc)
			if err != nil {
				return usageErr(fmt.Errorf("--from %w", err))
			}
			t, err := schedule.ParseTime(to, loc)
			if err != nil {
				return usageErr(fmt.Errorf("--to %w", err))
			}
			if tf != nil {
				if rerun {
					return usageErr(errors.New("--rerun is for local backfills: on Temporal an interval that succeeded keeps its run"))
				}
				return e.backfillTemporal(tf, plan, f, t)
			}
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			var done map[int64]bool
			if !rerun {
				if done, err = schedule.Succeeded(e.ctx, db, spec.Name); err != nil {
					return usageErr(err)
				}
			}
			logicals, err := schedule.BackfillIntervals(spec, f, t, done)
			if err != nil {
				return usageErr(err)
			}
			log := e.logger()
			if len(logicals) == 0 {
				log.Info("nothing to backfill", "pipeline", spec.Name, "why", "every interval in the period already succeeded (--rerun runs them again)")
				return nil
			}
			progress := io.Discard
			if verbose {
				progress = e.stderr
			}
			runs, err := schedule.Backfill(e.ctx, file, spec, logicals, workers, e.runner(db, progress), log)
			failed := 0
			for i, r := range runs {
				switch {
				case r == nil:
					failed++
				default:
					if r.Status != engine.StatusSucceeded {
						failed++
					}
					fmt.Fprintf(e.stdout, "run %d  %s  %s  %s\n", r.ID, spec.Name, logicals[i].Format(time.RFC3339), r.Status)
				}
			}
			if err != nil && failed == len(logicals) {
				return usageErr(err)
			}
			if failed > 0 || err != nil {
				return silentExit(ExitFailed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "first logical date or time (included)")
	cmd.Flags().StringVar(&to, "to", "", "last logical date or time (included)")
	cmd.Flags().IntVar(&workers, "workers", 1, "runs at once (each in order of its interval)")
	cmd.Flags().BoolVar(&rerun, "rerun", false, "run intervals that already succeeded again")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print each run's stage progress")
	ef.bind(cmd)
	return cmd
}

// scheduleTemporal puts the schedule: of every pipeline file given (or
// found under the folders given) on Temporal as a Schedule. Every file is
// validated first; one that does not validate stops it before anything
// changes on the server.
func (e *env) scheduleTemporal(tf *temporalFlags, args []string) error {
	files, err := findPipelines(args)
	if err != nil {
		return usageErr(err)
	}
	var plans []*engine.Plan
	var problems []error
	for _, f := range files {
		plan, err := engine.LoadPlan(f, e.reg, nil)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		plans = append(plans, plan)
	}
	if len(problems) > 0 {
		return usageErr(errors.Join(problems...))
	}
	log := e.logger()
	now := time.Now()
	var todo []client.ScheduleOptions
	for _, plan := range plans {
		a := plan.Spec.Automation
		if a.Trigger != nil {
			log.Warn("file triggers do not run on Temporal; use sluice schedule without --engine for them", "pipeline", plan.Spec.Name, "file", plan.Spec.File)
		}
		if a.Schedule == nil {
			log.Info("no schedule: skipped", "pipeline", plan.Spec.Name, "file", plan.Spec.File)
			continue
		}
		o, err := temporal.ScheduleOptionsOf(plan, tf.queue, temporal.RunOptions{HeartbeatTimeout: tf.heartbeat, MaxParallel: e.cfg.Workers}, now)
		if err != nil {
			return usageErr(err)
		}
		todo = append(todo, o)
	}
	if len(todo) == 0 {
		return usageErr(fmt.Errorf("no pipeline with a schedule: among %d file(s)", len(files)))
	}
	c, err := tf.dial(e.ctx, e.stderr)
	if err != nil {
		return err
	}
	defer c.Close()
	for i, o := range todo {
		created, err := temporal.PutSchedule(e.ctx, c, o)
		if err != nil {
			return err
		}
		verb := "updated"
		if created {
			verb = "created"
		}
		a := plans[i].Spec.Automation
		fmt.Fprintf(e.stdout, "%s schedule %s  %q in %s, catchup %s, overlap %s, task queue %s\n", verb, o.ID, a.Schedule.String(), a.Location, a.Catchup, a.Overlap, tf.queue)
	}
	return nil
}

// backfillTemporal asks the pipeline's Temporal Schedule to run the
// intervals whose logical times fall in [from, to].
func (e *env) backfillTemporal(tf *temporalFlags, plan *engine.Plan, from, to time.Time) error {
	a := plan.Spec.Automation
	if a.Schedule == nil {
		return usageErr(fmt.Errorf("%s has no schedule: to backfill", plan.Spec.File))
	}
	logicals := a.Schedule.Between(from, to)
	if len(logicals) == 0 {
		e.logger().Info("nothing to backfill", "pipeline", plan.Spec.Name, "why", "no interval starts in the period")
		return nil
	}
	c, err := tf.dial(e.ctx, e.stderr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := temporal.Backfill(e.ctx, c, plan.Spec.Name, a.Schedule, logicals); err != nil {
		return usageErr(err)
	}
	for _, l := range logicals {
		fmt.Fprintf(e.stdout, "asked  %s  %s  workflow %s\n", plan.Spec.Name, l.Format(time.RFC3339), temporal.IntervalWorkflowID(plan.Spec.Name, l))
	}
	return nil
}
