package model

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/NimbleMarkets/ntcharts/barchart"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/table"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"
	ltable "github.com/charmbracelet/lipgloss/table"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/query"
)

// Store is what the Model screen reads to find models.
type Store interface {
	Runs(ctx context.Context, f engine.RunFilter) ([]engine.RunSummary, error)
	Artifacts(ctx context.Context, run int64) ([]engine.ArtifactInfo, error)
}

// Details is a fitted model as the screen shows it.
type Details struct {
	Run         int64
	Stage       string
	Estimator   string
	Task        string
	Target      string
	Classes     []string
	Chain       []string
	Params      map[string]any
	Metrics     map[string]float64
	Confusion   [][]int
	Features    []string // importances, in the order given
	Importances []float64
	SHA256      string
	Size        int
	Aliases     []string // NAME@ALIAS addresses pointing at the model
}

// Service describes and exports models.
type Service interface {
	Describe(ctx context.Context, run int64, stage string) (*Details, error)
	Export(ctx context.Context, run int64, stage, path string) (string, error)
	// Alias points NAME@alias (NAME: the run's pipeline) at the model and
	// returns the address.
	Alias(ctx context.Context, run int64, stage, alias string) (string, error)
}

var keys = common.RegisterKeys("model", &struct {
	Export, Reload, Alias, Filter key.Binding
}{
	Export: common.Binding("e", "export", "e"),
	Reload: common.Binding("R", "reload list", "R"),
	Alias:  common.Binding("a", "set alias (NAME@champion)", "a"),
	Filter: common.Binding("/", "filter", "/"),
})

// entry is one model in the list.
type entry struct {
	run      int64
	pipeline string
	stage    string
	status   engine.Status
	sub      *subject // what / matches
}

// subject is a model as a query sees it: its run, and its stage's id in
// the free text.
type subject struct {
	*query.Run
	text string
}

func newSubject(r *engine.RunSummary, stage string) *subject {
	q := query.NewRun(r)
	return &subject{Run: q, text: q.Search + " " + strings.ToLower(stage)}
}

// Text is the run's search text and the stage's id.
func (s *subject) Text() string { return s.text }

// Model is the Model screen.
type Model struct {
	ctx      *common.Context
	store    Store
	svc      Service
	w, h     int
	all      []entry // the models listed
	entries  []entry // those the filter keeps, as shown
	filter   common.Filter
	table    common.Table
	loaded   bool
	err      error
	details  map[string]*Details
	detErr   map[string]error
	want     *entry // a model asked for that the list did not hold yet
	vp       viewport.Model
	form     *common.Form
	confirm  *common.Confirm
	path     string
	alias    string
	aliasing bool // the form open is the alias form
	seq      common.Seq
}

// New returns the Model screen. svc may be nil: the list then shows, but
// not the details.
func New(ctx *common.Context, store Store, svc Service) *Model {
	m := &Model{ctx: ctx, store: store, svc: svc, details: map[string]*Details{}, detErr: map[string]error{}}
	m.table = common.NewTable(ctx.Styles, m.columns(30))
	m.filter = common.NewFilter("text, stage, accuracy>0.9, param.STAGE.NAME=V, tag:NAME, since:7d", ctx.Now)
	m.vp = viewport.New(40, 10)
	m.vp.KeyMap = viewport.KeyMap{
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u")),
	}
	m.vp.MouseWheelEnabled = true
	return m
}

func (m *Model) columns(w int) []table.Column {
	pipe := max(w-6-12-4, 6)
	return []table.Column{{Title: "RUN", Width: 5}, {Title: "PIPELINE", Width: pipe}, {Title: "STAGE", Width: 10}}
}

func (m *Model) listWidth() int { return min(max(m.w*3/10, 26), 36) }

// Resize sets the screen's size.
func (m *Model) Resize(w, h int) {
	m.w, m.h = w, h
	lw := m.listWidth()
	m.filter.SetWidth(w)
	m.table.SetColumns(m.columns(lw))
	m.table.SetWidth(lw)
	m.table.SetHeight(max(h-2, 3))
	m.vp.Width = max(w-lw-1, 20)
	m.vp.Height = max(h-2, 3)
	m.render()
}

