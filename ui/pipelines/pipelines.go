package pipelines

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/table"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// Store is what the Pipelines screen reads: each pipeline's last run.
type Store interface {
	Runs(ctx context.Context, f engine.RunFilter) ([]engine.RunSummary, error)
}

var keys = struct {
	Open, Run, RunWith, New, Reload, Filter, Sweep key.Binding
}{
	Sweep:   common.Binding("s", "sweep", "s"),
	Filter:  common.Binding("/", "filter", "/"),
	Open:    common.Binding("enter", "compose", "enter"),
	Run:     common.Binding("r", "run", "r"),
	RunWith: common.Binding("o", "run with --set", "o"),
	New:     common.Binding("n", "new pipeline", "n"),
	Reload:  common.Binding("R", "rescan", "R"),
}

// file is one pipeline file and what validation found.
type file struct {
	path     string
	spec     *engine.Spec
	plan     *engine.Plan
	problems engine.ErrorList
	err      error // a problem that is not located in the file
	last     *engine.RunSummary
	mod      time.Time
	checked  bool
}

func (f *file) valid() bool { return f.checked && f.plan != nil }

// firstProblem is the file's first problem as file:line:col: message.
func (f *file) firstProblem() string {
	if len(f.problems) > 0 {
		return f.problems[0].Error()
	}
	if f.err != nil {
		return f.err.Error()
	}
	return ""
}

// firstProblemShort is the first problem with the file's base name:
// bad.yaml:4:11: unknown stage type "sourc".
func (f *file) firstProblemShort() string {
	if len(f.problems) > 0 {
		p := *f.problems[0]
		p.File = filepath.Base(p.File)
		return p.Error()
	}
	return f.firstProblem()
}

// Model is the Pipelines screen.
type Model struct {
	ctx   *common.Context
	store Store
	w, h  int

	files    []*file
	roots    []string // where to look for new files
	lastW    int      // the LAST RUN column's width, which its cells are fitted to
	shown    []int    // indexes into files of the rows shown
	filter   common.Filter
	table    common.Table
	loaded   bool
	seq      common.Seq
	applied  int // the check whose results are shown
	stating  bool
	composer *composer
	form     *common.Form
	confirm  *common.Confirm
	sets     *common.Text
	// pending is what o or r waits for: the file's validation.
	pending     func(*file) tea.Cmd
	pendingPath string
}

// ExpensiveSeconds is how long a pipeline's last run took for r to ask
// before running it again: a stray letter must not start long work.
const ExpensiveSeconds = 10

// New returns the Pipelines screen listing paths.
// Roots are the files and folders to look in again (every tick, and on
// R) for pipeline files created, changed or deleted.
func New(ctx *common.Context, store Store, paths, roots []string) *Model {
	m := &Model{ctx: ctx, store: store, roots: roots}
	m.filter = common.NewFilter("text, name, uses:TYPE, status:invalid, accuracy>0.9 (last run), param.STAGE.NAME=V", ctx.Now)
	for _, p := range paths {
		m.files = append(m.files, &file{path: p})
	}
	m.table = common.NewTable(ctx.Styles, m.columns(100))
	m.setRows()
	return m
}

func (m *Model) columns(w int) []table.Column {
	fileW, nameW, lastW := 10, 8, 20
	for _, f := range m.files {
		fileW = max(fileW, len(f.path))
		if f.spec != nil {
			nameW = max(nameW, len(f.spec.Name))
		}
	}
	nameW = min(nameW, 20)
	// Every column is followed by a space; the marker column comes first.
	state := func() int { return w - 7 - 1 - 1 - fileW - nameW - 6 - lastW }
	// The state (validity, or the first problem) gets 24 cells at least:
	// the last run, then the name, then the file give way.
	for _, shrink := range []*int{&lastW, &nameW, &fileW} {
		floor := map[*int]int{&lastW: 12, &nameW: 10, &fileW: 16}[shrink]
		if d := 24 - state(); d > 0 {
			*shrink = max(*shrink-d, floor)
		}
	}
	m.lastW = lastW
	return []table.Column{
		{Title: " ", Width: 1},
		{Title: "FILE", Width: fileW},
		{Title: "PIPELINE", Width: nameW},
		{Title: "STAGES", Width: 6},
		{Title: "LAST RUN", Width: lastW},
		{Title: "STATE", Width: max(state(), 8)},
	}
}

