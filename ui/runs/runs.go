package runs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/table"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/query"
)

// Store is what the Runs screen reads.
type Store interface {
	Runs(ctx context.Context, f engine.RunFilter) ([]engine.RunSummary, error)
	Latest(ctx context.Context, pipeline string) (int64, error)
	Run(ctx context.Context, id int64) (*engine.Run, error)
	Logs(ctx context.Context, run int64, stage string, from int) ([]engine.LogLine, error)
	Preview(ctx context.Context, run int64, stage string) (*engine.Preview, error)
	Artifacts(ctx context.Context, run int64) ([]engine.ArtifactInfo, error)
}

// Annotator writes tags and notes (*store.DB does). A store without it
// leaves t and N disabled.
type Annotator interface {
	Tag(ctx context.Context, id int64, tags ...string) ([]string, error)
	Untag(ctx context.Context, id int64, tags ...string) ([]string, error)
	SetNote(ctx context.Context, id int64, note string) error
}

type keyMap struct {
	Filter, Mark, Compare, Open, Clear, Watch, Model, Tag, Note, Rerun, Report, Delete, Undo key.Binding
	// detail
	Prev, Next, Section, SectionBack, Scroll key.Binding
}

var keys = keyMap{
	Filter:      common.Binding("/", "filter", "/"),
	Mark:        common.Binding("space", "mark", " "),
	Compare:     common.Binding("c", "compare marked", "c"),
	Open:        common.Binding("enter", "step into run", "enter"),
	Clear:       common.Binding("x", "clear marks", "x"),
	Watch:       common.Binding("w", "watch live", "w"),
	Model:       common.Binding("m", "model", "m"),
	Tag:         common.Binding("t", "tags", "t"),
	Report:      common.Binding("v", "report (charts)", "v"),
	Delete:      common.Binding("d", "delete (to the trash)", "d", "delete"),
	Undo:        common.Binding("u", "undo delete", "u"),
	Note:        common.Binding("N", "note", "N"),
	Rerun:       common.Binding("R", "rerun/resume", "R"),
	Prev:        common.Binding("[", "previous run", "["),
	Next:        common.Binding("]", "next run", "]"),
	Section:     common.Binding("→/l", "next section", "right", "l"),
	SectionBack: common.Binding("←/h", "previous section", "left", "h"),
	Scroll:      common.Binding("pgup/pgdn", "scroll", "pgup", "pgdown"),
}

// Model is the Runs screen.
type Model struct {
	ctx   *common.Context
	store Store
	live  common.LiveChecker
	w, h  int

	all     []engine.RunSummary // newest first
	subj    []query.Run         // each run as queries see it
	rows    []table.Row         // each run's row, built once per change
	shown   []int               // indexes into all of the rows shown
	marked  map[int64]bool
	table   common.Table
	loaded  bool
	loadErr error

	filter common.Filter

	loadSeq  common.Seq
	pollSeq  common.Seq
	polling  bool
	gen      uint64 // the store's generation at the last poll
	detail   *detail
	pendOpen int64 // run to step into once the list has it
	form     *common.Form
	report   *reportView
	confirm  *common.Confirm
	undo     [][]int64 // runs deleted, most recent last, for u
	// The widths the rows are built for, and the columns dropped to make
	// room for the metric (the +N hint).
	metricW int
	dropped []string
}

// New returns the Runs screen reading from store.
func New(ctx *common.Context, store Store, live common.LiveChecker) *Model {
	m := &Model{ctx: ctx, store: store, live: live, marked: map[int64]bool{}}
	m.metricW = 30
	m.table = common.NewTable(ctx.Styles, m.columns(100))
	m.filter = common.NewFilter("text, accuracy>0.9, param.model.C=1, status:failed, tag:NAME, since:7d, or", ctx.Now)
	return m
}

type loadedMsg struct {
	seq  int
	runs []engine.RunSummary
	err  error
}

type polledMsg struct {
	seq  int
	runs []engine.RunSummary // new or changed
	gen  uint64
	err  error
}

// generationer is a store that can say cheaply whether anything changed
// since the last look (*store.DB can).
type generationer interface {
	Generation(ctx context.Context) (uint64, error)
}

// Init loads every run.
func (m *Model) Init() tea.Cmd { return m.load() }

