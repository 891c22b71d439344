package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRunsRmRestoreGCAndDu goes through the trash from the command line:
// rm hides a run from runs and latest, show says where it is, restore
// brings it back, gc --dry changes nothing, gc deletes it for good and
// du reports the two parts of the store.
func TestRunsRmRestoreGCAndDu(t *testing.T) {
	dir, db := sampleDir(t)
	runJSON(t, dir, db, "sample-data/iris.yaml")
	runJSON(t, dir, db, "sample-data/iris.yaml", "--set", "model.C=0.5")
	count := func() int {
		out, _, _ := sluice(t, dir, "--db", db, "runs", "--json")
		var rows []runRow
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatal(err)
		}
		return len(rows)
	}
	if _, stderr, code := sluice(t, dir, "--db", db, "runs", "rm", "2"); code != 0 {
		t.Fatalf("runs rm: exit %d: %s", code, stderr)
	}
	if n := count(); n != 1 {
		t.Errorf("runs after rm: %d, want 1", n)
	}
	if out, _, _ := sluice(t, dir, "--db", db, "show", "2"); !strings.Contains(out, "in the trash") {
		t.Errorf("show of a run in the trash does not say so:\n%s", out)
	}
	if _, _, code := sluice(t, dir, "--db", db, "runs", "rm", "2"); code != ExitInvalid {
		t.Errorf("rm of a run already in the trash: exit %d, want 2", code)
	}
	if _, stderr, code := sluice(t, dir, "--db", db, "runs", "restore", "2"); code != 0 {
		t.Fatalf("runs restore: exit %d: %s", code, stderr)
	}
	if n := count(); n != 2 {
		t.Errorf("runs after restore: %d, want 2", n)
	}
	sluice(t, dir, "--db", db, "runs", "rm", "1")
	out, _, code := sluice(t, dir, "--db", db, "gc", "--dry", "--json")
	var rep struct {
		Runs []int64
		Dry  bool
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !rep.Dry || len(rep.Runs) != 1 || rep.Runs[0] != 1 {
		t.Fatalf("gc --dry: exit %d, %v, %s", code, err, out)
	}
	if _, _, code := sluice(t, dir, "--db", db, "runs", "restore", "1"); code != 0 {
		t.Error("gc --dry emptied the trash")
	}
	sluice(t, dir, "--db", db, "runs", "rm", "1")
	out, stderr, code := sluice(t, dir, "--db", db, "gc")
	if code != 0 || !strings.Contains(out, "freed   1 runs") || !strings.Contains(out, "after") {
		t.Fatalf("gc: exit %d\n%s%s", code, out, stderr)
	}
	if _, _, code := sluice(t, dir, "--db", db, "runs", "restore", "1"); code != ExitInvalid {
		t.Errorf("restore after gc: exit %d, want 2", code)
	}
	out, _, _ = sluice(t, dir, "--db", db, "du", "--json")
	var du struct {
		DatabaseBytes int64 `json:"database_bytes"`
		ArtifactBytes int64 `json:"artifact_bytes"`
		Total         int64 `json:"total_bytes"`
		Runs          int
	}
	if err := json.Unmarshal([]byte(out), &du); err != nil || du.DatabaseBytes == 0 || du.ArtifactBytes == 0 || du.Total != du.DatabaseBytes+du.ArtifactBytes || du.Runs != 1 {
		t.Errorf("du: %v %s", err, out)
	}
	if _, stderr, code := sluice(t, dir, "--db", db, "export", "latest", "-o", "m.model"); code != 0 {
		t.Fatalf("export after gc: %s", stderr)
	}
	if _, stderr, code := sluice(t, dir, "predict", "m.model", "sample-data/iris.csv"); code != 0 {
		t.Fatalf("predict after gc: %s", stderr)
	}
}