// Keys are the screen's bindings.
func (m *Model) Keys() help.KeyMap {
	if m.form != nil {
		action := "export"
		if m.aliasing {
			action = "set alias"
		}
		return common.KeyMap{Short: []key.Binding{common.Binding("enter", action, "enter"), common.Binding("esc", "cancel", "esc")}}
	}
	if m.filter.Active() {
		return common.KeyMap{Short: common.FilterKeys}
	}
	short := []key.Binding{common.Nav.Up, common.Nav.Down, keys.Filter, m.ctx.Mutating(keys.Export), common.Binding("pgup/pgdn", "scroll", "pgup"), keys.Reload}
	return common.KeyMap{Short: short, Full: [][]key.Binding{append(short, m.ctx.Mutating(keys.Alias))}}
}

// Capturing reports whether a form or the filter has the keyboard.
func (m *Model) Capturing() bool { return m.form != nil || m.confirm != nil || m.filter.Active() }

// Back closes the export form, or clears the filter.
func (m *Model) Back() bool {
	if m.form != nil || m.confirm != nil {
		m.form, m.confirm = nil, nil
		return true
	}
	if m.filter.Set() {
		m.filter.Clear()
		m.refilter()
		return true
	}
	return false
}

type listMsg struct {
	seq     int
	entries []entry
	err     error
}

type detailsMsg struct {
	key string
	d   *Details
	err error
}

type exportedMsg struct {
	run   int64
	stage string
	path  string
	sha   string
	err   error
}

// Init lists the models of recent runs.
func (m *Model) Init() tea.Cmd { return m.list() }

// list finds the models kept by the newest succeeded runs.
func (m *Model) list() tea.Cmd {
	seq, store, ctx := m.seq.Next(), m.store, m.ctx.Ctx
	return func() tea.Msg {
		runs, err := store.Runs(ctx, engine.RunFilter{Status: []engine.Status{engine.StatusSucceeded}, Limit: 40})
		if err != nil {
			return listMsg{seq: seq, err: err}
		}
		var out []entry
		for _, r := range runs {
			arts, err := store.Artifacts(ctx, r.ID)
			if err != nil {
				continue
			}
			for _, a := range arts {
				if a.Name == "model" {
					out = append(out, entry{run: r.ID, pipeline: r.Pipeline, stage: a.Stage, status: r.Status, sub: newSubject(&r, a.Stage)})
				}
			}
		}
		return listMsg{seq: seq, entries: out}
	}
}

func keyOf(run int64, stage string) string { return fmt.Sprintf("%d/%s", run, stage) }

func (m *Model) selected() (entry, bool) {
	c := m.table.Cursor()
	if c < 0 || c >= len(m.entries) {
		return entry{}, false
	}
	return m.entries[c], true
}