// Init validates every file.
func (m *Model) Init() tea.Cmd { return m.check() }

type checkedMsg struct {
	seq   int
	files []*file
}

type statMsg struct {
	mods  map[string]time.Time // the files known, that still exist
	found []string             // the files under the roots (nil: no roots)
	err   error
}

// check loads, validates and finds the last run of every file.
func (m *Model) check() tea.Cmd {
	seq := m.seq.Next()
	paths := make([]string, len(m.files))
	for i, f := range m.files {
		paths[i] = f.path
	}
	reg, store, ctx := m.ctx.Registry, m.store, m.ctx.Ctx
	return func() tea.Msg {
		out := make([]*file, len(paths))
		for i, p := range paths {
			out[i] = checkFile(ctx, reg, store, p)
		}
		return checkedMsg{seq: seq, files: out}
	}
}

func checkFile(ctx context.Context, reg *engine.Registry, store Store, path string) *file {
	f := &file{path: path, checked: true}
	if fi, err := os.Stat(path); err == nil {
		f.mod = fi.ModTime()
	}
	spec, err := engine.LoadSpec(path)
	if err == nil {
		f.spec = spec
		f.plan, err = engine.Validate(spec, reg)
	} else if spec != nil {
		f.spec = spec
	}
	if err != nil {
		if !errors.As(err, &f.problems) {
			f.err = err
		}
	}
	if f.spec != nil && f.spec.Name != "" && store != nil {
		if runs, err := store.Runs(ctx, engine.RunFilter{Pipeline: f.spec.Name, Limit: 1}); err == nil && len(runs) > 0 {
			f.last = &runs[0]
		}
	}
	return f
}

// stat looks for files changed, created or deleted on disk (by another
// program): the known files are stat-ed and the roots walked again.
func (m *Model) stat() tea.Cmd {
	if m.stating || !m.loaded {
		return nil
	}
	m.stating = true
	paths := make([]string, len(m.files))
	for i, f := range m.files {
		paths[i] = f.path
	}
	roots := m.roots
	return func() tea.Msg {
		msg := statMsg{mods: map[string]time.Time{}}
		for _, p := range paths {
			if fi, err := os.Stat(p); err == nil {
				msg.mods[p] = fi.ModTime()
			}
		}
		if len(roots) > 0 {
			var kept []string
			for _, r := range roots {
				if _, err := os.Stat(r); err == nil {
					kept = append(kept, r)
				}
			}
			if len(kept) > 0 {
				msg.found, msg.err = Find(kept)
			}
			for _, p := range msg.found {
				if _, ok := msg.mods[p]; !ok {
					if fi, err := os.Stat(p); err == nil {
						msg.mods[p] = fi.ModTime()
					}
				}
			}
		}
		return msg
	}
}

// rescan applies what stat found: new files are added (in name order,
// after the known ones), deleted ones dropped, and everything validated
// again when anything changed.
func (m *Model) rescan(msg statMsg) tea.Cmd {
	changed := false
	var files []*file
	known := map[string]bool{}
	for _, f := range m.files {
		known[f.path] = true
		t, ok := msg.mods[f.path]
		if !ok {
			changed = true // deleted
			continue
		}
		if !t.Equal(f.mod) {
			changed = true
		}
		files = append(files, f)
	}
	for _, p := range msg.found {
		if !known[p] {
			if _, ok := msg.mods[p]; ok {
				files = append(files, &file{path: p})
				changed = true
			}
		}
	}
	if !changed {
		return nil
	}
	sel := m.selected()
	m.files = files
	m.Resize(m.w, m.h)
	m.setRows()
	m.reselect(sel)
	return m.check()
}

