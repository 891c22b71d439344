package pipelines

import (
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

const commented = `# head comment
name: demo
seed: 7 # the seed
schedule: "@daily"   # kept though the composer does not know it

stages:
  # load it
  - id: load
    uses: read_csv
    with: {path: 'data.csv'} # single quotes stay
  - id: model
    uses: logistic_regression
    with:
      C: 1.0     # block style
      max_iter: 100
  - id: score
    uses: evaluate # last
`

func draftFrom(t *testing.T, src string) draftOf {
	t.Helper()
	spec, err := engine.ParseSpec("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return draftOf{name: spec.Name, desc: spec.Description, seed: spec.Seed, stages: engine.DraftSpec(spec)}
}

func TestKeepLayout(t *testing.T) {
	tests := []struct {
		name      string
		change    func(d *draftOf)
		keep      []string // lines that must be there as they were
		want      []string // lines that must be there
		gone      []string
		rewritten string
	}{
		{"nothing changed", func(d *draftOf) {}, strings.Split(commented, "\n"), nil, nil, ""},
		{"seed", func(d *draftOf) { d.seed = 8 }, []string{"# head comment", `schedule: "@daily"   # kept though the composer does not know it`},
			[]string{"seed: 8  # the seed"}, []string{"seed: 7"}, ""},
		{"description added", func(d *draftOf) { d.desc = "a demo" }, nil, []string{"name: demo", `description: "a demo"`}, nil, ""},
		{"a parameter on one line", func(d *draftOf) { d.stages[0].Set("path", "other.csv") },
			[]string{"  # load it", "      C: 1.0     # block style"}, []string{"    with: {path: other.csv}  # single quotes stay"}, nil, ""},
		{"a parameter of a block map", func(d *draftOf) { d.stages[1].Set("C", 0.5) },
			[]string{"  # load it", "    with: {path: 'data.csv'} # single quotes stay"}, []string{"    with: {C: 0.5, max_iter: 100}"}, []string{"# block style"}, "model"},
		{"a stage removed", func(d *draftOf) { d.stages = append(d.stages[:0], d.stages[1:]...) },
			[]string{"    uses: evaluate # last"}, nil, []string{"# load it", "read_csv"}, ""},
		{"stages reordered and renamed", func(d *draftOf) {
			d.stages[0], d.stages[2] = d.stages[2], d.stages[0]
			d.stages[1].ID = "fit"
		}, []string{"  # load it", "    uses: evaluate # last"}, []string{"  - id: fit"}, nil, ""},
		{"a stage added", func(d *draftOf) {
			d.stages = append(d.stages, engine.StageDraft{ID: "export", Uses: "export_model", With: []engine.Setting{{Name: "path", Value: "m.json"}}})
		}, strings.Split(strings.TrimSuffix(commented, "\n"), "\n"), []string{"  - id: export", "    uses: export_model", "    with: {path: m.json}"}, nil, ""},
		{"retries added", func(d *draftOf) { d.stages[2].Retries = 2 }, []string{"    uses: evaluate # last"}, []string{"    retries: 2"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := draftFrom(t, commented)
			tt.change(&d)
			out, rewritten, ok := keepLayout([]byte(commented), d)
			if !ok {
				t.Fatal("keepLayout gave up")
			}
			got := string(out)
			lines := "\n" + got + "\n"
			for _, l := range append(tt.keep, tt.want...) {
				if !strings.Contains(lines, "\n"+l+"\n") {
					t.Errorf("line %q missing:\n%s", l, got)
				}
			}
			for _, s := range tt.gone {
				if strings.Contains(got, s) {
					t.Errorf("%q should be gone:\n%s", s, got)
				}
			}
			if strings.Join(rewritten, ",") != tt.rewritten {
				t.Errorf("rewritten %v, want %q", rewritten, tt.rewritten)
			}
			back := draftFrom(t, got)
			if want, have := engine.FormatSpec(d.name, d.desc, d.seed, d.stages), engine.FormatSpec(back.name, back.desc, back.seed, back.stages); string(want) != string(have) {
				t.Errorf("the edited file reads back as\n%s\nwant\n%s", have, want)
			}
		})
	}
}
