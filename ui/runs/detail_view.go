package runs

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

func (d *detail) leftWidth() int { return min(max(d.w/3, 28), 40) }

func (d *detail) rightWidth() int { return d.w - d.leftWidth() - 1 }

// render fills the viewport with the selected section.
func (d *detail) render() {
	if d.run == nil {
		d.vp.SetContent("")
		return
	}
	st := d.ctx.Styles
	if len(d.shown) == 0 {
		d.vp.SetContent(st.Subtle.Render("No stage matches the filter."))
		return
	}
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
		for _, l := range common.Fields("", params, func(k string, v any) string {
			if overridden[s.ID+"."+k] {
				return common.Value(v) + st.Warn.Render("  (--set)")
			}
			return common.Value(v)
		}) {
			line("%s", l)
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
			for _, l := range common.Fields("  ", rs.Metrics, func(_ string, v float64) string { return common.Metric(v) }) {
				line("%s", l)
			}
		}
		if !any {
			line("%s", st.Subtle.Render("No stage of this run reported metrics."))
		}
	case secData:
		p, ok := d.previews[s.ID]
		switch {
		case ok:
			b.WriteString(previewView(st, p, w))
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
	// The header gives way by whole parts, so no value is cut.
	head1 := common.Parts(d.w, st.Title.Render(fmt.Sprintf("RUN %d", r.ID))+"  "+st.Bold.Render(r.Pipeline), "  "+st.StatusText(r.Status),
		st.Subtle.Render("  started "+common.Started(r.Started)), st.Subtle.Render(" · took "+common.Seconds(r.Seconds)),
		st.Subtle.Render(fmt.Sprintf(" · seed %d", r.Seed)), st.Subtle.Render(" · sluice "+r.Version))
	// The overrides come before the file's hash: they say how the run
	// differs, so they give way last.
	parts := []string{st.Subtle.Render(r.File)}
	for _, o := range r.Overrides {
		parts = append(parts, " "+st.Warn.Render("--set "+o))
	}
	parts = append(parts, st.Subtle.Render(fmt.Sprintf(" (sha256 %s)", common.Short(r.SpecHash))))
	if r.TriggerKind() != engine.TriggerManual {
		parts = append(parts, st.Subtle.Render(fmt.Sprintf(" · %s, logical time %s", r.TriggerKind(), r.Logical().UTC().Format(time.RFC3339))))
	}
	head2 := common.Parts(d.w, parts...)
	// The error is prose: it is cut where it must be.
	if room := d.w - common.Width(head2) - 2; r.Error != "" && room >= 12 && !strings.HasSuffix(head2, "…") {
		head2 += "  " + st.Error.Render(common.Fit(r.Error, room))
	}
	// Stages on the left.
	lw := d.leftWidth()
	var left []string
	switch {
	case d.filter.Active():
		left = append(left, d.filter.View(st, lw))
	case d.filter.Set():
		left = append(left, common.Fit(st.Header.Render("STAGES")+st.Subtle.Render(fmt.Sprintf(" %d of %d /", len(d.shown), len(r.Stages)))+d.filter.Value(), lw))
	default:
		left = append(left, st.Header.Render(common.Fit("STAGES", lw)))
	}
	idW := 5
	for _, s := range r.Stages {
		idW = max(idW, len(s.ID))
	}
	idW = min(idW, lw-16)
	if len(d.shown) == 0 {
		left = append(left, st.Subtle.Render(common.Fit("None matches; esc clears.", lw)))
	}
	for _, i := range d.shown {
		s := r.Stages[i]
		cursor := " "
		if i == d.stage {
			cursor = common.Cursor
		}
		row := fmt.Sprintf("%s %s %s %s", cursor, st.Status(s.Status).Render(common.StatusIcon(s.Status)), common.Fit(s.ID, idW), common.FitRight(common.Seconds(s.Seconds), 7))
		if s.Status == engine.StatusPending {
			row = fmt.Sprintf("%s %s %s %s", cursor, st.Status(s.Status).Render(common.StatusIcon(s.Status)), common.Fit(s.ID, idW), common.FitRight("", 7))
		}
		if dims := fmt.Sprintf(" %d×%d", s.Rows, s.Cols); s.Rows > 0 && common.Width(row)+common.Width(dims) <= lw {
			row += st.Subtle.Render(dims)
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