// reselect moves the cursor back to f's row, if it is shown.
func (m *Model) reselect(f *file) {
	if f == nil {
		return
	}
	for row, i := range m.shown {
		if m.files[i].path == f.path {
			m.table.SetCursor(row)
			return
		}
	}
}

// Resize sets the screen's size.
func (m *Model) Resize(w, h int) {
	m.w, m.h = w, h
	m.table.SetColumns(m.columns(w))
	m.table.SetWidth(w)
	m.table.SetHeight(m.tableHeight())
	if m.loaded {
		sel := m.selected()
		m.setRows() // the LAST RUN cells are fitted to the column
		m.reselect(sel)
	}
	if m.composer != nil {
		m.composer.resize(w, h)
	}
}

func (m *Model) tableHeight() int {
	return min(len(m.files)+1, max(m.h/2-1, 4))
}

// Keys are the screen's bindings.
func (m *Model) Keys() help.KeyMap {
	if m.composer != nil {
		return m.composer.keys()
	}
	if m.form != nil {
		return common.KeyMap{Short: []key.Binding{common.Binding("enter", "run", "enter"), common.Binding("esc", "cancel", "esc")}}
	}
	if m.confirm != nil {
		return common.KeyMap{Short: []key.Binding{common.Binding("y", "yes", "y"), common.Binding("n/esc", "no", "n")}}
	}
	if m.filter.Active() {
		return common.KeyMap{Short: common.FilterKeys}
	}
	return common.KeyMap{
		Short: []key.Binding{common.Nav.Up, common.Nav.Down, m.ctx.Mutating(keys.Run), m.ctx.Mutating(keys.RunWith), keys.Open, m.ctx.Mutating(keys.New), keys.Filter, keys.Reload},
		Full: [][]key.Binding{
			{common.Nav.Up, common.Nav.Down, common.Nav.Top, common.Nav.Bottom},
			{m.ctx.Mutating(keys.Run), m.ctx.Mutating(keys.RunWith), m.ctx.Mutating(keys.Sweep)},
			{keys.Open, m.ctx.Mutating(keys.New), keys.Filter, keys.Reload},
		},
	}
}

// Capturing reports whether a form or the composer's text has the keys.
func (m *Model) Capturing() bool {
	if m.composer != nil {
		return m.composer.capturing()
	}
	return m.form != nil || m.confirm != nil || m.filter.Active()
}

// Back closes a form, or the composer (asking first when it has unsaved
// changes).
func (m *Model) Back() bool {
	if m.form != nil {
		m.form = nil
		return true
	}
	if m.confirm != nil {
		m.confirm = nil
		return true
	}
	if m.composer == nil && m.filter.Set() {
		m.filter.Clear()
		m.setRows()
		return true
	}
	if m.composer != nil {
		if m.composer.back() {
			return true
		}
		m.composer = nil
		return true
	}
	return false
}

