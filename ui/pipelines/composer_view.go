package pipelines

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// draftView shows the stages on the left, the selected stage's
// parameters on the right and the live validation below.
func (c *composer) draftView() string {
	st := c.ctx.Styles
	file := c.path
	if file == "" {
		file = "new pipeline (not saved)"
	}
	head := st.Title.Render("COMPOSER") + "  " + st.Bold.Render(file)
	if c.dirty {
		head += st.Warn.Render("  ● modified")
	}
	head += st.Subtle.Render(fmt.Sprintf("   name %s · seed %d", c.name, c.seed))
	if c.desc != "" {
		head += st.Subtle.Render(" · " + c.desc)
	}

	// Validation lines.
	var vlines []string
	perStage := map[int][]*engine.SpecError{}
	for _, p := range c.problems {
		if k := c.stageOf(p.Pos.Line); k >= 0 {
			perStage[k] = append(perStage[k], p)
		}
	}
	switch {
	case !c.validated:
		vlines = append(vlines, st.Subtle.Render("validating…"))
	case c.otherErr != nil:
		vlines = append(vlines, st.Error.Render("✗ "+c.otherErr.Error()))
	case len(c.problems) == 0:
		msg := fmt.Sprintf("✓ valid: %d stage%s", len(c.stages), common.Plural(len(c.stages)))
		if c.dirty || c.path == "" {
			msg += " · s saves it"
		} else {
			msg += " · r runs it"
		}
		vlines = append(vlines, st.OK.Render(msg))
	default:
		vlines = append(vlines, st.Error.Render(fmt.Sprintf("✗ %d problem%s as it would be saved:", len(c.problems), common.Plural(len(c.problems)))))
		for _, p := range c.problems {
			loc := ""
			if p.Pos.Line > 0 {
				loc = fmt.Sprintf("%d:%d ", p.Pos.Line, p.Pos.Col)
			}
			vlines = append(vlines, "  "+st.Subtle.Render(loc)+p.Msg)
		}
	}
	vh := min(len(vlines), max(c.h/4, 3))
	if len(vlines) > vh {
		more := len(vlines) - vh + 1
		vlines = append(vlines[:vh-1], st.Subtle.Render(fmt.Sprintf("  … %d more", more)))
	}
	midH := c.h - 2 - 1 - vh
	lw := min(max(c.w*9/20, 36), 56)
	rw := c.w - lw - 1

	// Stages.
	idW, usesW := 5, 4
	for _, s := range c.stages {
		idW, usesW = max(idW, len(s.ID)), max(usesW, len(s.Uses))
	}
	idW, usesW = min(idW, 14), min(usesW, 20)
	needsOf := func(i int) string {
		s := c.stages[i]
		switch {
		case s.NeedsSet && len(s.Needs) == 0:
			return "(none)"
		case s.NeedsSet:
			return "← " + strings.Join(s.Needs, ", ")
		case i > 0 && c.takesInput(s.Uses):
			return "← " + c.stages[i-1].ID
		}
		return ""
	}
	// On a narrow pane the stage types' names give way to the needs (the
	// selected stage's type is spelled out on the right).
	needsW := 0
	for i := range c.stages {
		needsW = max(needsW, common.Width(needsOf(i)))
	}
	if room := lw - 9 - idW - usesW; room < needsW {
		usesW = max(usesW-(needsW-room), min(usesW, 8))
	}
	var left []string
	left = append(left, st.Header.Render(common.Fit(fmt.Sprintf("    %-*s %-*s NEEDS", idW+2, "STAGE", usesW, "USES"), lw)))
	if len(c.stages) == 0 {
		left = append(left, st.Subtle.Render("  no stages yet: a adds one"))
	}
	start := 0
	if rows := midH - 1; c.cursor >= rows {
		start = c.cursor - rows + 1
	}
	for i := start; i < len(c.stages) && len(left) < midH; i++ {
		s := c.stages[i]
		cursor := " "
		if i == c.cursor {
			cursor = common.Cursor
		}
		mark := st.Subtle.Render("·")
		if c.validated {
			if len(perStage[i]) > 0 {
				mark = st.Error.Render("✗")
			} else if c.otherErr == nil {
				mark = st.OK.Render("✓")
			}
		}
		needs := needsOf(i)
		if !s.NeedsSet { // implicit: the stage before
			needs = st.Subtle.Render(needs)
		}
		row := fmt.Sprintf("%s %2d %s %s %s %s", cursor, i+1, mark, common.Fit(s.ID, idW), common.Fit(s.Uses, usesW), needs)
		if i == c.cursor {
			row = st.Selected.Render(common.Fit(row, lw))
		}
		left = append(left, common.Fit(row, lw))
	}

	// The selected stage.
	right := c.stageDetail(rw, perStage[c.cursor])
	body := lipgloss.JoinHorizontal(lipgloss.Top,
		common.Block(strings.Join(left, "\n"), lw, midH),
		common.Block(strings.Repeat("│\n", midH), 1, midH),
		common.Block(right, rw, midH))
	rule := st.Subtle.Render(strings.Repeat("─", c.w))
	return common.Block(head+"\n\n"+body+"\n"+rule+"\n"+strings.Join(vlines, "\n"), c.w, c.h)
}