func (m *Model) load() tea.Cmd {
	seq, store, ctx := m.loadSeq.Next(), m.store, m.ctx.Ctx
	return func() tea.Msg {
		runs, err := store.Runs(ctx, engine.RunFilter{})
		return loadedMsg{seq: seq, runs: runs, err: err}
	}
}

// poll asks the store for runs newer than the newest known one and for
// the current state of runs that were unfinished.
func (m *Model) poll() tea.Cmd {
	if m.polling || !m.loaded {
		return nil
	}
	m.polling = true
	seq, store, ctx := m.pollSeq.Next(), m.store, m.ctx.Ctx
	var newest int64
	if len(m.all) > 0 {
		newest = m.all[0].ID
	}
	var unfinished []int64
	for _, s := range m.all {
		if !s.Status.Done() && (m.live == nil || !m.live.Live(s.ID)) {
			unfinished = append(unfinished, s.ID)
		}
	}
	lastGen := m.gen
	return func() tea.Msg {
		msg := polledMsg{seq: seq}
		if g, ok := store.(generationer); ok {
			gen, err := g.Generation(ctx)
			if err == nil {
				msg.gen = gen
				if gen == lastGen {
					return msg // nothing written since the last poll
				}
			}
		}
		latest, err := store.Latest(ctx, "")
		if errors.Is(err, engine.ErrNotFound) {
			return msg
		}
		if err != nil {
			msg.err = err
			return msg
		}
		if latest > newest {
			fresh, err := store.Runs(ctx, engine.RunFilter{Limit: int(latest - newest)})
			if err != nil {
				msg.err = err
				return msg
			}
			for _, s := range fresh {
				if s.ID > newest {
					msg.runs = append(msg.runs, s)
				}
			}
		}
		for _, id := range unfinished {
			r, err := store.Run(ctx, id)
			if err != nil {
				continue
			}
			msg.runs = append(msg.runs, engine.Summarize(r))
		}
		return msg
	}
}

// Resize sets the screen's size.
func (m *Model) Resize(w, h int) {
	m.w, m.h = w, h
	before := m.metricW
	m.table.SetColumns(m.columns(w))
	if m.metricW != before && len(m.all) > 0 {
		// The metric cells are fitted to the column: build them again.
		for i := range m.all {
			m.rows[i] = m.row(&m.all[i])
		}
		m.refreshRows()
	}
	m.table.SetWidth(w)
	m.table.SetHeight(max(h-2, 3))
	m.filter.SetWidth(w)
	if m.detail != nil {
		m.detail.resize(w, h)
	}
	if m.report != nil {
		m.report.resize(w, h)
	}
}

// columns lays the table out in w cells. The metric column must hold a
// headline whole ("accuracy 0.9750" and a tag or two): when it cannot,
// STARTED and then DURATION give way (a width of 0 hides a column), and
// the header says so.
func (m *Model) columns(w int) []table.Column {
	const metricMin = 24
	started, duration := 19, 9
	// The table's marker column, the mark column, RUN and STATUS, each
	// followed by a space; then PIPELINE, STARTED, DURATION and METRIC.
	fixed := 2 + 2 + 7 + 14
	m.dropped = m.dropped[:0]
	if fixed+13+started+1+duration+1+metricMin+1 > w {
		started = 0
		m.dropped = append(m.dropped, "STARTED")
	}
	if fixed+13+duration+1+metricMin+1 > w && started == 0 {
		duration = 0
		m.dropped = append(m.dropped, "DURATION")
	}
	rest := w - fixed
	if started > 0 {
		rest -= started + 1
	}
	if duration > 0 {
		rest -= duration + 1
	}
	rest = max(rest, metricMin+13)
	pipeline := min(max(rest/3, 12), 28)
	metric := rest - pipeline - 2
	m.metricW = metric
	return []table.Column{
		{Title: " ", Width: 1},
		{Title: "RUN", Width: 6},
		{Title: "PIPELINE", Width: pipeline},
		{Title: "STATUS", Width: 13},
		{Title: "STARTED", Width: started},
		{Title: "DURATION", Width: duration},
		{Title: "METRIC", Width: metric},
	}
}