// describe reads the selected model's details once.
func (m *Model) describe() tea.Cmd {
	e, ok := m.selected()
	if !ok || m.svc == nil {
		return nil
	}
	k := keyOf(e.run, e.stage)
	if _, done := m.details[k]; done {
		return nil
	}
	if _, failed := m.detErr[k]; failed {
		return nil
	}
	svc, ctx := m.svc, m.ctx.Ctx
	return func() tea.Msg {
		d, err := svc.Describe(ctx, e.run, e.stage)
		return detailsMsg{key: k, d: d, err: err}
	}
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case listMsg:
		if !m.seq.Current(msg.seq) {
			return nil
		}
		if msg.err != nil {
			m.err = msg.err
			return common.Err(fmt.Errorf("listing models: %w", msg.err))
		}
		m.loaded, m.err = true, nil
		m.all = msg.entries
		m.keep()
		m.setRows()
		if m.want != nil {
			return m.open(m.want.run, m.want.stage)
		}
		m.render()
		return m.describe()
	case common.OpenModelMsg:
		if m.filter.Set() { // the model asked for must be in view
			m.filter.Clear()
			m.refilter()
		}
		return m.open(msg.Run, msg.Stage)
	case common.RunEndedMsg:
		if msg.Run != nil && msg.Run.Status == engine.StatusSucceeded {
			return m.list()
		}
		return nil
	case detailsMsg:
		if msg.err != nil {
			m.detErr[msg.key] = msg.err
		} else {
			m.details[msg.key] = msg.d
		}
		m.render()
		return nil
	case aliasedMsg:
		if msg.err != nil {
			return common.Err(fmt.Errorf("alias: %w", msg.err))
		}
		delete(m.details, keyOf(msg.run, msg.stage))
		return tea.Batch(common.Info(fmt.Sprintf("%s → run %d stage %s", msg.address, msg.run, msg.stage)), m.describe())
	case exportedMsg:
		if msg.err != nil {
			return common.Err(fmt.Errorf("export: %w", msg.err))
		}
		return common.Info(fmt.Sprintf("exported the model of run %d stage %s to %s (sha256 %s)", msg.run, msg.stage, msg.path, msg.sha))
	case tea.KeyMsg:
		return m.key(msg)
	case tea.MouseMsg:
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return cmd
	}
	if m.form != nil {
		return common.UpdateModal(&m.form, msg)
	}
	if m.confirm != nil {
		return common.UpdateModal(&m.confirm, msg)
	}
	return nil
}

// open selects the model of run's stage ("" for the run's first model).
func (m *Model) open(run int64, stage string) tea.Cmd {
	for i, e := range m.entries {
		if e.run == run && (stage == "" || e.stage == stage) {
			m.want = nil
			m.table.SetCursor(i)
			m.vp.GotoTop()
			m.render()
			return m.describe()
		}
	}
	if !m.loaded || m.want == nil || m.want.run != run {
		m.want = &entry{run: run, stage: stage}
		return m.list()
	}
	m.want = nil
	if stage == "" {
		return common.Errorf(fmt.Sprintf("run %d kept no model", run))
	}
	// Not in the recent list (an older or failed run): add it.
	m.all = append([]entry{{run: run, stage: stage, sub: newSubject(&engine.RunSummary{ID: run}, stage)}}, m.all...)
	m.refilter()
	m.table.SetCursor(0)
	m.render()
	return m.describe()
}

// refilter keeps the models the filter matches, the selection on the
// same model when it is still shown.
func (m *Model) refilter() {
	sel, had := m.selected()
	m.keep()
	m.setRows()
	if had {
		for i, e := range m.entries {
			if e.run == sel.run && e.stage == sel.stage {
				m.table.SetCursor(i)
				return
			}
		}
	}
	m.table.SetCursor(0)
}

// keep sets entries to the models the filter matches.
func (m *Model) keep() {
	m.entries = m.entries[:0:0]
	for _, e := range m.all {
		if m.filter.Empty() || m.filter.Match(e.sub) {
			m.entries = append(m.entries, e)
		}
	}
}

func (m *Model) setRows() {
	rows := make([]table.Row, len(m.entries))
	for i, e := range m.entries {
		rows[i] = table.Row{fmt.Sprint(e.run), e.pipeline, e.stage}
	}
	m.table.SetRows(rows)
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if m.confirm != nil {
		return common.UpdateModal(&m.confirm, msg)
	}
	if m.form != nil {
		return common.UpdateModal(&m.form, msg)
	}
	if m.filter.Active() {
		switch msg.String() {
		case "up", "down", "pgup", "pgdown":
			return m.move(msg)
		}
		changed, cmd := m.filter.Update(msg)
		if changed {
			m.refilter()
			m.vp.GotoTop()
			m.render()
			return tea.Batch(cmd, m.describe())
		}
		return cmd
	}
	switch {
	case key.Matches(msg, keys.Filter):
		return m.filter.Focus()
	case key.Matches(msg, keys.Export):
		if m.ctx.ReadOnly {
			return common.ReadOnlyMsg("exporting")
		}
		return m.askExport()
	case key.Matches(msg, keys.Alias):
		if m.ctx.ReadOnly {
			return common.ReadOnlyMsg("setting an alias")
		}
		return m.askAlias()
	case key.Matches(msg, keys.Reload):
		return m.list()
	case key.Matches(msg, common.Nav.Up, common.Nav.Down, common.Nav.Top, common.Nav.Bottom):
		return m.move(msg)
	}
	var cmd tea.Cmd
	m.vp, cmd = m.vp.Update(msg)
	return cmd
}