// Composing reports whether the composer is open.
func (m *Model) Composing() bool { return m.composer != nil }

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case checkedMsg:
		// A check started earlier than the one shown is stale; one
		// started later is not, even if yet another is under way (its
		// results are only older than that one's, and better than none).
		if msg.seq <= m.applied {
			return nil
		}
		m.applied = msg.seq
		m.loaded = true
		byPath := map[string]*file{}
		for _, f := range msg.files {
			byPath[f.path] = f
		}
		for i, f := range m.files {
			if nf, ok := byPath[f.path]; ok {
				m.files[i] = nf
			}
		}
		sel := m.selected()
		m.table.SetColumns(m.columns(m.w))
		m.setRows()
		m.reselect(sel)
		return m.runPending()
	case statMsg:
		m.stating = false
		if msg.err != nil {
			return common.Err(fmt.Errorf("looking for pipeline files: %w", msg.err))
		}
		return m.rescan(msg)
	case common.TickMsg:
		cmds := []tea.Cmd{m.stat()}
		if m.composer != nil {
			cmds = append(cmds, m.composer.update(msg))
		}
		return tea.Batch(cmds...)
	case common.RunEndedMsg:
		return m.check()
	case closeMsg:
		m.composer = nil
		return nil
	case savedMsg:
		known := false
		for _, f := range m.files {
			if f.path == msg.path {
				known = true
			}
		}
		if !known {
			m.files = append(m.files, &file{path: msg.path})
			m.Resize(m.w, m.h)
			m.setRows()
		}
		for _, f := range m.files {
			if f.path == msg.path {
				m.reselect(f)
			}
		}
		var cmd tea.Cmd
		if m.composer != nil {
			cmd = m.composer.update(msg)
		}
		return tea.Batch(cmd, m.check())
	}
	if m.composer != nil {
		return m.composer.update(msg)
	}
	if m.form != nil {
		done, cmd := m.form.Update(msg)
		if done {
			m.form = nil
		}
		return cmd
	}
	if m.confirm != nil {
		done, cmd := m.confirm.Update(msg)
		if done {
			m.confirm = nil
		}
		return cmd
	}
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if m.filter.Active() {
			switch msg.String() {
			case "up", "down", "pgup", "pgdown":
				return m.table.Update(msg)
			}
			changed, cmd := m.filter.Update(msg)
			if changed {
				sel := m.selected()
				m.setRows()
				m.reselect(sel)
			}
			return cmd
		}
		return m.key(msg)
	case tea.MouseMsg:
		if msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft {
			// The table starts under the header and a blank line.
			m.table.Click(msg.Y - 2)
			return nil
		}
		return m.table.Update(msg)
	}
	return nil
}

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
		f := m.selected()
		if f == nil {
			return nil
		}
		return m.openComposer(f)
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