// Keys are the screen's bindings.
func (m *Model) Keys() help.KeyMap {
	if m.report != nil {
		return common.KeyMap{Short: []key.Binding{common.Binding("↑/↓", "scroll", "up"), common.Binding("pgup/pgdn", "page", "pgup"), common.Binding("esc", "back", "esc")}}
	}
	if m.detail != nil {
		k := common.KeyMap{Short: []key.Binding{common.Nav.Up, common.Nav.Down, keys.Section, keys.Prev, keys.Next, keys.Scroll, keys.Watch, keys.Model}}
		k.Full = [][]key.Binding{
			{common.Nav.Up, common.Nav.Down, keys.Scroll},
			{keys.SectionBack, keys.Section, keys.Prev, keys.Next},
			{keys.Watch, keys.Model, keys.Report, keys.Mark, m.ctx.Mutating(keys.Tag), m.ctx.Mutating(keys.Note)},
			{m.ctx.Mutating(keys.Rerun)},
		}
		return k
	}
	if m.form != nil {
		return common.KeyMap{Short: []key.Binding{common.Binding("enter", "save", "enter"), common.Binding("esc", "cancel", "esc")}}
	}
	if m.filter.Active() {
		return common.KeyMap{Short: common.FilterKeys}
	}
	return common.KeyMap{
		Short: []key.Binding{common.Nav.Up, common.Nav.Down, keys.Open, keys.Filter, keys.Mark, keys.Compare, keys.Watch, m.ctx.Mutating(keys.Tag), m.ctx.Mutating(keys.Note)},
		Full: [][]key.Binding{
			{common.Nav.Up, common.Nav.Down, common.Nav.PageUp, common.Nav.PageDown, common.Nav.Top, common.Nav.Bottom},
			{keys.Open, keys.Filter, keys.Watch, keys.Model, keys.Report},
			{keys.Mark, keys.Clear, keys.Compare},
			{m.ctx.Mutating(keys.Delete), m.ctx.Mutating(keys.Undo)},
			{m.ctx.Mutating(keys.Tag), m.ctx.Mutating(keys.Note), m.ctx.Mutating(keys.Rerun)},
		},
	}
}

// Capturing reports whether the filter has the keyboard.
func (m *Model) Capturing() bool { return m.filter.Active() || m.form != nil || m.confirm != nil }

// Back leaves the run detail, or clears the filter.
func (m *Model) Back() bool {
	if m.confirm != nil {
		m.confirm = nil
		return true
	}
	if m.report != nil {
		m.report = nil
		return true
	}
	if m.form != nil {
		m.form = nil
		return true
	}
	if m.detail != nil {
		m.detail = nil
		return true
	}
	if m.filter.Set() {
		m.filter.Clear()
		m.applyFilter()
		return true
	}
	return false
}

