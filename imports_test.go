package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/sluice-ml/sluice"

// TestImportRules keeps the dependency direction of the design: each
// package may depend only on the packages listed (of this module), and
// ml only on gonum and the standard library.
func TestImportRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	allowed := map[string][]string{
		"engine/frame":     {},
		"engine":           {"engine/frame", "engine/timetable"},
		"engine/timetable": {},
		"engine/schedule":  {"engine", "engine/frame", "engine/timetable"},
		"serve":            {"engine", "engine/frame", "engine/timetable", "engine/stages", "ml"},
		"engine/stages":    {"engine", "engine/frame", "engine/timetable", "ml"},
		"ml":               {},
		"store":            {"engine", "engine/frame", "engine/timetable", "store/artifacts"},
		"store/artifacts":  {},
		"ui":               {"engine", "engine/frame", "engine/timetable", "ui/*"},
		"ui/cli":           {"ui", "ui/*", "store", "store/*", "engine", "engine/*", "ml", "serve"},
	}
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-deps", "./"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			rel, ours := strings.CutPrefix(dep, module+"/")
			if !ours {
				if pkg == "ml" && strings.Contains(dep, ".") && !strings.HasPrefix(dep, "gonum.org/") {
					t.Errorf("ml imports %s: ml may use only gonum and the standard library", dep)
				}
				continue
			}
			if rel == pkg || allowedDep(rel, ok) {
				continue
			}
			t.Errorf("%s depends on %s, which the design does not allow", pkg, rel)
		}
	}
}

func allowedDep(rel string, ok []string) bool {
	for _, a := range ok {
		if a == rel || (strings.HasSuffix(a, "/*") && strings.HasPrefix(rel, strings.TrimSuffix(a, "*"))) {
			return true
		}
	}
	return false
}