// checkOverrides splits and checks --set assignments against a plan's
// stages and their parameter declarations.
func checkOverrides(plan *engine.Plan, text string) ([]string, error) {
	var out []string
	for _, s := range strings.Fields(text) {
		o, err := engine.ParseOverride(s)
		if err != nil {
			return nil, err
		}
		ps, ok := plan.Stage(o.Stage)
		if !ok {
			return nil, fmt.Errorf("%s: no stage %q", s, o.Stage)
		}
		p, ok := ps.Type.Param(o.Param)
		if !ok {
			return nil, fmt.Errorf("%s: %s has no parameter %q", s, ps.Type.Name, o.Param)
		}
		if _, err := p.Coerce(o.Value); err != nil {
			return nil, fmt.Errorf("%s: %v", s, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func (m *Model) setRows() {
	st := m.ctx.Styles
	m.shown = m.shown[:0]
	for i, f := range m.files {
		if m.filter.Empty() || m.filter.Match(fileSubject{f}) {
			m.shown = append(m.shown, i)
		}
	}
	rows := make([]table.Row, len(m.shown))
	for r, i := range m.shown {
		f := m.files[i]
		icon, name, stages, last, state := "…", "", "", "", "checking…"
		if f.spec != nil {
			name = f.spec.Name
			stages = fmt.Sprint(len(f.spec.Stages))
		}
		if f.last != nil {
			last = fmt.Sprintf("#%d %s", f.last.ID, common.StatusIcon(f.last.Status))
			if h := common.HeadlineFit(f.last.Metrics, m.lastW-common.Width(last)-1); h != "" {
				last += " " + h
			}
		}
		if f.checked {
			if f.valid() {
				icon, state = "✓", "valid"
				if f.spec.Description != "" {
					state = f.spec.Description
				}
			} else {
				icon, state = "✗", f.firstProblemShort()
				if n := len(f.problems); n > 1 {
					state = fmt.Sprintf("%s (+%d more)", state, n-1)
				}
			}
		}
		_ = st
		rows[r] = table.Row{icon, f.path, name, stages, last, state}
	}
	m.table.SetRows(rows)
}

// View renders the list, or the composer.
func (m *Model) View() string {
	st := m.ctx.Styles
	if m.composer != nil {
		return m.composer.view()
	}
	if m.form != nil {
		return lipgloss.Place(m.w, m.h, lipgloss.Center, lipgloss.Center, m.form.View(st, min(m.w, 90), 10))
	}
	if m.confirm != nil {
		return m.confirm.View(st, m.w, m.h)
	}
	valid := 0
	for _, f := range m.files {
		if f.valid() {
			valid++
		}
	}
	head := st.Title.Render("PIPELINES") + st.Subtle.Render(fmt.Sprintf("  %d file%s, %d valid", len(m.files), common.Plural(len(m.files)), valid))
	switch {
	case m.filter.Active():
		head = m.filter.View(st, m.w)
	case m.filter.Set():
		head += st.Subtle.Render(fmt.Sprintf("  /%s  %d shown", m.filter.Value(), len(m.shown)))
	}
	if len(m.files) == 0 {
		return common.Block(head+"\n\n"+st.Subtle.Render("No pipeline files (*.yaml) here. n composes a new one; or start sluice with a folder or file: sluice sample-data"), m.w, m.h)
	}
	tableView := m.table.View()
	if len(m.shown) == 0 {
		tableView = common.Block(st.Subtle.Render("No pipeline file matches the filter. esc clears it."), m.w, m.tableHeight())
	}
	used := 2 + m.tableHeight()
	detail := m.detailView(m.h - used - 1)
	return common.Block(head+"\n\n"+tableView+"\n"+detail, m.w, m.h)
}

// detailView shows the selected file: its stages, or all its problems.
func (m *Model) detailView(h int) string {
	st := m.ctx.Styles
	f := m.selected()
	if f == nil || h <= 0 {
		return ""
	}
	var b []string
	rule := st.Subtle.Render(strings.Repeat("─", m.w))
	b = append(b, rule)
	switch {
	case !f.checked:
		b = append(b, st.Subtle.Render("Checking "+f.path+"…"))
	case !f.valid():
		n := len(f.problems)
		if n == 0 {
			n = 1
		}
		b = append(b, st.Error.Render(fmt.Sprintf("%s: %d problem%s", f.path, n, common.Plural(n))))
		for _, p := range f.problems {
			b = append(b, "  "+p.Error())
		}
		if f.err != nil {
			b = append(b, "  "+f.err.Error())
		}
	default:
		s := f.spec
		line := st.Bold.Render(s.Name) + st.Subtle.Render(fmt.Sprintf("  seed %d · %d stages", s.Seed, len(s.Stages)))
		if f.last != nil {
			line += st.Subtle.Render(fmt.Sprintf(" · last run #%d ", f.last.ID)) + st.StatusText(f.last.Status) + st.Subtle.Render(" "+common.Ago(m.ctx.Now(), f.last.Started))
		}
		b = append(b, line)
		if s.Description != "" {
			b = append(b, st.Subtle.Render(s.Description))
		}
		if a := automationText(&s.Automation, m.ctx.Now()); a != "" {
			b = append(b, st.Subtle.Render(a))
		}
		idW, usesW, needsW := 4, 4, 4
		for _, ps := range f.plan.Stages {
			idW, usesW = max(idW, len(ps.Spec.ID)), max(usesW, len(ps.Type.Name))
			if len(ps.Inputs) > 0 {
				needsW = max(needsW, common.Width("← "+strings.Join(ps.Inputs, ", ")))
			}
		}
		needsW = min(needsW, 30)
		for _, ps := range f.plan.Stages {
			needs := ""
			if len(ps.Inputs) > 0 {
				needs = "← " + strings.Join(ps.Inputs, ", ")
			}
			var with []string
			for _, d := range engine.DraftSpec(&engine.Spec{Stages: []*engine.StageSpec{ps.Spec}})[0].With {
				with = append(with, d.Name+": "+engine.FormatValue(d.Value))
			}
			params := ""
			if len(with) > 0 {
				params = "{" + strings.Join(with, ", ") + "}"
			}
			b = append(b, fmt.Sprintf("  %-*s  %-*s  %s %s", idW, ps.Spec.ID, usesW, ps.Type.Name, common.Fit(needs, needsW), st.Subtle.Render(params)))
		}
	}
	return common.Block(strings.Join(b, "\n"), m.w, h)
}

// fileSubject is a pipeline file as queries see it: its path, name,
// description, stages and state as text; its last run's metrics and
// start; its stages' parameters as written.
type fileSubject struct{ f *file }

func (s fileSubject) Text() string {
	f := s.f
	parts := []string{f.path}
	if f.spec != nil {
		parts = append(parts, f.spec.Name, f.spec.Description)
		for _, st := range f.spec.Stages {
			parts = append(parts, st.ID, st.Uses)
		}
	}
	if f.checked && !f.valid() {
		parts = append(parts, "invalid", f.firstProblem())
	}
	return strings.ToLower(strings.Join(parts, " "))
}

func (s fileSubject) Metric(name string) (float64, bool) {
	if s.f.last == nil {
		return 0, false
	}
	v, ok := s.f.last.Metrics[name]
	return v, ok
}

func (s fileSubject) Param(stage, name string) (any, bool) {
	if s.f.spec == nil {
		return nil, false
	}
	for _, st := range s.f.spec.Stages {
		if st.ID == stage {
			v, ok := st.With[name]
			return v, ok
		}
	}
	return nil, false
}

func (s fileSubject) Field(k string) []string {
	f := s.f
	switch k {
	case "pipeline":
		if f.spec != nil {
			return []string{f.spec.Name}
		}
	case "status":
		var out []string
		switch {
		case !f.checked:
			out = append(out, "checking")
		case f.valid():
			out = append(out, "valid")
		default:
			out = append(out, "invalid")
		}
		if f.last != nil {
			out = append(out, f.last.Status.String())
		}
		return out
	case "uses":
		if f.spec != nil {
			var out []string
			for _, st := range f.spec.Stages {
				out = append(out, st.Uses)
			}
			return out
		}
	}
	return nil
}

func (s fileSubject) Time() time.Time {
	if s.f.last == nil {
		return time.Time{}
	}
	return s.f.last.Started
}

// automationText says when a pipeline runs on its own: its schedule and
// the next time a run comes due, and its trigger; "" when it does not.
func automationText(a *engine.Automation, now time.Time) string {
	var parts []string
	if tt := a.Schedule; tt != nil {
		next := tt.Next(now)
		due := "none within five years"
		if !next.IsZero() {
			due = next.In(a.Location).Format("2006-01-02 15:04 MST")
		}
		parts = append(parts, fmt.Sprintf("schedule %s (%s) · next due %s · catchup %s · overlap %s", tt, a.Location, due, a.Catchup, a.Overlap))
	}
	if t := a.Trigger; t != nil {
		parts = append(parts, fmt.Sprintf("trigger %s (settle %s)", t.Glob, t.Settle))
	}
	return strings.Join(parts, " · ")
}

// askSweep asks for the values to sweep (STAGE.PARAM=V1,V2 … separated by
// spaces) and how many runs at once, checking every combination as typed.
func (m *Model) askSweep(f *file) tea.Cmd {
	if !f.valid() {
		return common.Errorf(fmt.Sprintf("%s is not valid: %s", f.path, f.firstProblem()))
	}
	path, plan := f.path, f.plan
	check := func(text string) ([][]string, error) {
		var axes []common.SweepAxis
		for _, w := range strings.Fields(text) {
			a, err := common.ParseSweep(w)
			if err != nil {
				return nil, err
			}
			axes = append(axes, a)
		}
		if len(axes) == 0 {
			return nil, fmt.Errorf("type STAGE.PARAM=V1,V2")
		}
		combos := common.CrossProduct(axes)
		for _, c := range combos {
			if _, err := checkOverrides(plan, strings.Join(c, " ")); err != nil {
				return nil, err
			}
		}
		return combos, nil
	}
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
		fmt.Sscan(parallel.Get(), &n)
		return func() tea.Msg { return common.SweepMsg{Path: path, Sets: combos, Parallel: n} }
	}, huh.NewGroup(input, at))
	return m.form.Init()
}
