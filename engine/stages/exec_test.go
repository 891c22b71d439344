//go:build unix

package stages_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// execPipeline is one exec stage running sh -c script, after a read of
// people.csv when input is set.
func execPipeline(t *testing.T, script, with string, input bool) string {
	t.Helper()
	pre := ""
	if input {
		pre = "  - id: load\n    uses: read_csv\n    with: {path: people.csv}\n"
	}
	if with != "" {
		with = ", " + with
	}
	return pipeline(t, pre+`  - id: cmd
    uses: exec
    with: {command: [sh, -c, `+yamlQuote(script)+`]`+with+`}
`, map[string]string{"people.csv": peopleCSV})
}

// The command's output reaches the log line by line while it runs: the
// command prints "one" and then waits until the test has seen "one" in
// the log (a flag file), so the order proves the streaming without
// reading a clock.
func TestExecStreamsLogs(t *testing.T) {
	t.Parallel()
	flag := filepath.Join(t.TempDir(), "seen-one")
	script := "echo one; i=0; while [ ! -e " + flag + " ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done; echo two; echo oops >&2; echo $GREETING"
	path := execPipeline(t, script, "env: {GREETING: hello}", false)
	rec := &recorder{}
	ex := &engine.Executor{Recorder: rec, FlushInterval: 20 * time.Millisecond}
	type result struct {
		run *engine.Run
		err error
	}
	done := make(chan result, 1)
	go func() {
		run, err := ex.Run(context.Background(), mustPlan(t, path))
		done <- result{run, err}
	}()
	for seen := false; !seen; time.Sleep(5 * time.Millisecond) {
		for _, l := range rec.lines("cmd", "stdout") {
			seen = seen || l.Text == "one"
		}
		select {
		case r := <-done:
			t.Fatalf("the run ended (%v) before its first line reached the log", r.err)
		default:
		}
	}
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("executor: %v", r.err)
	}
	run := r.run
	if run.Status != engine.StatusSucceeded {
		t.Fatalf("run: got %s (%s), want succeeded", run.Status, run.Error)
	}
	var out []string
	for _, l := range rec.lines("cmd", "stdout") {
		out = append(out, l.Text)
	}
	if got, want := strings.Join(out, "|"), "one|two|hello"; got != want {
		t.Fatalf("stdout lines: got %s, want %s", got, want)
	}
	if errs := rec.lines("cmd", "stderr"); len(errs) != 1 || errs[0].Text != "oops" {
		t.Errorf("stderr lines: got %v, want [oops]", errs)
	}
}

func TestExecFails(t *testing.T) {
	t.Parallel()
	path := execPipeline(t, "echo working; echo first problem >&2; echo the real problem >&2; exit 3", "", false)
	err := runErr(t, path)
	if want := "sh exited with status 3: the real problem"; !strings.Contains(err.Error(), want) {
		t.Errorf("got %q, want it to contain %q", err, want)
	}
}

