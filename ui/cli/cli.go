package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/store"
)

// Version is sluice's version, set at build time with
// -ldflags "-X github.com/sluice-ml/sluice/ui/cli.Version=v1.2.3".
var Version = "0.1.0-dev"

// Exit statuses.
const (
	ExitOK      = 0 // success
	ExitFailed  = 1 // the pipeline ran and failed or was cancelled
	ExitInvalid = 2 // bad usage, an invalid file, or an error before running
)

// exitError carries an exit status through cobra. A nil err means the
// message was already printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as bad usage or bad input (exit 2).
func usageErr(err error) error { return &exitError{code: ExitInvalid, err: err} }

// silentExit ends with code after the command printed what it had to say.
func silentExit(code int) error { return &exitError{code: code} }

// Config is everything the commands read from flags and the environment.
type Config struct {
	DBPath   string
	Workers  int
	JSON     bool
	ReadOnly bool // the workbench changes nothing (--readonly, SLUICE_READONLY=1)
	// Artifacts is where stage outputs' bytes live (--artifacts,
	// SLUICE_ARTIFACTS): a folder, file://PATH or s3://BUCKET/PREFIX; ""
	// is the folder "artifacts" beside the database.
	Artifacts string
}

// env is the process's surroundings, passed explicitly for tests.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	cfg    *Config
	reg    *engine.Registry

	arts   engine.ArtifactStore // opened from cfg.Artifacts by storeOptions; nil until then
	remote *temporalFlags       // sluice run --engine temporal: where its stages run
}

// Main runs sluice with args (without the program name) and returns the
// exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, cfg: &Config{}, reg: stages.Registry()}
	root := e.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var xe *exitError
	if errors.As(err, &xe) {
		if xe.err != nil {
			printError(stderr, xe.err)
		}
		return xe.code
	}
	// cobra's own errors: unknown command or flag, wrong arguments.
	printError(stderr, err)
	return ExitInvalid
}

func printError(w io.Writer, err error) {
	var list engine.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(w, e.Error())
		}
		fmt.Fprintf(w, "%d problem%s\n", len(list), plural(len(list)))
		return
	}
	fmt.Fprintf(w, "sluice: %v\n", err)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (e *env) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "sluice [PATH...]",
		Short: "Data and machine-learning pipelines in one DAG, with a terminal workbench",
		Long: `sluice runs data pipelines (extract → transform → load) and machine-learning
pipelines (preprocess → fit → tune → evaluate → export) described in one YAML
file, keeps every run in a local store, and opens a terminal workbench to
compose, watch, compare and export.

With no command, sluice opens the workbench on the pipeline files given, or
found under the folders given (default: the current folder).`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := unknownCommand(cmd, args); err != nil {
				return err
			}
			return e.workbench(args)
		},
	}
	root.PersistentFlags().StringVar(&e.cfg.DBPath, "db", "", "run store (env SLUICE_DB; default .sluice/sluice.db)")
	root.PersistentFlags().StringVar(&e.cfg.Artifacts, "artifacts", "", "artifact store: a folder, file://PATH or s3://BUCKET/PREFIX (env SLUICE_ARTIFACTS; default the folder artifacts beside the run store)")
	root.Flags().BoolVar(&e.cfg.ReadOnly, "readonly", false, "open the workbench with every key that runs, changes or writes disabled (env SLUICE_READONLY=1)")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		return e.resolveConfig()
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath())) //nolint:staticcheck // ST1005: printed whole, its hint sentence last
	})
	root.AddCommand(e.runCmd(), e.rerunCmd(), e.validateCmd(), e.stagesCmd(), e.runsCmd(), e.showCmd())
	root.AddCommand(e.extraCmds()...)
	root.AddCommand(e.tagCmds()...)
	root.AddCommand(e.reportCmd(), e.queueCmd(), e.workerCmd())
	root.AddCommand(e.automationCmds()...)
	root.AddCommand(e.registryCmds()...)
	root.AddCommand(e.storageCmds()...)
	return root
}

