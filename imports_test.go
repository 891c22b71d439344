package main

import (
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/sluice-ml/sluice"

// workbench stands for ui and its subpackages other than ui/cli (the
// screens and ui/internal/...): DESIGN.md "Layout" draws ui as one box,
// "one subpackage per screen once it outgrows a file", so an arrow to or
// from ui is an arrow to or from any of them.
const workbench = "ui/…"

// imports are the arrows of DESIGN.md "Layout" ("Dependency direction"):
// for every package of the module (by its path in the module, "" for
// main), the packages of the module it may import directly. A package
// that is not listed fails the test: a new package gets its arrows here
// and in the README's "Project structure" section.
//
// Arrows DESIGN.md does not draw are kept only where the README's
// "Project structure" section lists them; each says so.
var imports = map[string][]string{
	"": {"ui/cli"},

	// DESIGN.md: ui/cli → ui, store, engine, engine/stages.
	"ui/cli": {workbench, "store", "engine", "engine/stages",
		// README "Project structure" (ui/cli → … engine/frame): predict
		// and export read and write rows as frames.
		"engine/frame",
		// README "Project structure" (the engine/schedule and serve
		// items): ui/cli wires the scheduler and the scoring server to
		// the store and to the code sluice run uses.
		"engine/schedule", "serve"},

	// DESIGN.md: ui → engine (and the store through consumer-side
	// interfaces, never by import).
	workbench: {"engine", workbench},

	// DESIGN.md: store → engine (types only).
	"store": {"engine",
		// README "Project structure": the artifact store below store.
		"store/artifacts"},
	"store/artifacts": {},

	// DESIGN.md: engine/stages → engine, engine/frame, ml.
	"engine/stages": {"engine", "engine/frame", "ml"},

	// DESIGN.md draws no arrow out of engine. README "Project structure":
	// engine → engine/frame (engine.Shape carries a table's frame.Schema
	// so validation can name columns) and engine → engine/timetable (the
	// schedule expressions a pipeline file declares).
	"engine":           {"engine/frame", "engine/timetable"},
	"engine/frame":     {},
	"engine/timetable": {},
	// README "Project structure": the scheduler.
	"engine/schedule": {"engine", "engine/timetable"},
	// README "Project structure": the scoring server.
	"serve": {"engine", "engine/stages", "engine/frame"},

	"ml": {},

	// README "Project structure": the make bench-compare harness reads
	// CSV with engine/frame and times ml.
	"internal/benchcompare": {"engine/frame", "ml"},
}

// outside are the only packages outside the module and the standard
// library that these packages may depend on, directly or not (DESIGN.md:
// "ml → gonum only; engine/frame → stdlib"; README "Project structure":
// store/artifacts → stdlib, engine/timetable → robfig/cron only).
var outside = map[string][]string{
	"ml":               {"gonum.org/v1/gonum/"},
	"engine/frame":     {},
	"store/artifacts":  {},
	"engine/timetable": {"github.com/robfig/cron/"},
}

// TestImportRules keeps the dependency direction of the design: each
// package imports only the packages of the module its arrows allow, and
// the packages kept to the standard library (or one library) stay so.
func TestImportRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, ours := rel(f[0])
		if !ours {
			continue
		}
		seen[group(pkg)] = true
		allowed, listed := imports[group(pkg)]
		if !listed {
			t.Errorf("%s is not in the import rules: add its arrows to imports_test.go and the README's \"Project structure\"", name(pkg))
			continue
		}
		for _, dep := range f[1:] {
			d, ours := rel(dep)
			if !ours || d == pkg {
				continue
			}
			if !slices.Contains(allowed, group(d)) {
				t.Errorf("%s imports %s, which the design does not allow", name(pkg), name(d))
			}
		}
	}
	for pkg := range imports {
		if !seen[pkg] {
			t.Errorf("the import rules list %s, which is not a package of the module", name(pkg))
		}
	}

	var pkgs []string
	for pkg := range outside {
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if _, ours := rel(dep); ours {
				continue
			}
			if !slices.ContainsFunc(outside[pkg], func(p string) bool { return strings.HasPrefix(dep, p) }) {
				t.Errorf("%s depends on %s: it may use only %v and the standard library", pkg, dep, outside[pkg])
			}
		}
	}
}

// rel returns a package's path in the module ("" for main).
func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	return strings.CutPrefix(path, module+"/")
}

// group maps the workbench's packages to workbench.
func group(pkg string) string {
	if pkg == "ui" || (strings.HasPrefix(pkg, "ui/") && pkg != "ui/cli") {
		return workbench
	}
	return pkg
}

func name(pkg string) string {
	if pkg == "" {
		return "main"
	}
	return pkg
}
