package runs

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	ltable "github.com/charmbracelet/lipgloss/table"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// previewView renders a table output's per-column summary and its first
// rows in w cells. A table wider than w drops whole columns from its
// right and names them below: a value is never cut.
func previewView(st *common.Styles, p *engine.Preview, w int) string {
	var b strings.Builder
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
	b.WriteString(fitTable(st, []string{"column", "type", "missing", "mean", "std", "min", "max", "unique", "top"}, rows, w))
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "%s\n", st.Header.Render(fmt.Sprintf("FIRST %d ROWS", len(p.Head))))
	headers := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		headers[i] = c.Name
	}
	b.WriteString(fitTable(st, headers, p.Head, w))
	return b.String()
}

// fitTable renders a table of the leading columns that fit in w cells
// (at least one) and, when some do not, a line naming them.
func fitTable(st *common.Styles, headers []string, rows [][]string, w int) string {
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = common.Width(h)
	}
	for _, r := range rows {
		for i := 0; i < len(r) && i < len(widths); i++ {
			widths[i] = max(widths[i], common.Width(r[i]))
		}
	}
	// The first column has one cell of padding, the others one each
	// side and a border before them.
	k, used := 0, 0
	for k < len(widths) {
		cw := widths[k] + 1
		if k > 0 {
			cw += 2
		}
		if k > 0 && used+cw > w {
			break
		}
		used += cw
		k++
	}
	cut := make([][]string, len(rows))
	for i, r := range rows {
		cut[i] = make([]string, k)
		copy(cut[i], r)
	}
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
	t := ltable.New().Headers(headers[:k]...).Rows(cut...).
		Border(lipgloss.NormalBorder()).BorderTop(false).BorderBottom(false).BorderLeft(false).BorderRight(false).
		BorderStyle(st.Subtle).StyleFunc(style)
	out := t.Render()
	if n := len(headers) - k; n > 0 {
		out += "\n" + st.Subtle.Render(fmt.Sprintf("+%d column%s not shown: %s", n, common.Plural(n), strings.Join(headers[k:], ", ")))
	}
	return out
}
