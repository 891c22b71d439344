package pipelines

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

func (m *Model) selected() *file {
	c := m.table.Cursor()
	if c < 0 || c >= len(m.shown) {
		return nil
	}
	return m.files[m.shown[c]]
}

// whenChecked runs do on the selected file once it is validated: at
// once, or when the check under way lands ("checking…" meanwhile).
func (m *Model) whenChecked(do func(*file) tea.Cmd) tea.Cmd {
	f := m.selected()
	if f == nil {
		return common.Errorf("no pipeline file here: n starts a new one")
	}
	if f.checked {
		return do(f)
	}
	m.pending, m.pendingPath = do, f.path
	return common.Info("checking " + f.path + "…")
}

func (m *Model) runPending() tea.Cmd {
	if m.pending == nil {
		return nil
	}
	for _, f := range m.files {
		if f.path == m.pendingPath && f.checked {
			do := m.pending
			m.pending = nil
			return do(f)
		}
	}
	return nil
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	switch {
	case m.ctx.ReadOnly && key.Matches(msg, keys.Run, keys.RunWith, keys.Sweep):
		return common.ReadOnlyMsg("running a pipeline")
	case m.ctx.ReadOnly && key.Matches(msg, keys.New):
		return common.ReadOnlyMsg("composing a new pipeline")
	case key.Matches(msg, keys.Filter):
		return m.filter.Focus()
	case key.Matches(msg, keys.Run):
		return m.whenChecked(m.run)
	case key.Matches(msg, keys.RunWith):
		return m.whenChecked(m.askOverrides)
	case key.Matches(msg, keys.Sweep):
		return m.whenChecked(m.askSweep)
	case key.Matches(msg, keys.Open):
		if m.selected() == nil {
			return nil
		}
		// Before its check lands the file's stages are not read yet: the
		// composer opens when they are.
		return m.whenChecked(m.openComposer)
	case key.Matches(msg, keys.New):
		m.composer = newComposer(m.ctx, "", nil, m.w, m.h)
		return tea.Batch(m.composer.validate(), m.composer.openCatalog())
	case key.Matches(msg, keys.Reload):
		m.stating = false
		return tea.Batch(m.stat(), m.check(), common.Info("looking for pipeline files again"))
	}
	return m.table.Update(msg)
}

func (m *Model) openComposer(f *file) tea.Cmd {
	if f.spec == nil {
		return common.Errorf(fmt.Sprintf("%s does not parse, so it cannot be composed: %s", f.path, f.firstProblem()))
	}
	m.composer = newComposer(m.ctx, f.path, f.spec, m.w, m.h)
	return m.composer.validate()
}

// run runs f, asking first when its last run took long.
func (m *Model) run(f *file) tea.Cmd {
	if !f.valid() {
		return common.Errorf(fmt.Sprintf("%s is not valid: %s", f.path, f.firstProblem()))
	}
	path := f.path
	start := func() tea.Msg { return common.RunFileMsg{Path: path} }
	if f.last != nil && f.last.Seconds > ExpensiveSeconds {
		m.confirm = common.NewConfirm(m.ctx.Styles, fmt.Sprintf("Run %s again?", f.spec.Name),
			fmt.Sprintf("Its last run, #%d, took %s.", f.last.ID, common.Seconds(f.last.Seconds)), start)
		return m.confirm.Init()
	}
	return start
}

// askOverrides asks for --set assignments, checked as they are typed.
func (m *Model) askOverrides(f *file) tea.Cmd {
	if !f.valid() {
		return common.Errorf(fmt.Sprintf("%s is not valid: %s", f.path, f.firstProblem()))
	}
	path, plan := f.path, f.plan
	check := func(s string) error {
		_, err := checkOverrides(plan, s)
		return err
	}
	if m.sets == nil {
		m.sets = common.NewText("")
	}
	sets := m.sets
	input := huh.NewInput().Title("Run "+path+" with").
		Placeholder("model.C=0.5 split.test_size=0.3").
		Accessor(sets).
		Validate(check).
		DescriptionFunc(func() string {
			text := sets.Get()
			if strings.TrimSpace(text) == "" {
				return "STAGE.PARAM=VALUE, separated by spaces, as sluice run --set takes them"
			}
			if err := check(text); err != nil {
				return "✗ " + err.Error()
			}
			return "✓ ready"
		}, sets)
	m.form = common.NewForm(m.ctx.Styles, "RUN WITH OVERRIDES", min(m.w, 90), 10, func() tea.Cmd {
		sets, _ := checkOverrides(plan, sets.Get())
		return func() tea.Msg { return common.RunFileMsg{Path: path, Sets: sets} }
	}, huh.NewGroup(input))
	return m.form.Init()
}

