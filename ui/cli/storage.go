package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/store"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// storageCmds are the commands that reclaim and measure space: gc, du.
func (e *env) storageCmds() []*cobra.Command {
	return []*cobra.Command{e.gcCmd(), e.duCmd(), e.fsckCmd()}
}

// fsckCmd checks the store's file, read-only: the page tree read from the
// file itself (a damaged one can make bbolt loop or crash), bbolt's own
// consistency check, the schema and every run record. A store with a
// problem exits 1, naming each.
func (e *env) fsckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "fsck",
		Short: "Check the store's file: its pages, schema and every run record (read-only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := os.Stat(e.cfg.DBPath); err != nil {
				return usageErr(err)
			}
			opts, err := e.storeOptions(true)
			if err != nil {
				return err
			}
			opts.ReadOnly = true
			db, err := store.Open(e.cfg.DBPath, opts)
			if err == nil {
				defer db.Close()
				err = db.Check(e.ctx)
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "%s: %v\n", e.cfg.DBPath, err)
				return silentExit(ExitFailed)
			}
			n, err := db.Count(e.ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: sound, %d runs\n", e.cfg.DBPath, n)
			return nil
		},
	}
}

func (e *env) runsRmCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rm RUN...",
		Short: "Move runs to the trash (sluice runs restore brings them back until sluice gc)",
		Long: `Runs rm moves runs to the trash: they leave every list and the stage cache
at once; sluice runs restore brings them back, until sluice gc empties the trash
and reclaims the space their artifacts take. A run still running is refused.
All the runs given move, or none.`,
		Example: "  sluice runs rm 3 4\n  sluice runs rm latest",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.trashRuns(args, false)
		},
	}
}

func (e *env) runsRestoreCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "restore RUN...",
		Short:   "Bring runs back from the trash",
		Example: "  sluice runs restore 3 4",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.trashRuns(args, true)
		},
	}
}

func (e *env) trashRuns(args []string, restore bool) error {
	db, err := e.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	ids := make([]int64, 0, len(args))
	for _, a := range args {
		var id int64
		if restore {
			var ok bool
			if id, ok = positiveNumber(a); !ok {
				return usageErr(fmt.Errorf("%q is not a run number", a))
			}
		} else if id, err = e.parseRunRef(db, a); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	verb := "moved to the trash"
	if restore {
		err, verb = db.Restore(e.ctx, ids...), "restored"
	} else {
		err = db.Delete(e.ctx, ids...)
	}
	if err != nil {
		return usageErr(err)
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = fmt.Sprint(id)
	}
	fmt.Fprintf(e.stdout, "%s: run %s\n", verb, strings.Join(names, ", "))
	if !restore {
		fmt.Fprintf(e.stdout, "sluice runs restore %s brings them back; sluice gc reclaims their space\n", strings.Join(names, " "))
	}
	return nil
}

func (e *env) gcCmd() *cobra.Command {
	var opts store.GCOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Empty the trash, delete unreferenced artifacts and compact the store",
		Long: `Gc deletes the runs in the trash for good (and, with --keep-last or
--older-than, older runs too: with both, runs beyond the newest N of their
pipeline that are also older than the duration), deletes the artifacts no
remaining run refers to, and compacts the database file. It prints the store's
size before and after and what it freed; --dry prints the same without
changing anything. Runs in progress, and runs a model alias points to, are
kept. Safe while other processes run pipelines on the store: an artifact newer
than the oldest run in progress is kept.`,
		Example: "  sluice gc --dry\n  sluice gc --keep-last 5 --older-than 720h",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.KeepLast < 0 {
				return usageErr(fmt.Errorf("--keep-last %d: want 0 or more", opts.KeepLast))
			}
			if opts.OlderThan < 0 {
				return usageErr(fmt.Errorf("--older-than %s: want a positive duration", opts.OlderThan))
			}
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := db.GC(e.ctx, opts)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if rep.Runs == nil {
					rep.Runs = []int64{}
				}
				return enc.Encode(rep)
			}
			w := e.stdout
			if rep.Dry {
				fmt.Fprintln(w, "dry run: nothing changed")
			}
			fmt.Fprintf(w, "before  %s\n", usageLine(rep.Before))
			verb := "freed"
			if rep.Dry {
				verb = "would free"
			}
			fmt.Fprintf(w, "%s   %d runs, %d files, %s", verb, len(rep.Runs), rep.Files, common.Bytes(int(rep.Bytes)))
			if rep.Compacted > 0 {
				fmt.Fprintf(w, ", database compacted by %s", common.Bytes(int(rep.Compacted)))
			}
			fmt.Fprintln(w)
			if rep.Kept > 0 {
				fmt.Fprintf(w, "kept    %d unreferenced artifacts newer than a run in progress\n", rep.Kept)
			}
			if !rep.Dry {
				fmt.Fprintf(w, "after   %s\n", usageLine(rep.After))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.Dry, "dry", false, "print what would be freed, change nothing")
	cmd.Flags().IntVar(&opts.KeepLast, "keep-last", 0, "also delete every run of a pipeline but its N newest")
	cmd.Flags().DurationVar(&opts.OlderThan, "older-than", 0, "also delete runs started longer ago than this (720h: 30 days)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func usageLine(u store.Usage) string {
	return fmt.Sprintf("%s total: database %s, artifacts %s in %d files; %d runs, %d in the trash",
		common.Bytes(int(u.Total())), common.Bytes(int(u.DatabaseBytes)), common.Bytes(int(u.ArtifactBytes)), u.ArtifactFiles, u.Runs, u.Trashed)
}

func (e *env) duCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "du",
		Short: "Show the store's size: database and artifacts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			u, err := db.Usage(e.ctx)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					store.Usage
					Total     int64  `json:"total_bytes"`
					Database  string `json:"database"`
					Artifacts string `json:"artifacts"`
				}{u, u.Total(), db.Path(), db.ArtifactsLocation()})
			}
			tw := newTable(e.stdout)
			fmt.Fprintln(tw, "PART\tSIZE\tFILES\tPATH")
			fmt.Fprintf(tw, "database\t%s\t1\t%s\n", common.Bytes(int(u.DatabaseBytes)), db.Path())
			fmt.Fprintf(tw, "artifacts\t%s\t%d\t%s\n", common.Bytes(int(u.ArtifactBytes)), u.ArtifactFiles, db.ArtifactsLocation())
			fmt.Fprintf(tw, "total\t%s\t%d\t\n", common.Bytes(int(u.Total())), u.ArtifactFiles+1)
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%d runs, %d in the trash (sluice gc empties it)\n", u.Runs, u.Trashed)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the sizes as JSON")
	return cmd
}