// Summaries returns the runs the screen holds, newest first.
func (m *Model) Summaries() []engine.RunSummary { return m.all }

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg:
		if !m.loadSeq.Current(msg.seq) {
			return nil
		}
		if msg.err != nil {
			m.loadErr = msg.err
			return common.Err(fmt.Errorf("reading runs: %w", msg.err))
		}
		m.loaded, m.loadErr = true, nil
		m.setAll(msg.runs)
		return m.openPending()
	case polledMsg:
		if !m.pollSeq.Current(msg.seq) {
			return nil
		}
		m.polling = false
		if msg.err != nil {
			return common.Err(fmt.Errorf("polling runs: %w", msg.err))
		}
		m.gen = msg.gen
		if len(msg.runs) > 0 {
			m.upsert(msg.runs)
		}
		return m.openPending()
	case common.TickMsg:
		var cmds []tea.Cmd
		cmds = append(cmds, m.poll())
		if m.detail != nil {
			cmds = append(cmds, m.detail.tick())
		}
		m.refreshRunning()
		return tea.Batch(cmds...)
	case common.EventsMsg:
		var snaps []engine.RunSummary
		for _, e := range msg.Events {
			if e.Run != nil && m.loaded {
				snaps = append(snaps, engine.Summarize(e.Run))
			}
		}
		if len(snaps) > 0 {
			m.upsert(snaps)
		}
		if m.detail != nil {
			return m.detail.events(msg.Events)
		}
		return nil
	case common.RunEndedMsg:
		if msg.Run != nil && m.loaded {
			m.upsert([]engine.RunSummary{engine.Summarize(msg.Run)})
		}
		if m.detail != nil && m.detail.id == msg.ID {
			return m.detail.load()
		}
		return nil
	case common.OpenRunMsg:
		m.pendOpen = msg.ID
		if m.loaded {
			if _, ok := m.find(msg.ID); !ok {
				return m.poll()
			}
		}
		return m.openPending()
	case deletedMsg:
		if msg.err != nil {
			return common.Err(fmt.Errorf("delete: %w", msg.err))
		}
		gone := map[int64]bool{}
		for _, id := range msg.ids {
			gone[id] = true
			delete(m.marked, id)
		}
		kept := make([]engine.RunSummary, 0, len(m.all))
		for _, s := range m.all {
			if !gone[s.ID] {
				kept = append(kept, s)
			}
		}
		m.setAll(kept)
		m.undo = append(m.undo, msg.ids)
		if m.detail != nil && gone[m.detail.id] {
			m.detail = nil
		}
		return common.Info(fmt.Sprintf("%s moved to the trash · u undoes (sluice runs restore, until sluice gc empties the trash)", runList(msg.ids)))
	case restoredMsg:
		if msg.err != nil {
			return common.Err(fmt.Errorf("restore: %w", msg.err))
		}
		return tea.Batch(m.load(), common.Info(runList(msg.ids)+" restored"))
	case reportMsg:
		if m.report != nil && m.report.id == msg.id {
			m.report.doc, m.report.err = msg.doc, msg.err
			m.report.render()
		}
		return nil
	case annotatedMsg:
		if msg.err != nil {
			return common.Err(msg.err)
		}
		if k, ok := m.find(msg.id); ok {
			s := m.all[k]
			s.Tags, s.Note = msg.tags, msg.note
			m.upsert([]engine.RunSummary{s})
		}
		if m.detail != nil && m.detail.id == msg.id && m.detail.run != nil {
			m.detail.run.Tags, m.detail.run.Note = msg.tags, msg.note
		}
		return common.Info(msg.what)
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
	if m.report != nil {
		switch msg.(type) {
		case tea.KeyMsg, tea.MouseMsg:
			return m.report.update(msg)
		}
	}
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return m.key(msg)
	case tea.MouseMsg:
		if m.detail != nil {
			return m.detail.update(msg)
		}
		if msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft {
			// The table starts under the one-line header.
			m.table.Click(msg.Y - 1)
			return nil
		}
		return m.table.Update(msg)
	}
	if m.detail != nil {
		return m.detail.update(msg)
	}
	return nil
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if m.filter.Active() {
		switch msg.String() {
		case "up", "down", "pgup", "pgdown":
			return m.table.Update(msg)
		}
		changed, cmd := m.filter.Update(msg)
		if changed {
			m.applyFilter()
		}
		return cmd
	}
	if m.detail != nil {
		switch {
		case key.Matches(msg, keys.Prev):
			return m.step(+1)
		case key.Matches(msg, keys.Next):
			return m.step(-1)
		case key.Matches(msg, keys.Mark):
			m.toggleMark(m.detail.id)
			return nil
		case key.Matches(msg, keys.Report):
			return m.openReport(m.detail.id)
		case key.Matches(msg, keys.Tag):
			return m.editTags(m.detail.id)
		case key.Matches(msg, keys.Note):
			return m.editNote(m.detail.id)
		}
		return m.detail.update(msg)
	}
	switch {
	case key.Matches(msg, keys.Filter):
		return m.filter.Focus()
	case key.Matches(msg, keys.Mark):
		if s, ok := m.selected(); ok {
			m.toggleMark(s.ID)
			m.table.MoveDown(1)
		}
		return nil
	case key.Matches(msg, keys.Tag):
		if s, ok := m.selected(); ok {
			return m.editTags(s.ID)
		}
		return nil
	case key.Matches(msg, keys.Report):
		if s, ok := m.selected(); ok {
			return m.openReport(s.ID)
		}
		return nil
	case key.Matches(msg, keys.Delete):
		ids := m.markedIDs()
		if len(ids) == 0 {
			if s, ok := m.selected(); ok {
				ids = []int64{s.ID}
			}
		}
		return m.askDelete(ids)
	case key.Matches(msg, keys.Undo):
		return m.undoDelete()
	case key.Matches(msg, keys.Note):
		if s, ok := m.selected(); ok {
			return m.editNote(s.ID)
		}
		return nil
	case key.Matches(msg, keys.Clear):
		m.marked = map[int64]bool{}
		m.refreshRows()
		return nil
	case key.Matches(msg, keys.Compare):
		ids := m.markedIDs()
		if len(ids) < 2 {
			return common.Errorf("mark at least two runs with space, then press c")
		}
		return func() tea.Msg { return common.CompareMsg{IDs: ids} }
	case key.Matches(msg, keys.Open):
		if s, ok := m.selected(); ok {
			return m.open(s.ID)
		}
		return nil
	case key.Matches(msg, keys.Watch):
		if s, ok := m.selected(); ok {
			id := s.ID
			return tea.Batch(func() tea.Msg { return common.WatchRunMsg{ID: id} }, common.Switch(common.ScreenRun))
		}
		return nil
	case key.Matches(msg, keys.Rerun):
		if s, ok := m.selected(); ok {
			return rerun(s.ID, s.Status)
		}
		return nil
	case key.Matches(msg, keys.Model):
		if s, ok := m.selected(); ok {
			id := s.ID
			return tea.Batch(func() tea.Msg { return common.OpenModelMsg{Run: id} }, common.Switch(common.ScreenModel))
		}
		return nil
	}
	return m.table.Update(msg)
}

