package stages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

// execKillDelay is how long a cancelled command's process group has
// between SIGTERM and SIGKILL; execWaitDelay how long its pipes stay open
// after the cancel before they are closed and the stage returns. Both are
// well inside engine.CancelGrace, so the executor waits for the command to
// be gone before it reports the stage cancelled and sluice exits.
const (
	execKillDelay = 300 * time.Millisecond
	execWaitDelay = 500 * time.Millisecond
)

func execStage() *engine.StageType {
	return &engine.StageType{
		Name:  "exec",
		Group: "extract",
		Doc:   "run a command (no shell); its output streams into the log and the CSV file it writes becomes the table",
		In:    engine.KindTable, MinIn: 0, MaxIn: 1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "command", Type: engine.TypeStrings, Required: true, Doc: "the program and its arguments, e.g. [python3, fetch.py, --day, \"2024-01-31\"]"},
			{Name: "dir", Type: engine.TypeString, Doc: "the working folder, relative to the pipeline file (default: the pipeline file's folder)"},
			{Name: "env", Type: engine.TypeMap, Doc: "environment variables added to sluice's own, e.g. {API_URL: https://example.org}"},
			{Name: "output", Type: engine.TypePath, Output: true, Doc: "a CSV (or .jsonl) file the command writes, read as the stage's table; its path is in $SLUICE_OUTPUT"},
		},
		Check: checkExec,
		Run:   runExec,
		// A command may fetch, write or depend on anything: it always
		// runs, and so does everything downstream of it.
		Cache: engine.CacheNever,
	}
}

func checkExec(p engine.Params, in []engine.Shape, env engine.CheckEnv) (engine.Shape, []error) {
	var errs []error
	argv := p.Strings("command")
	if len(argv) == 0 || argv[0] == "" {
		errs = append(errs, paramErr("command", "give the program to run and its arguments as a list, e.g. [python3, fetch.py]"))
	}
	if _, err := execEnv(p.Map("env")); err != nil {
		errs = append(errs, err)
	}
	dir := env.Dir
	if d := p.String("dir"); d != "" {
		dir = engine.ResolvePath(dir, d)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			errs = append(errs, paramErr("dir", "no such folder %s", d))
		}
	}
	if len(errs) == 0 {
		if err := findProgram(argv[0], dir); err != nil {
			errs = append(errs, paramErr("command", "%v", err))
		}
	}
	switch {
	case p.String("output") != "":
		return tableShape(nil), errs // known only once the command has run
	case len(in) == 1:
		return passShape(in), errs
	}
	return tableShape(frame.Schema{}), errs
}

// findProgram checks that the program exists: a name with a slash is a
// path relative to dir, a bare name is looked up in PATH.
func findProgram(prog, dir string) error {
	if !strings.ContainsRune(prog, '/') && !strings.ContainsRune(prog, filepath.Separator) {
		if _, err := exec.LookPath(prog); err != nil {
			return fmt.Errorf("program %q not found in PATH", prog)
		}
		return nil
	}
	path := prog
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return fmt.Errorf("no such program %s", prog)
	case fi.IsDir():
		return fmt.Errorf("%s is a folder, not a program", prog)
	case fi.Mode()&0o111 == 0:
		return fmt.Errorf("%s is not executable (chmod +x it, or run it through its interpreter)", prog)
	}
	return nil
}

// execEnv turns the env parameter into NAME=value entries, sorted.
func execEnv(m map[string]any) ([]string, error) {
	out := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, paramErr("env", "%q is not a variable name", k)
		}
		var v string
		switch x := m[k].(type) {
		case string:
			v = x
		case int64:
			v = strconv.FormatInt(x, 10)
		case float64:
			v = strconv.FormatFloat(x, 'g', -1, 64)
		case bool:
			v = strconv.FormatBool(x)
		case nil:
		default:
			return nil, paramErr("env", "%s: want a string, number or bool, got %s", k, describe(x))
		}
		out = append(out, k+"="+v)
	}
	return out, nil
}