// stageDetail describes the selected stage: its type, parameters with
// their values and defaults, and its problems.
func (c *composer) stageDetail(w int, problems []*engine.SpecError) string {
	st := c.ctx.Styles
	if len(c.stages) == 0 {
		return st.Subtle.Render(" a opens the catalog: pick a stage type, fill in its\n parameters, then add the next. p names the pipeline.")
	}
	d := c.stages[c.cursor]
	t, ok := c.ctx.Registry.Lookup(d.Uses)
	var b []string
	add := func(s string) { b = append(b, " "+s) }
	if !ok {
		add(st.Bold.Render(d.ID) + "  " + st.Error.Render("unknown stage type "+d.Uses))
		return strings.Join(b, "\n")
	}
	add(st.Bold.Render(d.ID) + st.Subtle.Render(fmt.Sprintf("  %s · %s", t.Name, t.Group)))
	add(st.Subtle.Render(t.Doc))
	in := "nothing"
	if t.MaxIn != 0 {
		in = t.In.String()
	}
	extra := ""
	if d.Retries > 0 {
		extra += fmt.Sprintf(" · retries %d", d.Retries)
	}
	if d.Timeout > 0 {
		extra += fmt.Sprintf(" · timeout %s", d.Timeout)
	}
	add(st.Subtle.Render(fmt.Sprintf("takes %s → gives %s%s", in, t.Out, extra)))
	add("")
	if len(t.Params) == 0 {
		add(st.Subtle.Render("no parameters"))
	} else {
		nameW := len("PARAMETER")
		for _, p := range t.Params {
			nameW = max(nameW, len(p.Name))
		}
		add(st.Header.Render(fmt.Sprintf("%-*s %-8s %s", nameW, "PARAMETER", "TYPE", "VALUE")))
		for i := range t.Params {
			p := &t.Params[i]
			val := st.Subtle.Render(defaultText(p))
			if v, set := d.Get(p.Name); set {
				val = valueText(p, v)
			} else if p.Required {
				val = st.Error.Render("required")
			}
			add(fmt.Sprintf("%-*s %-8s %s", nameW, p.Name, p.Type, val))
		}
	}
	if len(problems) > 0 {
		add("")
		for _, p := range problems {
			add(st.Error.Render("✗ " + p.Msg))
		}
	}
	add("")
	add(st.Subtle.Render("e edits the parameters · n the needs · K/J move"))
	return strings.Join(b, "\n")
}

// takesInput reports whether a stage type reads other stages (an unknown
// type is assumed to).
func (c *composer) takesInput(uses string) bool {
	t, ok := c.ctx.Registry.Lookup(uses)
	return !ok || t.MaxIn != 0
}

func (c *composer) view() string {
	st := c.ctx.Styles
	if c.confirm != nil {
		return c.confirm.View(st, c.w, c.h)
	}
	if c.catalog != nil {
		head := st.Title.Render("ADD A STAGE") + st.Subtle.Render(" after "+c.currentID()+" · type text, group:NAME, kind:KIND, uses:TYPE · enter adds · esc cancels")
		if c.catErr != nil {
			head = common.Fit(head, c.w) + "\n" + st.Error.Render(common.Fit("query "+c.catErr.Error()+" (the last good one holds)", c.w))
		}
		return common.Block(head+"\n"+c.catalog.View(), c.w, c.h)
	}
	if c.form != nil {
		return c.form.View(st, c.w, c.h)
	}
	return c.draftView()
}
