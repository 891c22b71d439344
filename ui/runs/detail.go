package runs

import (
	"time"

	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	ltable "github.com/charmbracelet/lipgloss/table"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// Sections of the run detail, for the selected stage.
const (
	secStage = iota
	secParams
	secMetrics
	secData
	secLogs
	numSections
)

var sectionNames = [numSections]string{"Stage", "Params", "Metrics", "Data", "Logs"}

// detail is one run stepped into: its stages on the left, and the
// selected stage's details on the right.
type detail struct {
	ctx   *common.Context
	store Store
	id    int64
	w, h  int

	run     *engine.Run
	arts    []engine.ArtifactInfo
	err     error
	stage   int
	section int
	// wantStage selects a stage by id once the run is loaded (after [ or ]).
	wantStage string

	previews map[string]*engine.Preview
	prevErr  map[string]error
	logs     map[string][]engine.LogLine
	logErr   map[string]error

	vp      viewport.Model
	seq     common.Seq
	loading bool
}

func newDetail(ctx *common.Context, store Store, id int64, w, h int) *detail {
	d := &detail{ctx: ctx, store: store, id: id, previews: map[string]*engine.Preview{}, prevErr: map[string]error{},
		logs: map[string][]engine.LogLine{}, logErr: map[string]error{}}
	d.vp = viewport.New(10, 5)
	d.vp.KeyMap = viewport.KeyMap{
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u")),
	}
	d.vp.MouseWheelEnabled = true
	d.resize(w, h)
	return d
}

type runMsg struct {
	seq  int
	id   int64
	run  *engine.Run
	arts []engine.ArtifactInfo
	err  error
}

type previewMsg struct {
	id    int64
	stage string
	p     *engine.Preview
	err   error
}

type logsMsg struct {
	id    int64
	stage string
	lines []engine.LogLine
	err   error
}

func (d *detail) load() tea.Cmd {
	seq, store, ctx, id := d.seq.Next(), d.store, d.ctx.Ctx, d.id
	d.loading = true
	return func() tea.Msg {
		r, err := store.Run(ctx, id)
		if err != nil {
			return runMsg{seq: seq, id: id, err: err}
		}
		arts, err := store.Artifacts(ctx, id)
		return runMsg{seq: seq, id: id, run: r, arts: arts, err: err}
	}
}

// tick reloads a run that is still going, with the log being read.
func (d *detail) tick() tea.Cmd {
	if d.run == nil || d.run.Status.Done() || d.loading {
		return nil
	}
	delete(d.logs, d.stageID())
	return tea.Batch(d.load(), d.fetch())
}

func (d *detail) events(evs []engine.Event) tea.Cmd {
	for _, e := range evs {
		if e.RunID == d.id && e.Kind == engine.EventRunFinished {
			d.previews, d.logs = map[string]*engine.Preview{}, map[string][]engine.LogLine{}
			return d.load()
		}
	}
	return nil
}

func (d *detail) stageID() string {
	if d.run == nil || d.stage < 0 || d.stage >= len(d.run.Stages) {
		return ""
	}
	return d.run.Stages[d.stage].ID
}

// fetch reads what the section needs for the selected stage, once.
func (d *detail) fetch() tea.Cmd {
	stage := d.stageID()
	if stage == "" {
		return nil
	}
	store, ctx, id := d.store, d.ctx.Ctx, d.id
	switch d.section {
	case secData:
		if _, ok := d.previews[stage]; ok {
			return nil
		}
		if _, ok := d.prevErr[stage]; ok {
			return nil
		}
		return func() tea.Msg {
			p, err := store.Preview(ctx, id, stage)
			return previewMsg{id: id, stage: stage, p: p, err: err}
		}
	case secLogs:
		if _, ok := d.logs[stage]; ok {
			return nil
		}
		return func() tea.Msg {
			lines, err := store.Logs(ctx, id, stage, 0)
			return logsMsg{id: id, stage: stage, lines: lines, err: err}
		}
	}
	return nil
}

func (d *detail) resize(w, h int) {
	d.w, d.h = w, h
	d.vp.Width = max(d.rightWidth(), 10)
	d.vp.Height = max(h-4, 3)
	d.render()
}

func (d *detail) leftWidth() int  { return min(max(d.w/3, 28), 40) }
func (d *detail) rightWidth() int { return d.w - d.leftWidth() - 1 }

func (d *detail) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case runMsg:
		if !d.seq.Current(msg.seq) || msg.id != d.id {
			return nil
		}
		d.loading = false
		if msg.err != nil {
			d.err = msg.err
			return common.Err(fmt.Errorf("run %d: %w", d.id, msg.err))
		}
		d.run, d.arts, d.err = msg.run, msg.arts, nil
		if d.wantStage != "" {
			for i, s := range d.run.Stages {
				if s.ID == d.wantStage {
					d.stage = i
				}
			}
			d.wantStage = ""
		}
		if d.stage >= len(d.run.Stages) {
			d.stage = max(len(d.run.Stages)-1, 0)
		}
		d.render()
		return d.fetch()
	case previewMsg:
		if msg.id != d.id {
			return nil
		}
		if msg.err != nil {
			d.prevErr[msg.stage] = msg.err
		} else {
			d.previews[msg.stage] = msg.p
		}
		d.render()
		return nil
	case logsMsg:
		if msg.id != d.id {
			return nil
		}
		if msg.err != nil {
			d.logErr[msg.stage] = msg.err
		} else {
			d.logs[msg.stage] = msg.lines
		}
		d.render()
		return nil
	case tea.KeyMsg:
		n := 0
		if d.run != nil {
			n = len(d.run.Stages)
		}
		switch {
		case key.Matches(msg, common.Nav.Up):
			if d.stage > 0 {
				d.stage--
				d.vp.GotoTop()
				d.render()
				return d.fetch()
			}
			return nil
		case key.Matches(msg, common.Nav.Down):
			if d.stage < n-1 {
				d.stage++
				d.vp.GotoTop()
				d.render()
				return d.fetch()
			}
			return nil
		case key.Matches(msg, keys.Section):
			d.section = (d.section + 1) % numSections
			d.vp.GotoTop()
			d.render()
			return d.fetch()
		case key.Matches(msg, keys.SectionBack):
			d.section = (d.section + numSections - 1) % numSections
			d.vp.GotoTop()
			d.render()
			return d.fetch()
		case key.Matches(msg, keys.Watch):
			id := d.id
			return tea.Batch(func() tea.Msg { return common.WatchRunMsg{ID: id} }, common.Switch(common.ScreenRun))
		case key.Matches(msg, keys.Rerun):
			if d.run == nil {
				return nil
			}
			return rerun(d.id, d.run.Status)
		case key.Matches(msg, keys.Model):
			id, stage := d.id, d.modelStage()
			if stage == "" {
				return common.Errorf("this run kept no model")
			}
			return tea.Batch(func() tea.Msg { return common.OpenModelMsg{Run: id, Stage: stage} }, common.Switch(common.ScreenModel))
		}
		var cmd tea.Cmd
		d.vp, cmd = d.vp.Update(msg)
		return cmd
	case tea.MouseMsg:
		var cmd tea.Cmd
		d.vp, cmd = d.vp.Update(msg)
		return cmd
	}
	return nil
}

