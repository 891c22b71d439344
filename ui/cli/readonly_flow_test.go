package cli

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/store"
	"github.com/sluice-ml/sluice/ui"
)

// TestWorkbenchReadOnly opens the workbench as SLUICE_READONLY=1 does, on
// a store opened read-only: r on a pipeline and d on a run are refused
// and the store keeps the one run it had.
func TestWorkbenchReadOnly(t *testing.T) {
	dir, db := sampleDir(t)
	if _, stderr, code := sluice(t, dir, "--db", db, "run", "sample-data/iris.yaml"); code != ExitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	t.Chdir(dir)
	t.Setenv("SLUICE_READONLY", "1")
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, cfg: &Config{DBPath: db}, reg: stages.Registry()}
	if err := e.resolveConfig(); err != nil {
		t.Fatal(err)
	}
	if !e.cfg.ReadOnly {
		t.Fatal("SLUICE_READONLY=1 does not make the workbench read-only")
	}
	opts, err := e.storeOptions(true)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	paths := []string{filepath.Join("sample-data", "iris.yaml")}
	m := ui.New(e.ctx, e.workbenchDeps(paths, paths, st))
	defer m.Shutdown(5 * time.Second)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 36))
	waitScreen(t, tm, "READ-ONLY", "iris.yaml", "valid")
	tm.Send(keyMsg("r"))
	waitScreen(t, tm, "read-only: running a pipeline is disabled")
	tm.Send(keyMsg("3"))
	waitScreen(t, tm, "1 run")
	tm.Send(keyMsg("d"))
	waitScreen(t, tm, "read-only")
	tm.Send(keyMsg("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if n, err := st.Count(context.Background()); err != nil || n != 1 {
		t.Errorf("the store holds %d runs (%v), want the 1 it had", n, err)
	}
}