// Cancelling the run kills the command (and what it started) at once.
func TestExecCancel(t *testing.T) {
	t.Parallel()
	path := execPipeline(t, hostPID+" > pid; exec sleep 30", "", false)
	plan := mustPlan(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	pidFile := filepath.Join(filepath.Dir(path), "pid")
	go func() {
		for range 6000 { // wait until the command is running (a minute at most)
			if b, err := os.ReadFile(pidFile); err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	run, returned := runWatching(t, ctx, plan, "cmd", nil)
	if run.Status != engine.StatusCancelled {
		t.Errorf("run: got %s, want cancelled", run.Status)
	}
	if !returned {
		t.Error("the stage did not return when cancelled (its command was not stopped): the executor abandoned it")
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive a second after the cancel", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The command's own child is killed with it.
func TestExecCancelKillsChildren(t *testing.T) {
	t.Parallel()
	path := execPipeline(t, "sh -c '"+hostPID+" > pid.tmp; mv pid.tmp pid; exec sleep 30' & wait", "", false)
	plan := mustPlan(t, path)
	ps, _ := plan.Stage("cmd")
	ctx, cancel := context.WithCancel(context.Background())
	pidFile := filepath.Join(filepath.Dir(path), "pid")
	done := make(chan error, 1)
	go func() {
		_, err := ps.Type.Run(ctx, engine.NewStageContext(plan, ps, nil, nil))
		done <- err
	}()
	for range 200 {
		if b, err := os.ReadFile(pidFile); err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want an error wrapping context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("exec still running a second after the cancel")
	}
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(time.Second)
	for pid > 0 && alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d still alive a second after the cancel", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestExecOutput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, script, with string
		input              bool
		wantSchema         string
		wantRows           int
	}{
		{"output file becomes the table", `printf 'a,b\n1,x\n2,y\n' > "$SLUICE_OUTPUT"`, "output: made/out.csv", false, "a int, b string", 2},
		{"jsonl output", `printf '{"a": 1}\n' > "$SLUICE_OUTPUT"`, "output: out.jsonl", false, "a int", 1},
		{"input reaches the command", `(head -1 "$SLUICE_INPUT"; grep ann "$SLUICE_INPUT") > "$SLUICE_OUTPUT"`, "output: out.csv", true, "name string, age int, height float, member bool, joined time", 1},
		{"no output passes the input on", `test -s "$SLUICE_INPUT"`, "", true, "name string, age int, height float, member bool, joined time", 3},
		{"no output and no input gives an empty table", "true", "", false, "", 0},
		{"working folder", `pwd > "$SLUICE_OUTPUT.txt"; printf 'd\n%s\n' "$(basename "$(pwd)")" > "$SLUICE_OUTPUT"`, "dir: sub, output: out.csv", false, "d string", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := execPipeline(t, tt.script, tt.with, tt.input)
			if strings.Contains(tt.with, "dir: sub") {
				if err := os.Mkdir(filepath.Join(filepath.Dir(path), "sub"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			f := mustRun(t, path, "cmd")
			if got := f.Schema().String(); got != tt.wantSchema {
				t.Errorf("schema: got %q, want %q", got, tt.wantSchema)
			}
			if f.NumRows() != tt.wantRows {
				t.Errorf("rows: got %d, want %d", f.NumRows(), tt.wantRows)
			}
		})
	}
}

func TestExecStaleOutput(t *testing.T) {
	t.Parallel()
	path := execPipeline(t, "true", "output: old.csv", false)
	old := filepath.Join(filepath.Dir(path), "old.csv")
	if err := os.WriteFile(old, []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-time.Hour)
	if err := os.Chtimes(old, long, long); err != nil {
		t.Fatal(err)
	}
	if err := runErr(t, path); !strings.Contains(err.Error(), "sh exited without writing output old.csv") {
		t.Errorf("got %q, want it to say the command did not write old.csv", err)
	}
	if b, _ := os.ReadFile(old); string(b) != "a\n1\n" {
		t.Errorf("the old output was changed by a failed attempt: %q", b)
	}
	path = execPipeline(t, "true", "output: none.csv", false)
	if err := runErr(t, path); !strings.Contains(err.Error(), "sh exited without writing output none.csv") {
		t.Errorf("got %q, want it to say the command wrote no none.csv", err)
	}
}

func TestExecInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, with, want string
	}{
		{"unknown program", "{command: [no-such-program-xyz, a]}", `command: program "no-such-program-xyz" not found in PATH`},
		{"missing script", "{command: [./fetch.sh]}", "command: no such program ./fetch.sh"},
		{"script not executable", "{command: [./people.csv]}", "command: ./people.csv is not executable"},
		{"empty", "{command: []}", "command: give the program to run"},
		{"bad env", "{command: [true], env: {A: [1]}}", "env: A: want a string, number or bool"},
		{"missing folder", "{command: [true], dir: nowhere}", "dir: no such folder nowhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := pipeline(t, "  - id: cmd\n    uses: exec\n    with: "+tt.with+"\n", map[string]string{"people.csv": peopleCSV})
			if got := invalid(t, path); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

// alive reports whether process pid runs. A zombie (killed, not yet reaped
// by its new parent) does not count.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return !os.IsNotExist(err) // no /proc: trust kill
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

// hostPID is shell text that prints the shell's process id as the test
// sees it. An exec command may run in a PID namespace of its own, where
// $$ is the namespace's number (1 for the command); /proc, the system's,
// gives the outer one.
const hostPID = `p=$$; [ -r /proc/self/stat ] && read p _ < /proc/self/stat; echo $p`

// TestExecConcurrentRunsDoNotShareOutput runs one pipeline twice at once:
// each attempt's command writes its own private $SLUICE_OUTPUT, renamed
// over the output when done. Before, both wrote the same file and read
// each other's rows.
func TestExecConcurrentRunsDoNotShareOutput(t *testing.T) {
	t.Parallel()
	path := execPipeline(t, `{ echo a; `+hostPID+`; } > "$SLUICE_OUTPUT"; sleep 0.4`, "output: out.csv", false)
	plan := mustPlan(t, path)
	got := make(chan string, 2)
	for range 2 {
		go func() {
			tables, err := outputs(t, plan)
			if err != nil {
				got <- "run: " + err.Error()
				return
			}
			f := tables["cmd"]
			if f.NumRows() != 1 {
				got <- "rows: " + strconv.Itoa(f.NumRows())
				return
			}
			c, _ := f.ColByName("a")
			got <- c.Str(0)
		}()
	}
	a, b := <-got, <-got
	if a == b || strings.Contains(a+b, ":") {
		t.Errorf("the two runs read %q and %q, want each its own command's pid", a, b)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("scratch file %s left behind", e.Name())
		}
	}
}

// TestExecOutputTempIsConfined: the file a command writes ($SLUICE_OUTPUT)
// is made, empty, before the command starts, in the output's own folder
// under the pipeline's (created through the same os.Root the rename goes
// through), not merely named there; an output folder that is a link out
// of the pipeline's folder is refused when the file is validated.
func TestExecOutputTempIsConfined(t *testing.T) {
	t.Parallel()
	script := `test -f "$SLUICE_OUTPUT" && ! test -L "$SLUICE_OUTPUT" && ! test -s "$SLUICE_OUTPUT" || exit 3
[ "$(cd "$(dirname "$SLUICE_OUTPUT")" && pwd -P)" = "$(cd "$SLUICE_PIPELINE_DIR/made/deep" && pwd -P)" ] || exit 4
printf 'a\n1\n' > "$SLUICE_OUTPUT"`
	path := execPipeline(t, script, "output: made/deep/out.csv", false)
	if f := mustRun(t, path, "cmd"); f.NumRows() != 1 {
		t.Fatalf("rows: got %d, want 1", f.NumRows())
	}
	ents, err := os.ReadDir(filepath.Join(filepath.Dir(path), "made", "deep"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "out.csv" {
		t.Errorf("the output's folder holds %v, want only out.csv", ents)
	}

	outside := t.TempDir()
	path = execPipeline(t, `touch "$SLUICE_PIPELINE_DIR/ran"; printf 'a\n1\n' > "$SLUICE_OUTPUT"`, "output: link/out.csv", false)
	if err := os.Symlink(outside, filepath.Join(filepath.Dir(path), "link")); err != nil {
		t.Fatal(err)
	}
	if got := invalid(t, path); !strings.Contains(got, "output: link/out.csv is outside the folder") {
		t.Errorf("got %q, want the output refused as outside the pipeline's folder", got)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("the folder the link points to holds %v, want nothing", ents)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "ran")); err == nil {
		t.Error("the command ran although its output is refused")
	}
}