// modelStage is the selected stage if it kept a model, else the last
// stage that did.
func (d *detail) modelStage() string {
	sel := d.stageID()
	last := ""
	for _, a := range d.arts {
		if a.Name == "model" {
			if a.Stage == sel {
				return sel
			}
			last = a.Stage
		}
	}
	return last
}

// render fills the viewport with the selected section.
func (d *detail) render() {
	if d.run == nil {
		d.vp.SetContent("")
		return
	}
	st := d.ctx.Styles
	s := d.run.Stages[min(d.stage, len(d.run.Stages)-1)]
	w := d.vp.Width
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	switch d.section {
	case secStage:
		line("%s  %s  %s", st.Bold.Render(s.ID), st.Subtle.Render(s.Uses), st.StatusText(s.Status))
		if len(s.Needs) > 0 {
			line("needs     %s", strings.Join(s.Needs, ", "))
		}
		line("started   %s", common.Started(s.Started))
		line("took      %s   attempts %d", common.Seconds(s.Seconds), s.Attempts)
		switch {
		case s.Rows > 0 || s.Cols > 0:
			line("output    %d rows × %d columns (Data shows a preview)", s.Rows, s.Cols)
		default:
			line("output    %s", s.Kind)
		}
		if s.Progress.Total > 0 {
			line("progress  %d/%d %s", s.Progress.Done, s.Progress.Total, s.Progress.Unit)
		}
		line("seed      %d", s.Seed)
		line("finger    %s", common.Short(s.Fingerprint))
		if s.Reason != "" {
			line("why       %s", s.Reason)
		}
		if s.Error != "" {
			line("")
			line("%s", st.Error.Render("error: "+s.Error))
		}
		for _, a := range d.arts {
			if a.Stage == s.ID {
				line("")
				line("kept      %s (%s, %s) sha256 %s", a.Name, a.Format, common.Bytes(a.Size), a.SHA256)
				if a.Name == "model" {
					line("          %s", st.Subtle.Render("m shows the model · e there exports it"))
				}
			}
		}
		if len(d.run.Inputs) > 0 {
			line("")
			line("%s", st.Header.Render("DATA READ BY THE RUN"))
			for _, k := range common.SortedKeys(d.run.Inputs) {
				line("%s  %s", common.Short(d.run.Inputs[k]), k)
			}
		}
	case secParams:
		params := d.run.Params[s.ID]
		if len(params) == 0 {
			line("%s", st.Subtle.Render("This stage takes no parameters."))
			break
		}
		line("%s", st.Header.Render("PARAMETERS AFTER DEFAULTS AND OVERRIDES"))
		overridden := map[string]bool{}
		for _, o := range d.run.Overrides {
			if k, _, ok := strings.Cut(o, "="); ok {
				overridden[k] = true
			}
		}
		keysW := 0
		for k := range params {
			keysW = max(keysW, len(k))
		}
		for _, k := range common.SortedKeys(params) {
			mark := ""
			if overridden[s.ID+"."+k] {
				mark = st.Warn.Render("  (--set)")
			}
			line("%-*s  %s%s", keysW, k, common.Value(params[k]), mark)
		}
	case secMetrics:
		any := false
		for _, rs := range d.run.Stages {
			if len(rs.Metrics) == 0 {
				continue
			}
			any = true
			title := rs.ID
			if rs.ID == s.ID {
				title += "  ◂"
			}
			line("%s", st.Header.Render(strings.ToUpper(title)))
			kw := 0
			for k := range rs.Metrics {
				kw = max(kw, len(k))
			}
			for _, k := range common.SortedKeys(rs.Metrics) {
				line("  %-*s  %s", kw, k, common.Metric(rs.Metrics[k]))
			}
		}
		if !any {
			line("%s", st.Subtle.Render("No stage of this run reported metrics."))
		}
	case secData:
		p, ok := d.previews[s.ID]
		switch {
		case ok:
			b.WriteString(previewView(st, p))
		case d.prevErr[s.ID] != nil && errors.Is(d.prevErr[s.ID], engine.ErrNotFound):
			line("%s", st.Subtle.Render(fmt.Sprintf("Stage %s gives %s, not a table: no preview.", s.ID, s.Kind)))
		case d.prevErr[s.ID] != nil:
			line("%s", st.Error.Render(d.prevErr[s.ID].Error()))
		default:
			line("%s", st.Subtle.Render("Reading the preview…"))
		}
	case secLogs:
		lines, ok := d.logs[s.ID]
		switch {
		case d.logErr[s.ID] != nil:
			line("%s", st.Error.Render(d.logErr[s.ID].Error()))
		case !ok:
			line("%s", st.Subtle.Render("Reading the log…"))
		case len(lines) == 0:
			line("%s", st.Subtle.Render("This stage logged nothing."))
		}
		for _, l := range lines {
			text := l.Text
			if l.Stream == "stderr" {
				text = st.Warn.Render(text)
			}
			line("%s %s", st.Subtle.Render(l.Time.Local().Format("15:04:05.000")), text)
		}
	}
	out := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for i := range out {
		out[i] = common.Fit(out[i], w)
	}
	d.vp.SetContent(strings.Join(out, "\n"))
}