// markedIDs returns the marked runs, oldest first (as compare lists them).
func (m *Model) markedIDs() []int64 {
	var ids []int64
	for id, ok := range m.marked {
		if ok {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func (m *Model) toggleMark(id int64) {
	if m.marked[id] {
		delete(m.marked, id)
	} else {
		m.marked[id] = true
	}
	if i, ok := m.find(id); ok {
		for row, k := range m.shown {
			if k == i {
				m.table.SetCell(row, 0, m.markCell(id))
				break
			}
		}
	}
}

func (m *Model) markCell(id int64) string {
	if m.marked[id] {
		return "●"
	}
	return " "
}

func (m *Model) selected() (engine.RunSummary, bool) {
	c := m.table.Cursor()
	if c < 0 || c >= len(m.shown) {
		return engine.RunSummary{}, false
	}
	return m.all[m.shown[c]], true
}

func (m *Model) find(id int64) (int, bool) {
	// all is sorted by id, descending.
	i := sort.Search(len(m.all), func(i int) bool { return m.all[i].ID <= id })
	if i < len(m.all) && m.all[i].ID == id {
		return i, true
	}
	return 0, false
}

func (m *Model) open(id int64) tea.Cmd {
	m.pendOpen = 0
	m.detail = newDetail(m.ctx, m.store, id, m.w, m.h)
	if i, ok := m.find(id); ok {
		for row, k := range m.shown {
			if k == i {
				m.table.SetCursor(row)
				break
			}
		}
	}
	return m.detail.load()
}

func (m *Model) openPending() tea.Cmd {
	if m.pendOpen == 0 {
		return nil
	}
	if _, ok := m.find(m.pendOpen); !ok {
		return nil
	}
	return m.open(m.pendOpen)
}

// step moves the detail to the run d rows down the list (+1: the previous,
// older run; -1: the next, newer one).
func (m *Model) step(d int) tea.Cmd {
	i, ok := m.find(m.detail.id)
	if !ok {
		return nil
	}
	row := -1
	for r, k := range m.shown {
		if k == i {
			row = r
			break
		}
	}
	next := row + d
	if row < 0 || next < 0 || next >= len(m.shown) {
		if d > 0 {
			return common.Info("no earlier run")
		}
		return common.Info("no later run")
	}
	section, stage := m.detail.section, m.detail.stageID()
	cmd := m.open(m.all[m.shown[next]].ID)
	m.detail.section, m.detail.wantStage = section, stage
	return cmd
}

// setAll replaces every run.
func (m *Model) setAll(runs []engine.RunSummary) {
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].ID > runs[j].ID })
	m.all = runs
	m.subj = make([]query.Run, len(runs))
	m.rows = make([]table.Row, len(runs))
	for i := range runs {
		m.subj[i] = query.Run{S: &m.all[i], Search: query.RunText(&runs[i])}
		m.rows[i] = m.row(&runs[i])
	}
	m.applyFilter()
}