func runExec(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
	argv := sc.Params.Strings("command")
	if len(argv) == 0 {
		return nil, errors.New("command is empty")
	}
	env, err := execEnv(sc.Params.Map("env"))
	if err != nil {
		return nil, err
	}
	dir := sc.Plan.Spec.Dir
	if d := sc.Params.String("dir"); d != "" {
		dir = sc.Path(d)
	}
	env = append(env,
		"SLUICE_STAGE="+sc.ID(),
		"SLUICE_SEED="+strconv.FormatUint(sc.Seed, 10),
		"SLUICE_PIPELINE_DIR="+sc.Plan.Spec.Dir,
	)

	var in *frame.Frame
	if len(sc.Inputs) > 0 {
		if in, err = input(sc, 0); err != nil {
			return nil, err
		}
		tmp, err := os.MkdirTemp("", engine.ExecScratchPrefix+strconv.Itoa(os.Getpid())+"-*")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp) //nolint:errcheck // best effort; the exec scratch sweep removes leftovers
		path := filepath.Join(tmp, "input.csv")
		if err := engine.WriteFileAtomic(path, func(w io.Writer) error { return frame.WriteCSV(w, in) }); err != nil {
			return nil, fmt.Errorf("write the input for the command: %w", frameError{err})
		}
		env = append(env, "SLUICE_INPUT="+path)
	}
	outName := sc.Params.String("output")
	outPath, scratch := "", ""
	if outName != "" {
		if outPath, err = sc.OutputPath(outName); err != nil {
			return nil, err
		}
		// Each attempt writes a private file, renamed over the output only
		// once read back whole: two runs at once never share one, and a
		// failed attempt leaves the old output as it was. The file is made
		// (empty) in the output's confined folder, through the same
		// os.Root the rename goes through.
		if scratch, err = sc.OutputTemp(outName); err != nil {
			return nil, err
		}
		defer os.Remove(scratch) //nolint:errcheck // gone after the rename; else a failed attempt's
		env = append(env, "SLUICE_OUTPUT="+scratch)
	}

	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = execWaitDelay
	killGroup(cmd)
	stdout := sc.LogWriter("stdout")
	stderr := &lastLine{w: sc.LogWriter("stderr")}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	sc.Logf("$ %s", quoteArgs(argv))
	began := time.Now()
	if err = startExec(cmd); err == nil {
		err = cmd.Wait()
		untrackExec(cmd.Process.Pid)
		endGroup(cmd)
		if errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState.Success() {
			// The command succeeded; a background job it left holding its
			// output open has just been killed with its group.
			err = nil
		}
	}
	_ = stdout.Close() // flushes a last unterminated line into the log; never fails
	_ = stderr.Close()
	took := time.Since(began).Round(time.Millisecond)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s stopped after %s: %w", argv[0], took, context.Cause(ctx))
	}
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			msg := fmt.Sprintf("%s exited with status %d", argv[0], exitErr.ExitCode())
			if exitErr.ExitCode() < 0 {
				msg = fmt.Sprintf("%s was killed (%s)", argv[0], exitErr.ProcessState)
			}
			if last := stderr.Last(); last != "" {
				msg += ": " + last
			}
			return nil, errors.New(msg)
		}
		return nil, fmt.Errorf("run %s: %w", argv[0], err)
	}
	sc.Logf("%s finished in %s", argv[0], took)

	switch {
	case outPath != "":
		fi, err := os.Stat(scratch)
		if err != nil || fi.Size() == 0 {
			return nil, fmt.Errorf("%s exited without writing output %s (to $SLUICE_OUTPUT)", argv[0], outName)
		}
		format := formatCSV
		if ext := strings.ToLower(filepath.Ext(outPath)); ext == ".jsonl" || ext == ".ndjson" {
			format = formatJSONL
		}
		file, err := os.Open(scratch)
		if err != nil {
			return nil, err
		}
		defer file.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
		f, err := format.read(&ctxReader{ctx: ctx, r: file}, frame.ReadOptions{Name: outName, Size: fi.Size()})
		if err != nil {
			return nil, frameError{err}
		}
		if _, err := sc.RenameOutput(outName, scratch); err != nil {
			return nil, err
		}
		if err := recordInput(sc, outPath); err != nil {
			return nil, err
		}
		sc.Logf("read %s from %s", rowsText(f), outName)
		return tableOutput(f), nil
	case in != nil:
		return tableOutput(in), nil
	}
	empty, err := frame.New()
	if err != nil {
		return nil, err
	}
	return tableOutput(empty), nil
}

// recordInput adds a file the stage read to the run's data fingerprints.
// A StageContext made by engine.NewStageContext (a stage run alone, with
// run number 0) has no run record to add it to: RecordInput would panic.
func recordInput(sc *engine.StageContext, path string) error {
	if sc.RunID == 0 {
		return nil
	}
	return sc.RecordInput(path)
}

// lastLine passes writes on and remembers the last non-blank line.
type lastLine struct {
	w    io.WriteCloser
	mu   sync.Mutex
	cur  []byte
	last string
}

func (l *lastLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	for _, c := range p {
		if c == '\n' {
			l.keep()
			continue
		}
		if len(l.cur) < 4096 {
			l.cur = append(l.cur, c)
		}
	}
	l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lastLine) keep() {
	if s := strings.TrimSpace(string(l.cur)); s != "" {
		l.last = s
	}
	l.cur = l.cur[:0]
}

// Last returns the last non-blank line written.
func (l *lastLine) Last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keep()
	return l.last
}

func (l *lastLine) Close() error { return l.w.Close() }

// quoteArgs renders argv for the log, quoting what a shell would split.
func quoteArgs(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}