// move moves the list's cursor and shows the model it lands on.
func (m *Model) move(msg tea.KeyMsg) tea.Cmd {
	before := m.table.Cursor()
	cmd := m.table.Update(msg)
	if m.table.Cursor() != before {
		m.vp.GotoTop()
		m.render()
		return tea.Batch(cmd, m.describe())
	}
	return cmd
}

type aliasedMsg struct {
	run     int64
	stage   string
	address string
	err     error
}

// askAlias asks for an alias of the selected model's pipeline and sets it.
func (m *Model) askAlias() tea.Cmd {
	e, ok := m.selected()
	if !ok {
		return common.Errorf("no model selected")
	}
	if m.svc == nil {
		return common.Errorf("this sluice cannot set aliases from the workbench; use sluice alias set")
	}
	if m.alias == "" {
		m.alias = "champion"
	}
	input := huh.NewInput().Title("Alias").
		Description(fmt.Sprintf("%s@ALIAS will name run %d, stage %s (export, predict and serve take it)", e.pipeline, e.run, e.stage)).
		Value(&m.alias).
		Validate(func(s string) error { return engine.CheckAlias(strings.TrimSpace(s)) })
	m.aliasing = true
	m.form = common.NewForm(m.ctx.Styles, "SET ALIAS", min(m.w, 90), 10, func() tea.Cmd {
		m.aliasing = false
		alias, svc, ctx := strings.TrimSpace(m.alias), m.svc, m.ctx.Ctx
		return func() tea.Msg {
			addr, err := svc.Alias(ctx, e.run, e.stage, alias)
			return aliasedMsg{run: e.run, stage: e.stage, address: addr, err: err}
		}
	}, huh.NewGroup(input))
	return m.form.Init()
}

func (m *Model) askExport() tea.Cmd {
	e, ok := m.selected()
	if !ok {
		return common.Errorf("no model selected")
	}
	if m.svc == nil {
		return common.Errorf("this sluice cannot export models from the workbench; use sluice export")
	}
	name := e.pipeline
	if name == "" {
		name = "model"
	}
	m.path = fmt.Sprintf("%s-run%d-%s.json", name, e.run, e.stage)
	input := huh.NewInput().Title("Export to").
		Description(fmt.Sprintf("run %d, stage %s: the file `sluice export` writes", e.run, e.stage)).
		Value(&m.path).
		Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("type a file path")
			}
			if fi, err := os.Stat(s); err == nil && fi.IsDir() {
				return errors.New("that is a folder: add a file name")
			}
			return nil
		})
	m.form = common.NewForm(m.ctx.Styles, "EXPORT MODEL", min(m.w, 90), 10, func() tea.Cmd {
		path := strings.TrimSpace(m.path)
		if _, err := os.Stat(path); err == nil {
			m.confirm = common.NewConfirm(m.ctx.Styles, "Overwrite "+path+"?", "The file exists.", m.export(e, path))
			return m.confirm.Init()
		}
		return m.export(e, path)
	}, huh.NewGroup(input))
	return m.form.Init()
}

func (m *Model) export(e entry, path string) tea.Cmd {
	svc, ctx := m.svc, m.ctx.Ctx
	return func() tea.Msg {
		sha, err := svc.Export(ctx, e.run, e.stage, path)
		return exportedMsg{run: e.run, stage: e.stage, path: path, sha: sha, err: err}
	}
}