// upsert adds new runs and replaces changed ones; of several summaries
// of one run, the last wins.
func (m *Model) upsert(runs []engine.RunSummary) {
	latest := make(map[int64]int, len(runs))
	for i, s := range runs {
		latest[s.ID] = i
	}
	var fresh []engine.RunSummary
	for i, s := range runs {
		if latest[s.ID] != i {
			continue // a later summary of the same run follows
		}
		if k, ok := m.find(s.ID); ok {
			m.all[k] = s
			m.subj[k] = query.Run{S: &m.all[k], Search: query.RunText(&s)}
			m.rows[k] = m.row(&s)
			continue
		}
		fresh = append(fresh, s)
	}
	if len(fresh) > 0 {
		// Add them and sort again, newest first; find needs the order.
		all := append(m.all, fresh...)
		search := make([]string, len(all))
		for i := range m.subj {
			search[i] = m.subj[i].Search
		}
		rows := m.rows
		for i := range fresh {
			search[len(m.subj)+i] = query.RunText(&fresh[i])
			rows = append(rows, m.row(&fresh[i]))
		}
		idx := make([]int, len(all))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return all[idx[a]].ID > all[idx[b]].ID })
		m.all = make([]engine.RunSummary, len(all))
		m.subj = make([]query.Run, len(all))
		m.rows = make([]table.Row, len(all))
		for k, i := range idx {
			m.all[k], m.rows[k] = all[i], rows[i]
			m.subj[k] = query.Run{S: &m.all[k], Search: search[i]}
		}
	}
	m.applyFilter()
}

// applyFilter recomputes the rows shown, keeping the selected run.
func (m *Model) applyFilter() {
	keep := int64(-1)
	if s, ok := m.selected(); ok {
		keep = s.ID
	}
	m.shown = m.shown[:0]
	all := m.filter.Empty()
	for i := range m.all {
		if all || m.filter.Match(&m.subj[i]) {
			m.shown = append(m.shown, i)
		}
	}
	m.refreshRows()
	if keep >= 0 {
		for row, i := range m.shown {
			if m.all[i].ID == keep {
				m.table.SetCursor(row)
				return
			}
		}
	}
	if m.table.Cursor() < 0 && len(m.shown) > 0 {
		m.table.SetCursor(0)
	}
}

// refreshRunning redraws the status and duration of unfinished runs.
func (m *Model) refreshRunning() {
	for r, i := range m.shown {
		if s := &m.all[i]; !s.Status.Done() {
			row := m.row(s)
			m.rows[i] = row
			m.table.SetCell(r, 3, row[3])
			m.table.SetCell(r, 5, row[5])
		}
	}
}

func (m *Model) refreshRows() {
	rows := make([]table.Row, len(m.shown))
	for r, i := range m.shown {
		row := m.rows[i]
		row[0] = m.markCell(m.all[i].ID)
		rows[r] = row
	}
	m.table.SetRows(rows)
}

func (m *Model) row(s *engine.RunSummary) table.Row {
	{
		now := m.ctx.Now()
		secs := s.Seconds
		if !s.Status.Done() && !s.Started.IsZero() {
			secs = now.Sub(s.Started).Seconds()
		}
		status := common.StatusIcon(s.Status) + " " + s.Status.String()
		if !s.Status.Done() && s.Stages > 0 {
			status += fmt.Sprintf(" %d/%d", s.Done, s.Stages)
		}
		metric := common.HeadlineFit(s.Metrics, m.metricW)
		if s.Status == engine.StatusFailed && s.Error != "" {
			metric = s.Error
		}
		if s.Sweep != "" {
			metric += " sweep:" + s.Sweep
		}
		for _, t := range s.Tags {
			metric += " #" + t
		}
		if s.Note != "" {
			metric += " ✎"
		}
		return table.Row{m.markCell(s.ID), fmt.Sprintf("%d", s.ID), s.Pipeline, status, common.Started(s.Started), common.Seconds(secs), metric}
	}
}