// checkOverrides splits a line of --set assignments (engine.SplitSets)
// and checks each against a plan's stages and their parameter
// declarations.
func checkOverrides(plan *engine.Plan, text string) ([]string, error) {
	sets, err := engine.SplitSets(text)
	if err != nil {
		return nil, err
	}
	if err := checkSets(plan, sets); err != nil {
		return nil, err
	}
	return sets, nil
}

// checkSets checks --set assignments, one per element, against a plan.
func checkSets(plan *engine.Plan, sets []string) error {
	overrides, err := engine.ParseOverrides(sets)
	if err != nil {
		return err
	}
	for _, o := range overrides {
		if err := plan.CheckOverride(o); err != nil {
			return err
		}
	}
	return nil
}

// askSweep asks for the values to sweep (STAGE.PARAM=V1,V2 … separated by
// spaces) and how many runs at once, checking every combination as typed.
func (m *Model) askSweep(f *file) tea.Cmd {
	if !f.valid() {
		return common.Errorf(fmt.Sprintf("%s is not valid: %s", f.path, f.firstProblem()))
	}
	path, plan := f.path, f.plan
	check := func(text string) ([][]string, error) { return sweepCombos(plan, text) }
	axes, parallel := common.NewText(""), common.NewText("2")
	input := huh.NewInput().Title("Sweep "+path).
		Placeholder("model.C=0.01,0.1,1 model.max_iter=100,1000").
		Accessor(axes).
		Validate(func(s string) error { _, err := check(s); return err }).
		DescriptionFunc(func() string {
			text := axes.Get()
			if strings.TrimSpace(text) == "" {
				return "STAGE.PARAM=V1,V2,… separated by spaces: one run per combination"
			}
			combos, err := check(text)
			if err != nil {
				return "✗ " + err.Error()
			}
			return fmt.Sprintf("✓ %d runs", len(combos))
		}, axes)
	at := huh.NewInput().Title("Runs at once").Accessor(parallel).Validate(func(s string) error {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n < 1 || n > 64 {
			return fmt.Errorf("a number from 1 to 64")
		}
		return nil
	})
	m.form = common.NewForm(m.ctx.Styles, "SWEEP", min(m.w, 90), 14, func() tea.Cmd {
		combos, err := check(axes.Get())
		if err != nil {
			return common.Err(err)
		}
		var n int
		if _, err := fmt.Sscan(parallel.Get(), &n); err != nil { // the field's Validate accepted it
			return common.Err(err)
		}
		return func() tea.Msg { return common.SweepMsg{Path: path, Sets: combos, Parallel: n} }
	}, huh.NewGroup(input, at))
	return m.form.Init()
}

// sweepCombos reads a line of --sweep arguments (engine.SplitSets, then
// engine.ParseSweep each) and checks every combination against a plan.
func sweepCombos(plan *engine.Plan, text string) ([][]string, error) {
	words, err := engine.SplitSets(text)
	if err != nil {
		return nil, err
	}
	var axes []engine.SweepAxis
	for _, w := range words {
		a, err := engine.ParseSweep(w)
		if err != nil {
			return nil, err
		}
		axes = append(axes, a)
	}
	if len(axes) == 0 {
		return nil, fmt.Errorf("type STAGE.PARAM=V1,V2")
	}
	combos := engine.CrossProduct(axes)
	for _, c := range combos {
		if err := checkSets(plan, c); err != nil {
			return nil, err
		}
	}
	return combos, nil
}
