package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
)

// sweep queues the cross product of the axes as runs of file, then runs
// the queue's items, parallel at a time, and compares them.
func (e *env) sweep(file string, f *runFlags, sweeps []string, parallel int) error {
	var axes []engine.SweepAxis
	for _, s := range sweeps {
		a, err := engine.ParseSweep(s)
		if err != nil {
			return usageErr(err)
		}
		axes = append(axes, a)
	}
	var sets [][]string
	var problems []error
	for _, combo := range engine.CrossProduct(axes) {
		all := append(append([]string{}, f.sets...), combo...)
		if _, err := e.loadSweepPlan(file, all); err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", strings.Join(combo, " "), err))
			continue
		}
		sets = append(sets, all)
	}
	if len(problems) > 0 {
		return usageErr(errors.Join(problems...))
	}
	db, err := e.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	items, err := db.Enqueue(e.ctx, file, sets)
	if err != nil {
		return usageErr(err)
	}
	if !f.asJSON {
		fmt.Fprintf(e.stdout, "sweep %s: %d runs of %s queued, %d at a time (sluice queue lists them; resume continues after an interruption)\n",
			items[0].Sweep, len(items), file, parallel)
	}
	return e.runQueue(db, items, parallel, f.asJSON)
}

// loadSweepPlan validates file with the given --set assignments.
func (e *env) loadSweepPlan(file string, sets []string) (*engine.Plan, error) {
	overrides, err := parseOverrides(sets)
	if err != nil {
		return nil, err
	}
	rc, err := manualContext(file, "")
	if err != nil {
		return nil, err
	}
	return engine.LoadPlanFor(file, e.reg, overrides, rc)
}

// sweepDoc is `run --sweep --json` and `queue resume --json`.
type sweepDoc struct {
	Sweep string   `json:"sweep"`
	Runs  []runDoc `json:"runs"`
}