// View renders the table, or the run stepped into.
func (m *Model) View() string {
	st := m.ctx.Styles
	if m.form != nil {
		return lipgloss.Place(m.w, m.h, lipgloss.Center, lipgloss.Center, m.form.View(st, min(m.w, 90), 12))
	}
	if m.confirm != nil {
		return m.confirm.View(st, m.w, m.h)
	}
	if m.report != nil {
		return m.report.view()
	}
	if m.detail != nil {
		return m.detail.view()
	}
	var head string
	switch {
	case m.filter.Active():
		head = m.filter.View(st, m.w)
	case m.filter.Set():
		head = st.Title.Render("RUNS") + st.Subtle.Render("  /") + m.filter.Value()
		if m.filter.Err() != nil {
			head += st.Error.Render("  (does not parse: / edits it)")
		}
	default:
		head = st.Title.Render("RUNS") + st.Subtle.Render(fmt.Sprintf("  %d run%s", len(m.all), common.Plural(len(m.all))))
		if m.ctx.DB != "" {
			head += st.Subtle.Render(" in " + m.ctx.DB)
		}
		if len(m.dropped) > 0 {
			head += st.Subtle.Render(fmt.Sprintf("  +%d column%s (%s) when wider", len(m.dropped), common.Plural(len(m.dropped)), strings.ToLower(strings.Join(m.dropped, ", "))))
		}
		if n := len(m.markedIDs()); n > 0 {
			head += st.Marked.Render(fmt.Sprintf("  ● %d marked", n)) + st.Subtle.Render(" (c compares)")
		}
	}
	if m.filter.Set() && !m.filter.Active() {
		head += st.Subtle.Render(fmt.Sprintf("  %d of %d", len(m.shown), len(m.all)))
	}
	var body string
	switch {
	case m.loadErr != nil:
		body = st.Error.Render("Cannot read the runs: " + m.loadErr.Error())
	case !m.loaded:
		body = st.Subtle.Render("Reading the runs…")
	case len(m.all) == 0:
		body = st.Subtle.Render("No runs yet. Press 1 for the pipelines and r to run one, or run `sluice run FILE` in another terminal: it shows up here.")
	case len(m.shown) == 0:
		body = st.Subtle.Render("No run matches the filter. esc clears it.")
	default:
		body = m.table.View()
	}
	return common.Block(head+"\n"+body, m.w, m.h)
}

// annotatedMsg reports tags or a note written.
type annotatedMsg struct {
	id   int64
	tags []string
	note string
	what string
	err  error
}

func (m *Model) annotator() (Annotator, tea.Cmd) {
	if m.ctx.ReadOnly {
		return nil, common.ReadOnlyMsg("changing tags and notes")
	}
	a, ok := m.store.(Annotator)
	if !ok {
		return nil, common.Errorf("this store keeps no tags or notes")
	}
	return a, nil
}

func (m *Model) summary(id int64) engine.RunSummary {
	if k, ok := m.find(id); ok {
		return m.all[k]
	}
	return engine.RunSummary{ID: id}
}

// editTags asks for a run's tags, as words, and writes the difference.
func (m *Model) editTags(id int64) tea.Cmd {
	a, cmd := m.annotator()
	if a == nil {
		return cmd
	}
	s := m.summary(id)
	old := append([]string{}, s.Tags...)
	text := common.NewText(strings.Join(old, " "))
	check := func(v string) error {
		for _, t := range strings.Fields(v) {
			if err := checkTag(t); err != nil {
				return err
			}
		}
		return nil
	}
	input := huh.NewInput().Title(fmt.Sprintf("Tags of run %d (%s)", id, s.Pipeline)).
		Description("words separated by spaces; find them again with / tag:NAME").
		Accessor(text).Validate(check)
	ctx, note := m.ctx.Ctx, s.Note
	m.form = common.NewForm(m.ctx.Styles, "TAGS", min(m.w, 90), 8, func() tea.Cmd {
		want := strings.Fields(text.Get())
		return func() tea.Msg {
			var add, drop []string
			for _, t := range want {
				if !slices.Contains(old, t) {
					add = append(add, t)
				}
			}
			for _, t := range old {
				if !slices.Contains(want, t) {
					drop = append(drop, t)
				}
			}
			tags := old
			var err error
			if len(add) > 0 {
				tags, err = a.Tag(ctx, id, add...)
			}
			if err == nil && len(drop) > 0 {
				tags, err = a.Untag(ctx, id, drop...)
			}
			what := fmt.Sprintf("run %d: no tags", id)
			if len(tags) > 0 {
				what = fmt.Sprintf("run %d: tags %s", id, strings.Join(tags, " "))
			}
			return annotatedMsg{id: id, tags: tags, note: note, what: what, err: err}
		}
	}, huh.NewGroup(input))
	return m.form.Init()
}

