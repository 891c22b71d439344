package runs

import (
	"fmt"
	"sort"

	"github.com/charmbracelet/bubbles/table"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/query"
)

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
			m.table.SetCell(r, 3, row[4]) // row has the table's marker cell first
			m.table.SetCell(r, 5, row[6])
		}
	}
}

func (m *Model) refreshRows() {
	rows := make([]table.Row, len(m.shown))
	for r, i := range m.shown {
		row := m.rows[i]
		row[1] = m.markCell(m.all[i].ID)
		rows[r] = row
	}
	m.table.SetMarkedRows(rows)
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
		// The table's marker cell first, then the mark of a run marked
		// for comparison.
		return table.Row{" ", m.markCell(s.ID), fmt.Sprintf("%d", s.ID), s.Pipeline, status, common.Started(s.Started), common.Seconds(secs), metric}
	}
}