// resolveConfig fills the config: flags over environment over defaults.
func (e *env) resolveConfig() error {
	if e.cfg.DBPath == "" {
		e.cfg.DBPath = os.Getenv("SLUICE_DB")
	}
	if e.cfg.DBPath == "" {
		e.cfg.DBPath = filepath.Join(".sluice", "sluice.db")
	}
	if e.cfg.Artifacts == "" {
		e.cfg.Artifacts = os.Getenv("SLUICE_ARTIFACTS")
	}
	if !e.cfg.ReadOnly {
		switch v := os.Getenv("SLUICE_READONLY"); strings.ToLower(v) {
		case "", "0", "false", "no":
		case "1", "true", "yes":
			e.cfg.ReadOnly = true
		default:
			return usageErr(fmt.Errorf("SLUICE_READONLY=%q: want 1 or 0", v))
		}
	}
	if e.cfg.Workers < 0 {
		return usageErr(fmt.Errorf("--workers must be at least 1, got %d", e.cfg.Workers))
	}
	if e.cfg.Workers == 0 {
		e.cfg.Workers = runtime.NumCPU()
	}
	return nil
}

// openStore opens the run store named by the config.
//
// A store that cannot be written (a read-only mount, a file without
// write permission) is opened read-only instead, so the reading commands
// still work there; a command that then writes gets store.ErrReadOnly.
// Runs left running by a dead process are marked interrupted only when
// the store can be written.
func (e *env) openStore() (*store.DB, error) {
	opts, err := e.storeOptions(false)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(e.cfg.DBPath, opts)
	if err != nil && (errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission)) {
		opts.ReadOnly = true
		db, err = store.Open(e.cfg.DBPath, opts)
	}
	if err != nil {
		return nil, usageErr(err)
	}
	return db, nil
}

// storeOptions returns the options every command opens the run store
// with: the artifact store named by --artifacts / SLUICE_ARTIFACTS
// (opened once per process), or the default folder beside the database.
// An artifact store that cannot be opened is a usage error (exit 2).
func (e *env) storeOptions(readOnly bool) (*store.Options, error) {
	if e.arts == nil && e.cfg.Artifacts != "" {
		a, err := store.OpenArtifacts(e.ctx, e.cfg.Artifacts)
		if err != nil {
			return nil, usageErr(fmt.Errorf("--artifacts %s: %w", e.cfg.Artifacts, err))
		}
		e.arts = a
	}
	return &store.Options{Timeout: time.Second, ReadOnly: readOnly, Artifacts: e.arts}, nil
}

// parseRunRef reads a run reference: a number, or "latest".
func (e *env) parseRunRef(db *store.DB, ref string) (int64, error) {
	if strings.EqualFold(ref, "latest") {
		id, err := db.Latest(e.ctx, "")
		if err != nil {
			if errors.Is(err, engine.ErrNotFound) {
				return 0, usageErr(fmt.Errorf("no runs in %s yet", e.cfg.DBPath))
			}
			return 0, usageErr(err)
		}
		return id, nil
	}
	id, ok := positiveNumber(ref)
	if !ok {
		return 0, usageErr(fmt.Errorf("run %q: want a run number or latest", ref))
	}
	return id, nil
}

// positiveNumber reads a run or queue item number: decimal digits, no
// sign, no leading zero, greater than 0.
func positiveNumber(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != s {
		return 0, false
	}
	return n, true
}

// unknownCommand reports a first argument that is neither a path that
// exists nor looks like one (no separator, no extension, not . or ..) as
// a mistyped command, with the closest command name: `sluice rn` means
// run, not a folder called rn.
func unknownCommand(root *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	a := args[0]
	if _, err := os.Stat(a); err == nil {
		return nil
	}
	if a == "" || strings.ContainsAny(a, `/\.`) {
		return nil
	}
	var names []string
	for _, c := range root.Commands() {
		if c.Hidden || !c.IsAvailableCommand() && c.Name() != "help" {
			continue
		}
		names = append(names, c.Name())
		names = append(names, c.Aliases...)
	}
	msg := fmt.Sprintf("unknown command %q", a)
	if s := engine.DidYouMean(a, names); s != "" {
		msg += "; did you mean " + s + "?"
	}
	return usageErr(fmt.Errorf("%s\nRun 'sluice --help' for the commands; a folder or file to open must exist.", msg)) //nolint:staticcheck // ST1005: printed whole, its hint sentence last
}