// editNote asks for a run's note.
func (m *Model) editNote(id int64) tea.Cmd {
	a, cmd := m.annotator()
	if a == nil {
		return cmd
	}
	s := m.summary(id)
	text := common.NewText(s.Note)
	area := huh.NewText().Title(fmt.Sprintf("Note on run %d (%s)", id, s.Pipeline)).
		Description("alt+enter or ctrl+j for a new line; enter saves; empty removes the note").
		Accessor(text).Lines(4)
	ctx, tags := m.ctx.Ctx, s.Tags
	m.form = common.NewForm(m.ctx.Styles, "NOTE", min(m.w, 90), 12, func() tea.Cmd {
		note := strings.TrimSpace(text.Get())
		return func() tea.Msg {
			err := a.SetNote(ctx, id, note)
			what := fmt.Sprintf("run %d: note saved", id)
			if note == "" {
				what = fmt.Sprintf("run %d: note removed", id)
			}
			return annotatedMsg{id: id, tags: tags, note: note, what: what, err: err}
		}
	}, huh.NewGroup(area))
	return m.form.Init()
}

// checkTag is the store's rule for a tag, checked as it is typed.
func checkTag(t string) error {
	for _, r := range t {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-", r) {
			return fmt.Errorf("tag %q: letters, digits, '.', '_' and '-' only", t)
		}
	}
	if len(t) > 64 || strings.HasPrefix(t, "-") {
		return fmt.Errorf("tag %q: at most 64 characters, not starting with '-'", t)
	}
	return nil
}

// rerun asks the root to run a finished run again (resuming a failed or
// interrupted one: what finished is cached) and shows it live.
func rerun(id int64, status engine.Status) tea.Cmd {
	if !status.Done() {
		return common.Errorf(fmt.Sprintf("run %d is still running", id))
	}
	return tea.Batch(func() tea.Msg { return common.RerunMsg{ID: id} }, common.Switch(common.ScreenRun))
}

// Deleter moves runs to the trash and back (*store.DB does).
type Deleter interface {
	Delete(ctx context.Context, ids ...int64) error
	Restore(ctx context.Context, ids ...int64) error
}

type deletedMsg struct {
	ids []int64
	err error
}

type restoredMsg struct {
	ids []int64
	err error
}

func runList(ids []int64) string {
	if len(ids) == 1 {
		return fmt.Sprintf("run %d", ids[0])
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return "runs " + strings.Join(parts, ", ")
}

func (m *Model) deleter() (Deleter, tea.Cmd) {
	if m.ctx.ReadOnly {
		return nil, common.ReadOnlyMsg("deleting runs")
	}
	d, ok := m.store.(Deleter)
	if !ok {
		return nil, common.Errorf("this store cannot delete runs")
	}
	return d, nil
}

// askDelete asks before moving runs to the trash.
func (m *Model) askDelete(ids []int64) tea.Cmd {
	d, cmd := m.deleter()
	if d == nil || len(ids) == 0 {
		return cmd
	}
	for _, id := range ids {
		if m.live != nil && m.live.Live(id) {
			return common.Errorf(fmt.Sprintf("run %d is running here: cancel it first (2, then c)", id))
		}
	}
	ctx := m.ctx.Ctx
	m.confirm = common.NewConfirm(m.ctx.Styles, fmt.Sprintf("Move %s to the trash?", runList(ids)),
		"u undoes it; sluice runs restore brings runs back until sluice gc empties the trash.", func() tea.Msg {
			return deletedMsg{ids: ids, err: d.Delete(ctx, ids...)}
		})
	return m.confirm.Init()
}

// undoDelete restores the runs deleted last.
func (m *Model) undoDelete() tea.Cmd {
	d, cmd := m.deleter()
	if d == nil {
		return cmd
	}
	if len(m.undo) == 0 {
		return common.Info("nothing to undo")
	}
	ids := m.undo[len(m.undo)-1]
	m.undo = m.undo[:len(m.undo)-1]
	ctx := m.ctx.Ctx
	return func() tea.Msg { return restoredMsg{ids: ids, err: d.Restore(ctx, ids...)} }
}
