package main

import (
	"os"
	"os/exec"
	"regexp"
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

// design are the arrows of DESIGN.md "Layout" ("Dependency direction"),
// exactly as it draws them: for a package (by its path in the module, ""
// for main), the packages of the module it may import directly. The
// workbench's packages may import each other (one box in the layout).
var design = map[string][]string{
	"":              {"ui/cli"},
	"ui/cli":        {workbench, "store", "engine", "engine/stages"},
	workbench:       {"engine", workbench},
	"store":         {"engine"},
	"engine/stages": {"engine", "engine/frame", "ml"},
	"engine":        {},
	"engine/frame":  {},
	"ml":            {},
}

// readme are the arrows DESIGN.md does not draw, each to or from a
// package it does not name; the README's "Project structure" lists them
// as such (TestREADMEListsTheImportRules).
var readme = map[string][]string{
	// ui/cli wires the scheduler, the scoring server and Temporal's
	// worker and runner to the store, the catalog and the code sluice
	// run uses.
	"ui/cli": {"engine/schedule", "serve", "engine/temporal"},
	// The artifact store below the run store.
	"store":           {"store/artifacts"},
	"store/artifacts": {},
	// The schedule expressions a pipeline file declares.
	"engine":           {"engine/timetable"},
	"engine/timetable": {},
	// The scheduler.
	"engine/schedule": {"engine", "engine/timetable"},
	// Temporal's workflow and activities run the engine's plans; the
	// catalog and the stores are injected. The workflow a Schedule starts
	// reads the file's schedule expression to work out its data interval.
	"engine/temporal": {"engine", "engine/timetable"},
	// The scoring server: the model's row framing is the catalog's.
	"serve": {"engine", "engine/stages", "engine/frame"},
	// The make bench-compare harness reads CSV with engine/frame and
	// times ml.
	"internal/benchcompare": {"engine/frame", "ml"},
}

// imports are all the arrows: a package imports only what they allow,
// and a package that is not listed fails the test (a new package gets
// its arrows in readme and in the README's "Project structure"). Between
// the packages DESIGN.md names there is no arrow it does not draw.
var imports = func() map[string][]string {
	out := map[string][]string{}
	for _, m := range []map[string][]string{design, readme} {
		for from, to := range m {
			out[from] = append(out[from], to...)
		}
	}
	return out
}()

// outside are the only packages outside the module and the standard
// library that these packages may depend on, directly or not (DESIGN.md:
// "ml → gonum only; engine/frame → stdlib"; README "Project structure":
// store/artifacts → minio-go only, engine/timetable → robfig/cron only).
var outside = map[string][]string{
	"ml":               {"gonum.org/v1/gonum/"},
	"engine/frame":     {},
	"store/artifacts":  {"github.com/minio/minio-go/v7"},
	"engine/timetable": {"github.com/robfig/cron/"},
}

// withDeps are the libraries of outside that come with what they need:
// a package allowed one of them may also depend on its dependencies
// (store/artifacts on minio-go's, for S3), and on nothing else.
var withDeps = []string{"github.com/minio/minio-go/v7"}

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

	// The dependencies that come with a library of withDeps.
	along := map[string]bool{}
	for _, lib := range withDeps {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", lib).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", lib, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			along[dep] = true
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
			ok := slices.ContainsFunc(outside[pkg], func(p string) bool { return strings.HasPrefix(dep, p) })
			if !ok && along[dep] {
				ok = slices.ContainsFunc(outside[pkg], func(p string) bool { return slices.Contains(withDeps, p) })
			}
			if !ok {
				t.Errorf("%s depends on %s: it may use only %v and the standard library", pkg, dep, outside[pkg])
			}
		}
	}
}

// TestImportRulesFollowDesign keeps the rules honest about where they
// come from: every arrow in readme has an end DESIGN.md does not name, so
// every arrow between packages it names is DESIGN.md's.
func TestImportRulesFollowDesign(t *testing.T) {
	t.Parallel()
	for from, tos := range readme {
		for _, to := range tos {
			_, a := design[from]
			_, b := design[to]
			if a && b {
				t.Errorf("%s → %s joins two packages DESIGN.md names: only DESIGN.md draws such an arrow", name(from), name(to))
			}
		}
	}
}

// TestREADMEListsTheImportRules: the README's "Project structure" lists
// the arrows of design and readme, each under its heading ("The design
// draws", "does not name"), as list items "- `FROM → TO, TO`", and no
// others.
func TestREADMEListsTheImportRules(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(b), "\n## Project structure\n")
	section, _, _ = strings.Cut(section, "\n## ")
	got := map[string]map[string][]string{}
	group := ""
	item := regexp.MustCompile("^- `([a-z/]+) → ([a-z/, ]+)`")
	for _, line := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(line, "The design draws"):
			group = "design"
		case strings.HasPrefix(line, "Arrows to or from packages the design does not name"):
			group = "readme"
		}
		m := item.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if group == "" {
			t.Errorf("README: %q comes before the import rules' headings", line)
			continue
		}
		from := m[1]
		if from == "main" {
			from = ""
		}
		if got[group] == nil {
			got[group] = map[string][]string{}
		}
		for _, to := range strings.Split(m[2], ",") {
			got[group][readmeName(from)] = append(got[group][readmeName(from)], readmeName(strings.TrimSpace(to)))
		}
	}
	for _, g := range []struct {
		name  string
		rules map[string][]string
	}{{"design", design}, {"readme", readme}} {
		want := map[string][]string{}
		for from, tos := range g.rules {
			for _, to := range tos {
				if to != from { // the workbench's packages among themselves
					want[from] = append(want[from], to)
				}
			}
		}
		have := got[g.name]
		for from := range want {
			slices.Sort(want[from])
			slices.Sort(have[from])
			if !slices.Equal(want[from], have[from]) {
				t.Errorf("README, the %s arrows from %s: %v, imports_test.go: %v", g.name, name(from), have[from], want[from])
			}
		}
		for from := range have {
			if _, ok := want[from]; !ok {
				t.Errorf("README lists %s arrows from %s (%v) that imports_test.go does not", g.name, name(from), have[from])
			}
		}
	}
}

// readmeName maps the README's ui (the workbench) to workbench.
func readmeName(pkg string) string {
	if pkg == "ui" {
		return workbench
	}
	return pkg
}

// TestTemporalKeptOut keeps Temporal where the design puts it: only
// engine/temporal (and ui/cli, which wires it) depend on its SDK, and the
// module never requires its server (a test dependency of the nested
// module engine/temporal/itest only).
func TestTemporalKeptOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, pkg := range []string{"engine", "engine/stages", "store", "ui", "ml"} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "go.temporal.io/") || dep == module+"/engine/temporal" {
				t.Errorf("%s depends on %s: only engine/temporal and ui/cli may use Temporal", pkg, dep)
			}
		}
	}
	out, err := exec.Command("go", "list", "-m", "all").Output()
	if err != nil {
		t.Fatalf("go list -m all: %v", err)
	}
	for _, m := range strings.Fields(string(out)) {
		if m == "go.temporal.io/server" {
			t.Errorf("the module requires go.temporal.io/server: keep it in engine/temporal/itest/go.mod")
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