// previewView renders a table output's per-column summary and its first
// rows.
func previewView(st *common.Styles, p *engine.Preview) string {
	var b strings.Builder
	style := func(row, col int) lipgloss.Style {
		s := lipgloss.NewStyle().PaddingRight(1)
		if col > 0 {
			s = s.PaddingLeft(1)
		}
		if row == ltable.HeaderRow {
			return s.Inherit(st.Header)
		}
		return s
	}
	borders := func(t *ltable.Table) *ltable.Table {
		return t.Border(lipgloss.NormalBorder()).BorderTop(false).BorderBottom(false).BorderLeft(false).BorderRight(false).
			BorderStyle(st.Subtle).StyleFunc(style)
	}
	fmt.Fprintf(&b, "%s\n", st.Header.Render(fmt.Sprintf("%d ROWS × %d COLUMNS", p.Rows, len(p.Columns))))
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return common.Metric(*v)
	}
	rows := make([][]string, len(p.Columns))
	for i, c := range p.Columns {
		top := make([]string, 0, len(c.Top))
		for _, tv := range c.Top {
			top = append(top, fmt.Sprintf("%s %d", tv.Value, tv.Count))
		}
		unique := ""
		if c.Unique > 0 {
			unique = fmt.Sprint(c.Unique)
		}
		rows[i] = []string{c.Name, c.Type, fmt.Sprint(c.Missing), num(c.Mean), num(c.Std), num(c.Min), num(c.Max), unique, strings.Join(top, ", ")}
	}
	b.WriteString(borders(ltable.New().Headers("column", "type", "missing", "mean", "std", "min", "max", "unique", "top").Rows(rows...)).Render())
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "%s\n", st.Header.Render(fmt.Sprintf("FIRST %d ROWS", len(p.Head))))
	headers := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		headers[i] = c.Name
	}
	b.WriteString(borders(ltable.New().Headers(headers...).Rows(p.Head...)).Render())
	return b.String()
}

