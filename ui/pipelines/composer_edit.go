package pipelines

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

type removeMsg struct{ id string }

// remove drops a stage and every needs entry naming it.
func (c *composer) remove(id string) tea.Cmd {
	for i, s := range c.stages {
		if s.ID == id {
			c.stages = append(c.stages[:i], c.stages[i+1:]...)
			break
		}
	}
	for i := range c.stages {
		s := &c.stages[i]
		var keep []string
		for _, n := range s.Needs {
			if n != id {
				keep = append(keep, n)
			}
		}
		if s.NeedsSet && len(keep) == 0 && len(s.Needs) > 0 {
			s.NeedsSet = false
		}
		if s.NeedsSet {
			s.Needs = append([]string{}, keep...)
		}
	}
	c.cursor = min(c.cursor, max(len(c.stages)-1, 0))
	return c.changed()
}

// valueText renders a parameter's value for a text field.
func valueText(p *engine.Param, v any) string {
	if s, ok := v.(string); ok && (p.Type == engine.TypeString || p.Type == engine.TypePath || p.Type == engine.TypeExpr ||
		p.Type == engine.TypeEnum || p.Type == engine.TypeDuration) {
		return s
	}
	if l, ok := v.([]any); ok && p.Type == engine.TypeStrings {
		parts := make([]string, len(l))
		simple := true
		for i, e := range l {
			s, isStr := e.(string)
			if !isStr || strings.ContainsAny(s, ",[]{}\"'") || strings.TrimSpace(s) != s {
				simple = false
				break
			}
			parts[i] = s
		}
		if simple {
			return strings.Join(parts, ", ")
		}
	}
	return engine.FormatValue(v)
}

// parseText reads a text field back into the value a pipeline file holds
// ("" means unset: the default applies) and checks it against the
// declaration.
func parseText(p *engine.Param, text string) (any, bool, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		if p.Required {
			return nil, false, fmt.Errorf("%s is required", p.Name)
		}
		return nil, false, nil
	}
	var v any
	switch p.Type {
	case engine.TypeString, engine.TypePath, engine.TypeExpr, engine.TypeEnum:
		v = text
	case engine.TypeStrings:
		if strings.HasPrefix(text, "[") {
			pv, err := engine.ParseValue(text)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %v", p.Name, err)
			}
			v = pv
		} else {
			var l []any
			for _, s := range strings.Split(text, ",") {
				if s = strings.TrimSpace(s); s != "" {
					l = append(l, s)
				}
			}
			v = l
		}
	default:
		pv, err := engine.ParseValue(text)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %v", p.Name, err)
		}
		v = pv
	}
	if _, err := p.Coerce(v); err != nil {
		return nil, false, err
	}
	return v, true, nil
}

func defaultText(p *engine.Param) string {
	switch {
	case p.Default != nil:
		return "default " + valueText(p, p.Default)
	case p.Required:
		return "required"
	}
	return "optional"
}

// editStage opens a form with one field per declared parameter.
func (c *composer) editStage() tea.Cmd {
	if len(c.stages) == 0 {
		return common.Errorf("no stage yet: a adds one")
	}
	d := &c.stages[c.cursor]
	t, ok := c.ctx.Registry.Lookup(d.Uses)
	if !ok {
		return common.Errorf(fmt.Sprintf("stage type %q is not in the catalog: remove the stage (x) and add one", d.Uses))
	}
	c.vals = map[string]*common.Text{}
	text := func(name string) *common.Text {
		s := common.NewText("")
		c.vals[name] = s
		return s
	}
	idVal := text("$id")
	idVal.Set(d.ID)
	oldID := d.ID
	fields := []huh.Field{
		huh.NewInput().Title("id").Description("Names the stage: lower-case letters, digits, _ and -.").Accessor(idVal).Validate(func(s string) error {
			s = strings.TrimSpace(s)
			if err := engine.CheckStageID(s); err != nil {
				return err
			}
			for i, o := range c.stages {
				if i != c.cursor && o.ID == s {
					return fmt.Errorf("stage %s exists already", s)
				}
			}
			return nil
		}),
	}
	for i := range t.Params {
		p := &t.Params[i]
		val := text(p.Name)
		if v, set := d.Get(p.Name); set {
			val.Set(valueText(p, v))
		}
		title := fmt.Sprintf("%s  (%s", p.Name, p.Type)
		if r := p.RangeText(); r != "" {
			title += ", " + r
		}
		title += ")"
		switch p.Type {
		case engine.TypeEnum, engine.TypeBool:
			values := p.Enum
			if p.Type == engine.TypeBool {
				values = []string{"true", "false"}
			}
			var opts []huh.Option[string]
			if !p.Required {
				opts = append(opts, huh.NewOption("("+defaultText(p)+")", ""))
			}
			for _, e := range values {
				opts = append(opts, huh.NewOption(e, e))
			}
			if p.Required && val.Get() == "" {
				val.Set(values[0])
			}
			fields = append(fields, huh.NewSelect[string]().Title(title).Description(p.Doc).Options(opts...).Accessor(val).Inline(true))
		default:
			p := p
			fields = append(fields, huh.NewInput().Title(title).Placeholder(defaultText(p)).Accessor(val).
				Validate(func(s string) error { _, _, err := parseText(p, s); return err }).
				DescriptionFunc(func() string { return liveCheck(p, val.Get()) }, val))
		}
	}
	retries, timeout := text("$retries"), text("$timeout")
	if d.Retries > 0 {
		retries.Set(strconv.Itoa(d.Retries))
	}
	if d.Timeout > 0 {
		timeout.Set(d.Timeout.String())
	}
	fields = append(fields,
		huh.NewInput().Title(fmt.Sprintf("retries  (int, in [0, %d])", engine.MaxRetries)).Placeholder("default 0").Accessor(retries).Validate(func(s string) error {
			_, err := engine.ParseRetries(s)
			return err
		}),
		huh.NewInput().Title("timeout  (duration)").Placeholder("no timeout, or 30s, 5m").Accessor(timeout).Validate(func(s string) error {
			_, err := engine.ParseTimeout(s)
			return err
		}),
	)
	idx := c.cursor
	c.form = common.NewForm(c.ctx.Styles, fmt.Sprintf("STAGE %s · %s: %s", d.ID, t.Name, t.Doc), c.w-2, c.h-4, func() tea.Cmd {
		return c.applyStage(idx, oldID, t)
	}, huh.NewGroup(fields...))
	return c.form.Init()
}