// runQueue runs queued items, parallel at a time, each one claimed first
// so that two processes resuming one queue never run an item twice. It
// prints a line per run as it ends, then the comparison of the runs.
func (e *env) runQueue(db *store.DB, items []store.QueueItem, parallel int, asJSON bool) error {
	parallel = max(parallel, 1)
	var (
		mu     sync.Mutex
		runs   []*engine.Run
		failed bool
		wg     sync.WaitGroup
		next   = make(chan store.QueueItem)
	)
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range next {
				r, err := e.runQueued(db, it)
				mu.Lock()
				switch {
				case err != nil:
					failed = true
					fmt.Fprintf(e.stderr, "sluice: queue item %d (%s): %v\n", it.ID, strings.Join(it.Sets, " "), err)
				case r != nil:
					runs = append(runs, r)
					failed = failed || r.Status != engine.StatusSucceeded
					if !asJSON {
						fmt.Fprintf(e.stdout, "run %d %s %s in %s  %s  %s\n", r.ID, r.Pipeline, r.Status, secondsText(r.Seconds), strings.Join(it.Sets, " "), metricsText(engine.Summarize(r).Metrics, 2))
					}
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, it := range items {
		select {
		case next <- it:
		case <-e.ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	sort.Slice(runs, func(i, j int) bool { return runs[i].ID < runs[j].ID })
	sweep := ""
	if len(items) > 0 {
		sweep = items[0].Sweep
	}
	if asJSON {
		doc := sweepDoc{Sweep: sweep, Runs: []runDoc{}}
		for _, r := range runs {
			doc.Runs = append(doc.Runs, newRunDoc(r))
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	} else if len(runs) >= 2 {
		fmt.Fprintf(e.stdout, "\nCOMPARE sweep %s (sluice runs --where sweep:%s)\n", sweep, sweep)
		writeCompareTable(e.stdout, engine.Compare(runs, false, e.reg), "text", false)
	}
	if e.ctx.Err() != nil {
		fmt.Fprintln(e.stderr, "sluice: interrupted; what was not run stays queued: sluice queue resume runs it")
		return silentExit(ExitFailed)
	}
	if failed {
		return silentExit(ExitFailed)
	}
	return nil
}

// runQueued claims an item and runs it. It returns nil, nil for an item
// another process claimed (or that was cancelled) meanwhile.
func (e *env) runQueued(db *store.DB, it store.QueueItem) (*engine.Run, error) {
	it, ok, err := db.Claim(e.ctx, it.ID)
	if err != nil || !ok {
		return nil, err
	}
	plan, err := e.loadSweepPlan(it.File, it.Sets)
	if err != nil {
		_ = db.Finish(context.WithoutCancel(e.ctx), it.ID, 0, false)
		return nil, err
	}
	r, err := e.execute(e.ctx, db, plan, engine.RunOptions{Sweep: it.Sweep}, io.Discard)
	if r == nil {
		// It never began: back to the queue.
		_ = db.Finish(context.WithoutCancel(e.ctx), it.ID, 0, true)
		return nil, err
	}
	if ferr := db.Finish(context.WithoutCancel(e.ctx), it.ID, r.ID, false); ferr != nil && err == nil {
		err = ferr
	}
	return r, err
}

func secondsText(s float64) string { return fmt.Sprintf("%.1fs", s) }

func (e *env) queueCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "List queued runs (sweeps); cancel or resume them",
		Long: `Queue lists the runs asked for by run --sweep: queued, running, done (with
the run each became) or cancelled. The queue is kept in the store, so it
survives the process that filled it: queue resume runs what is still
queued (an item left running by a process that died counts as queued),
queue cancel drops queued items.`,
		Example: "  sluice queue\n  sluice queue resume --parallel 2\n  sluice queue cancel --sweep 7",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			items, err := db.Queue(e.ctx)
			if err != nil {
				return usageErr(err)
			}
			if asJSON {
				if items == nil {
					items = []store.QueueItem{}
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(items)
			}
			if len(items) == 0 {
				fmt.Fprintln(e.stdout, "the queue is empty: sluice run FILE --sweep STAGE.PARAM=V1,V2 fills it")
				return nil
			}
			tw := newTable(e.stdout)
			fmt.Fprintln(tw, "ITEM\tSWEEP\tSTATUS\tRUN\tFILE\tSET")
			for _, it := range items {
				run := ""
				if it.Run > 0 {
					run = fmt.Sprint(it.Run)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", it.ID, it.Sweep, it.Status, run, it.File, strings.Join(it.Sets, " "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the queue as JSON")
	var sweep string
	cancel := &cobra.Command{
		Use:   "cancel [ITEM...] [--sweep ID]",
		Short: "Drop queued items (running and finished ones stay)",
		RunE: func(cmd *cobra.Command, args []string) error {
			var ids []int64
			for _, a := range args {
				id, ok := positiveNumber(a)
				if !ok {
					return usageErr(fmt.Errorf("item %q: want a number", a))
				}
				ids = append(ids, id)
			}
			if len(ids) == 0 && sweep == "" {
				return usageErr(errors.New("name items or a --sweep to cancel"))
			}
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			n, err := db.Cancel(e.ctx, sweep, ids...)
			if err != nil {
				return usageErr(err)
			}
			fmt.Fprintf(e.stdout, "%d queued item%s cancelled\n", n, plural(n))
			return nil
		},
	}
	cancel.Flags().StringVar(&sweep, "sweep", "", "cancel every queued item of this sweep")
	var resumeSweep string
	var parallel int
	var resumeJSON bool
	resume := &cobra.Command{
		Use:   "resume [--sweep ID] [--parallel N]",
		Short: "Run what is still queued",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			items, err := db.Queue(e.ctx)
			if err != nil {
				return usageErr(err)
			}
			var todo []store.QueueItem
			for _, it := range items {
				if it.Status == store.QueueQueued && (resumeSweep == "" || it.Sweep == resumeSweep) {
					todo = append(todo, it)
				}
			}
			if len(todo) == 0 {
				fmt.Fprintln(e.stdout, "nothing queued")
				return nil
			}
			return e.runQueue(db, todo, parallel, resumeJSON)
		},
	}
	resume.Flags().StringVar(&resumeSweep, "sweep", "", "only this sweep's items")
	resume.Flags().IntVar(&parallel, "parallel", 1, "runs at once")
	resume.Flags().BoolVar(&resumeJSON, "json", false, "print the runs as JSON")
	cmd.AddCommand(cancel, resume)
	return cmd
}