// render fills the details pane.
func (m *Model) render() {
	st := m.ctx.Styles
	w := m.vp.Width
	e, ok := m.selected()
	var b []string
	add := func(s ...string) { b = append(b, s...) }
	switch {
	case !ok:
	case m.svc == nil:
		add(st.Subtle.Render("This sluice cannot describe models in the workbench; `sluice show` lists them."))
	default:
		k := keyOf(e.run, e.stage)
		d, have := m.details[k]
		if err := m.detErr[k]; err != nil {
			add(st.Error.Render(err.Error()))
			break
		}
		if !have {
			add(st.Subtle.Render("Reading the model…"))
			break
		}
		add(m.detailLines(d, w)...)
	}
	text := strings.Join(b, "\n")
	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = common.Fit(lines[i], w)
	}
	m.vp.SetContent(strings.Join(lines, "\n"))
}

func (m *Model) detailLines(d *Details, w int) []string {
	st := m.ctx.Styles
	var b []string
	add := func(s ...string) { b = append(b, s...) }
	field := func(k, v string) { add(st.Subtle.Render(common.Fit(k, 11)) + v) }
	add(st.Bold.Render(d.Estimator) + st.Subtle.Render(fmt.Sprintf("  run %d · stage %s", d.Run, d.Stage)))
	task := d.Task
	if d.Target != "" {
		task += " → " + d.Target
	}
	if task != "" {
		field("task", task)
	}
	if len(d.Aliases) > 0 {
		field("aliases", strings.Join(d.Aliases, ", "))
	}
	if len(d.Classes) > 0 {
		field("classes", strings.Join(d.Classes, ", "))
	}
	// The hash is compared by eye with `sha256sum`: wrap it, never cut it.
	for i, sum := 0, d.SHA256; sum != ""; i++ {
		n := min(len(sum), max(w-11, 16))
		if i == 0 {
			field("sha256", sum[:n])
		} else {
			field("", sum[:n])
		}
		sum = sum[n:]
	}
	if d.Size > 0 {
		field("size", common.Bytes(d.Size))
	}
	add("")
	add(st.Header.Render("CHAIN") + st.Subtle.Render("  raw rows in, predictions out"))
	if len(d.Chain) == 0 {
		add(st.Subtle.Render("  no preprocessing"))
	}
	for i, c := range d.Chain {
		add(fmt.Sprintf("  %d  %s", i+1, c))
	}
	add(fmt.Sprintf("  %d  %s", len(d.Chain)+1, d.Estimator))
	if len(d.Params) > 0 {
		add("", st.Header.Render("PARAMETERS"))
		kw := 0
		for k := range d.Params {
			kw = max(kw, len(k))
		}
		for _, k := range common.SortedKeys(d.Params) {
			add(fmt.Sprintf("  %-*s  %s", kw, k, common.Value(d.Params[k])))
		}
	}
	if len(d.Metrics) > 0 {
		add("", st.Header.Render("METRICS"))
		kw := 0
		for k := range d.Metrics {
			kw = max(kw, len(k))
		}
		for _, k := range common.SortedKeys(d.Metrics) {
			add(fmt.Sprintf("  %-*s  %s", kw, k, common.Metric(d.Metrics[k])))
		}
	}
	if len(d.Confusion) > 0 {
		add("", st.Header.Render("CONFUSION MATRIX")+st.Subtle.Render("  rows: true class · columns: predicted"))
		add(confusionView(st, d))
	}
	if len(d.Importances) > 0 {
		add("", st.Header.Render("FEATURE IMPORTANCES"))
		add(importanceChart(st, d, w))
	}
	return b
}

func confusionView(st *common.Styles, d *Details) string {
	classes := d.Classes
	headers := []string{""}
	for i := range d.Confusion {
		name := fmt.Sprint(i)
		if i < len(classes) {
			name = classes[i]
		}
		headers = append(headers, name)
	}
	rows := make([][]string, len(d.Confusion))
	for i, r := range d.Confusion {
		rows[i] = []string{headers[i+1]}
		for _, v := range r {
			rows[i] = append(rows[i], fmt.Sprint(v))
		}
	}
	t := ltable.New().Headers(headers...).Rows(rows...).
		Border(lipgloss.NormalBorder()).BorderStyle(st.Subtle).
		StyleFunc(func(row, col int) lipgloss.Style {
			s := lipgloss.NewStyle().Padding(0, 1)
			switch {
			case row == ltable.HeaderRow || col == 0:
				return s.Inherit(st.Header)
			case row == col-1:
				return s.Inherit(st.Best).Align(lipgloss.Right)
			}
			return s.Align(lipgloss.Right)
		})
	return t.Render()
}