// liveCheck is a parameter field's description: its doc and, as you
// type, whether the value holds.
func liveCheck(p *engine.Param, text string) string {
	doc := p.Doc
	if strings.TrimSpace(text) == "" {
		if p.Required {
			return doc + "\n✗ required"
		}
		return doc + "\n· " + defaultText(p)
	}
	if _, _, err := parseText(p, text); err != nil {
		return doc + "\n✗ " + err.Error()
	}
	return doc + "\n✓ ok"
}

func (c *composer) applyStage(idx int, oldID string, t *engine.StageType) tea.Cmd {
	if idx >= len(c.stages) {
		return nil
	}
	d := &c.stages[idx]
	newID := strings.TrimSpace(c.vals["$id"].Get())
	if newID != oldID {
		d.ID = newID
		for i := range c.stages {
			for j, n := range c.stages[i].Needs {
				if n == oldID {
					c.stages[i].Needs[j] = newID
				}
			}
		}
	}
	for i := range t.Params {
		p := &t.Params[i]
		v, set, err := parseText(p, c.vals[p.Name].Get())
		switch {
		case err != nil:
			// Left as typed would not parse; keep the old value.
		case set:
			d.Set(p.Name, v)
		default:
			d.Unset(p.Name)
		}
	}
	d.Retries, _ = engine.ParseRetries(c.vals["$retries"].Get())
	d.Timeout, _ = engine.ParseTimeout(c.vals["$timeout"].Get())
	return c.changed()
}

// editNeeds picks the stages the selected stage reads.
func (c *composer) editNeeds() tea.Cmd {
	if len(c.stages) == 0 {
		return nil
	}
	d := &c.stages[c.cursor]
	var opts []huh.Option[string]
	for i, s := range c.stages {
		if i != c.cursor {
			opts = append(opts, huh.NewOption(fmt.Sprintf("%s (%s)", s.ID, s.Uses), s.ID))
		}
	}
	if len(opts) == 0 {
		return common.Errorf("no other stage to read from")
	}
	c.needs = append([]string(nil), d.Needs...)
	idx := c.cursor
	prev := "none: it is the first stage"
	if idx > 0 {
		prev = c.stages[idx-1].ID
	}
	field := huh.NewMultiSelect[string]().Title("needs of " + d.ID).
		Description("Space selects the stages it reads (fan-in: several). None selected: the stage before it (" + prev + ").").
		Options(opts...).Value(&c.needs)
	c.form = common.NewForm(c.ctx.Styles, "NEEDS", min(c.w-2, 80), min(c.h-4, len(opts)+8), func() tea.Cmd {
		if idx >= len(c.stages) {
			return nil
		}
		s := &c.stages[idx]
		// Keep file order, the order the picker listed them in.
		var needs []string
		for _, o := range c.stages {
			for _, n := range c.needs {
				if n == o.ID {
					needs = append(needs, n)
				}
			}
		}
		s.Needs, s.NeedsSet = needs, len(needs) > 0
		return c.changed()
	}, huh.NewGroup(field))
	return c.form.Init()
}

// editSettings edits the pipeline's name, description and seed.
func (c *composer) editSettings() tea.Cmd {
	name, desc := c.name, c.desc
	c.seedText = strconv.FormatUint(c.seed, 10)
	c.form = common.NewForm(c.ctx.Styles, "PIPELINE", min(c.w-2, 90), min(c.h-4, 14), func() tea.Cmd {
		c.name, c.desc = strings.TrimSpace(name), strings.TrimSpace(desc)
		c.seed, _ = strconv.ParseUint(strings.TrimSpace(c.seedText), 10, 64)
		return c.changed()
	}, huh.NewGroup(
		huh.NewInput().Title("name").Value(&name).Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("a pipeline needs a name")
			}
			return nil
		}),
		huh.NewInput().Title("description").Value(&desc),
		huh.NewInput().Title("seed").Description("Every random choice derives from it.").Value(&c.seedText).Validate(func(s string) error {
			if _, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64); err != nil {
				return errors.New("seed wants a non-negative integer")
			}
			return nil
		}),
	))
	return c.form.Init()
}