func (d *detail) view() string {
	st := d.ctx.Styles
	if d.run == nil {
		msg := "Reading run…"
		if d.err != nil {
			msg = st.Error.Render(fmt.Sprintf("Cannot read run %d: %v", d.id, d.err))
		}
		return common.Block(st.Title.Render(fmt.Sprintf("RUN %d", d.id))+"\n"+msg, d.w, d.h)
	}
	r := d.run
	head1 := st.Title.Render(fmt.Sprintf("RUN %d", r.ID)) + "  " + st.Bold.Render(r.Pipeline) + "  " + st.StatusText(r.Status) +
		st.Subtle.Render(fmt.Sprintf("  started %s · took %s · seed %d · sluice %s", common.Started(r.Started), common.Seconds(r.Seconds), r.Seed, r.Version))
	head2 := st.Subtle.Render(fmt.Sprintf("%s (sha256 %s)", r.File, common.Short(r.SpecHash)))
	if r.TriggerKind() != engine.TriggerManual {
		head2 += st.Subtle.Render(fmt.Sprintf(" · %s, logical time %s", r.TriggerKind(), r.Logical().UTC().Format(time.RFC3339)))
	}
	if len(r.Overrides) > 0 {
		head2 += "  " + st.Warn.Render("--set "+strings.Join(r.Overrides, " --set "))
	}
	if r.Error != "" {
		head2 += "  " + st.Error.Render(r.Error)
	}
	// Stages on the left.
	lw := d.leftWidth()
	var left []string
	left = append(left, st.Header.Render(common.Fit("STAGES", lw)))
	idW := 5
	for _, s := range r.Stages {
		idW = max(idW, len(s.ID))
	}
	idW = min(idW, lw-16)
	for i, s := range r.Stages {
		cursor := " "
		if i == d.stage {
			cursor = common.Cursor
		}
		row := fmt.Sprintf("%s %s %s %s", cursor, st.Status(s.Status).Render(common.StatusIcon(s.Status)), common.Fit(s.ID, idW), common.FitRight(common.Seconds(s.Seconds), 7))
		if s.Status == engine.StatusPending {
			row = fmt.Sprintf("%s %s %s %s", cursor, st.Status(s.Status).Render(common.StatusIcon(s.Status)), common.Fit(s.ID, idW), common.FitRight("", 7))
		}
		if s.Rows > 0 {
			row += st.Subtle.Render(fmt.Sprintf(" %d×%d", s.Rows, s.Cols))
		} else if len(s.Metrics) > 0 {
			row += st.Subtle.Render(" ◆")
		}
		if i == d.stage {
			row = st.Selected.Render(common.Fit(row, lw))
		}
		left = append(left, common.Fit(row, lw))
	}
	left = append(left, "", st.Subtle.Render(common.Fit("[ earlier run · ] later run", lw)))
	// Section tabs and content on the right.
	var tabs []string
	for i, n := range sectionNames {
		if i == d.section {
			tabs = append(tabs, st.ActiveTab.Render("["+n+"]"))
		} else {
			tabs = append(tabs, st.Tab.Render(" "+n+" "))
		}
	}
	right := lipgloss.JoinHorizontal(lipgloss.Top, tabs...) + "\n" + d.vp.View()
	bodyH := d.h - 3
	body := lipgloss.JoinHorizontal(lipgloss.Top,
		common.Block(strings.Join(left, "\n"), lw, bodyH),
		common.Block(strings.Repeat("│\n", bodyH), 1, bodyH),
		common.Block(right, d.rightWidth(), bodyH))
	var head3 string
	if len(r.Tags) > 0 {
		head3 = st.Marked.Render("#"+strings.Join(r.Tags, " #")) + "  "
	}
	if r.Note != "" {
		note, _, more := strings.Cut(r.Note, "\n")
		if more {
			note += " …"
		}
		head3 += st.Subtle.Render("✎ ") + note
	}
	return common.Block(head1+"\n"+head2+"\n"+common.Fit(head3, d.w)+"\n"+body, d.w, d.h)
}