// importanceChart draws the importances as horizontal bars, largest
// first, at most 15.
func importanceChart(st *common.Styles, d *Details, w int) string {
	type fi struct {
		name string
		v    float64
	}
	var all []fi
	for i, v := range d.Importances {
		name := fmt.Sprint(i)
		if i < len(d.Features) {
			name = d.Features[i]
		}
		all = append(all, fi{name, v})
	}
	// Largest magnitude first; stable for equal ones.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && abs(all[j].v) > abs(all[j-1].v); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	if len(all) > 15 {
		all = all[:15]
	}
	labelW := 0
	labels := make([]string, len(all))
	maxV := 0.0
	for i, f := range all {
		labels[i] = fmt.Sprintf("%s %.4f", f.name, f.v)
		labelW = max(labelW, len(labels[i]))
		maxV = max(maxV, abs(f.v))
	}
	if maxV == 0 {
		maxV = 1
	}
	bars := make([]barchart.BarData, len(all))
	style := lipgloss.NewStyle().Foreground(st.Bar)
	for i, f := range all {
		bars[i] = barchart.BarData{Label: common.Fit(labels[i], labelW), Values: []barchart.BarValue{{Name: f.name, Value: abs(f.v), Style: style}}}
	}
	cw := min(w, labelW+40)
	bc := barchart.New(cw, len(all), barchart.WithHorizontalBars(), barchart.WithNoAutoBarWidth(), barchart.WithBarWidth(1),
		barchart.WithBarGap(0), barchart.WithNoAutoMaxValue(), barchart.WithMaxValue(maxV),
		barchart.WithStyles(st.Subtle, lipgloss.NewStyle()))
	bc.PushAll(bars)
	bc.Resize(cw, len(all)) // place the axis after the labels
	bc.Draw()
	return bc.View()
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// View renders the screen.
func (m *Model) View() string {
	st := m.ctx.Styles
	if m.confirm != nil {
		return m.confirm.View(st, m.w, m.h)
	}
	if m.form != nil {
		return lipgloss.Place(m.w, m.h, lipgloss.Center, lipgloss.Center, m.form.View(st, min(m.w, 90), 12))
	}
	head := st.Title.Render("MODELS") + st.Subtle.Render("  fitted by recent runs")
	switch {
	case m.filter.Active():
		head = m.filter.View(st, m.w)
	case m.filter.Set():
		head += st.Subtle.Render(fmt.Sprintf("  /%s  %d of %d", m.filter.Value(), len(m.entries), len(m.all)))
	}
	var left string
	switch {
	case m.err != nil:
		left = st.Error.Render(m.err.Error())
	case !m.loaded:
		left = st.Subtle.Render("Looking for models…")
	case len(m.all) == 0:
		left = st.Subtle.Render("No model yet: run a pipeline\nwith a train or tune stage.")
	case len(m.entries) == 0:
		left = st.Subtle.Render("No model matches the filter.\nesc clears it.")
	default:
		left = m.table.View()
	}
	lw := m.listWidth()
	bodyH := m.h - 2
	if strings.Count(head, "\n") > 0 { // the filter points at a problem on a second line
		bodyH--
	}
	body := lipgloss.JoinHorizontal(lipgloss.Top,
		common.Block(left, lw, bodyH),
		common.Block(strings.Repeat("│\n", bodyH), 1, bodyH),
		common.Block(m.vp.View(), m.w-lw-1, bodyH))
	return common.Block(head+"\n\n"+body, m.w, m.h)
}
