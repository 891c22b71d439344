package pipelines

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/list"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

var ckeys = struct {
	Add, Remove, Up, Down, Edit, Needs, Settings, Save, SaveAs, Run, Close key.Binding
}{
	Add:      common.Binding("a", "add stage", "a"),
	Remove:   common.Binding("x", "remove", "x", "delete"),
	Up:       common.Binding("K", "move up", "K", "shift+up"),
	Down:     common.Binding("J", "move down", "J", "shift+down"),
	Edit:     common.Binding("e/enter", "parameters", "e", "enter"),
	Needs:    common.Binding("n", "needs", "n"),
	Settings: common.Binding("p", "name, seed", "p"),
	Save:     common.Binding("s", "save", "s", "ctrl+s"),
	SaveAs:   common.Binding("S", "save as", "S"),
	Run:      common.Binding("r", "run", "r"),
	Close:    common.Binding("esc", "back", "esc"),
}

// composer edits one pipeline: a draft that is validated as it changes
// and saved to YAML.
type composer struct {
	ctx  *common.Context
	w, h int

	path   string // the file it saves to; "" until saved
	name   string
	desc   string
	seed   uint64
	stages []engine.StageDraft
	cursor int
	dirty  bool

	// Validation of the draft as it would be saved.
	vseq      common.Seq
	validated bool
	problems  engine.ErrorList
	otherErr  error
	lines     []int // first line of each stage in the formatted file

	catalog *list.Model
	form    *common.Form
	confirm *common.Confirm
	// form values
	vals     map[string]*common.Text
	needs    []string
	savePath string
	seedText string
	// orig is the file as read (or last saved): saving edits its text so
	// comments and layout stay (see keepLayout).
	orig []byte
}

func newComposer(ctx *common.Context, path string, spec *engine.Spec, w, h int) *composer {
	c := &composer{ctx: ctx, path: path, name: "pipeline"}
	if spec != nil {
		c.name, c.desc, c.seed = spec.Name, spec.Description, spec.Seed
		c.stages = engine.DraftSpec(spec)
		c.orig = spec.Source
	}
	c.resize(w, h)
	return c
}

func (c *composer) resize(w, h int) {
	c.w, c.h = w, h
	if c.catalog != nil {
		c.catalog.SetSize(w, h-1)
	}
}

func (c *composer) keys() common.KeyMap {
	if c.catalog != nil {
		return common.KeyMap{Short: []key.Binding{common.Nav.Up, common.Nav.Down, common.Binding("type", "filter", "/"), common.Binding("enter", "add", "enter"), common.Binding("esc", "cancel", "esc")}}
	}
	if c.form != nil || c.confirm != nil {
		return common.KeyMap{Short: []key.Binding{common.Binding("tab/enter", "next field", "tab"), common.Binding("shift+tab", "previous", "shift+tab"), common.Binding("esc", "cancel", "esc")}}
	}
	return common.KeyMap{
		Short: []key.Binding{ckeys.Add, ckeys.Remove, ckeys.Up, ckeys.Down, ckeys.Edit, ckeys.Needs, c.ctx.Mutating(ckeys.Save), c.ctx.Mutating(ckeys.Run), ckeys.Close},
		Full: [][]key.Binding{
			{common.Nav.Up, common.Nav.Down, ckeys.Up, ckeys.Down},
			{ckeys.Add, ckeys.Remove, ckeys.Edit, ckeys.Needs, ckeys.Settings},
			{c.ctx.Mutating(ckeys.Save), c.ctx.Mutating(ckeys.SaveAs), c.ctx.Mutating(ckeys.Run), ckeys.Close},
		},
	}
}

func (c *composer) capturing() bool { return c.catalog != nil || c.form != nil || c.confirm != nil }

// back closes what is open over the draft; with nothing open it asks
// before dropping unsaved changes. It reports false when the composer
// may close.
func (c *composer) back() bool {
	switch {
	case c.catalog != nil:
		c.catalog = nil
		return true
	case c.form != nil:
		c.form = nil
		return true
	case c.confirm != nil:
		c.confirm = nil
		return true
	case c.dirty:
		c.confirm = common.NewConfirm(c.ctx.Styles, "Drop the unsaved changes?", "The draft of "+c.fileName()+" has changes that are not saved.", func() tea.Msg { return closeMsg{} })
		return true
	}
	return false
}

type closeMsg struct{}

type validatedMsg struct {
	seq      int
	problems engine.ErrorList
	err      error
	lines    []int
}

type savedMsg struct {
	path      string
	src       []byte // what was written
	err       error
	kept      bool     // the file's text was edited, comments kept
	rewritten []string // stages written afresh within it
	fresh     bool     // the file was written afresh: its comments are gone
}

// fileName is where the draft's problems point: its file, or the file a
// new draft would be saved to.
func (c *composer) fileName() string {
	if c.path != "" {
		return c.path
	}
	return filepath.Join(c.ctx.Dir, slug(c.name)+".yaml")
}

func slug(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = regexp.MustCompile(`[^a-z0-9_-]+`).ReplaceAllString(s, "-")
	s = strings.Trim(s, "-")
	if s == "" {
		return "pipeline"
	}
	return s
}

func (c *composer) source() []byte { return engine.FormatSpec(c.name, c.desc, c.seed, c.stages) }

// validate checks the draft as it would be saved, in a command.
func (c *composer) validate() tea.Cmd {
	seq, src, file, reg := c.vseq.Next(), c.source(), c.fileName(), c.ctx.Registry
	return func() tea.Msg {
		msg := validatedMsg{seq: seq, lines: stageLines(src)}
		spec, err := engine.ParseSpec(file, src)
		if err == nil {
			_, err = engine.Validate(spec, reg)
		}
		if err != nil && !errors.As(err, &msg.problems) {
			msg.err = err
		}
		return msg
	}
}

// stageLines finds the line each stage starts on in a formatted file.
func stageLines(src []byte) []int {
	var out []int
	for i, l := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(l, "  - id: ") {
			out = append(out, i+1)
		}
	}
	return out
}

// stageOf returns the stage a problem's line falls in, -1 for none.
func (c *composer) stageOf(line int) int {
	k := -1
	for i, l := range c.lines {
		if line >= l {
			k = i
		}
	}
	return k
}

func (c *composer) changed() tea.Cmd {
	c.dirty = true
	return c.validate()
}

func (c *composer) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case validatedMsg:
		if !c.vseq.Current(msg.seq) {
			return nil
		}
		c.validated, c.problems, c.otherErr, c.lines = true, msg.problems, msg.err, msg.lines
		return nil
	case savedMsg:
		if msg.err != nil {
			return common.Err(msg.err)
		}
		c.path, c.dirty, c.orig = msg.path, false, msg.src
		text := "saved " + msg.path
		switch {
		case msg.fresh:
			text += " (written afresh: the file's layout could not be edited, so its comments are gone)"
		case len(msg.rewritten) > 0:
			text += fmt.Sprintf(" (comments kept; stage %s written afresh: a changed field spanned several lines)", strings.Join(msg.rewritten, ", "))
		case msg.kept:
			text += " (comments and layout kept)"
		}
		return tea.Batch(c.validate(), common.Info(text))
	case removeMsg:
		return c.remove(msg.id)
	case common.TickMsg:
		return nil
	}
	if c.confirm != nil {
		done, cmd := c.confirm.Update(msg)
		if done {
			c.confirm = nil
		}
		return cmd
	}
	if c.form != nil {
		done, cmd := c.form.Update(msg)
		if done {
			c.form = nil
		}
		return cmd
	}
	if c.catalog != nil {
		return c.updateCatalog(msg)
	}
	if mm, ok := msg.(tea.MouseMsg); ok && mm.Action == tea.MouseActionPress {
		switch mm.Button {
		case tea.MouseButtonWheelUp:
			c.cursor = max(c.cursor-1, 0)
		case tea.MouseButtonWheelDown:
			c.cursor = min(c.cursor+1, max(len(c.stages)-1, 0))
		}
		return nil
	}
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	n := len(c.stages)
	switch {
	case key.Matches(k, common.Nav.Up):
		c.cursor = max(c.cursor-1, 0)
	case key.Matches(k, common.Nav.Down):
		c.cursor = min(c.cursor+1, max(n-1, 0))
	case key.Matches(k, ckeys.Up):
		if c.cursor > 0 && c.cursor < n {
			c.stages[c.cursor-1], c.stages[c.cursor] = c.stages[c.cursor], c.stages[c.cursor-1]
			c.cursor--
			return c.changed()
		}
	case key.Matches(k, ckeys.Down):
		if c.cursor < n-1 {
			c.stages[c.cursor+1], c.stages[c.cursor] = c.stages[c.cursor], c.stages[c.cursor+1]
			c.cursor++
			return c.changed()
		}
	case key.Matches(k, ckeys.Add):
		return c.openCatalog()
	case key.Matches(k, ckeys.Remove):
		if n == 0 {
			return nil
		}
		id := c.stages[c.cursor].ID
		c.confirm = common.NewConfirm(c.ctx.Styles, "Remove stage "+id+"?", "Stages that name it in needs lose that input.", func() tea.Msg { return removeMsg{id: id} })
		return c.confirm.Init()
	case key.Matches(k, ckeys.Edit):
		return c.editStage()
	case key.Matches(k, ckeys.Needs):
		return c.editNeeds()
	case key.Matches(k, ckeys.Settings):
		return c.editSettings()
	case c.ctx.ReadOnly && key.Matches(k, ckeys.Save, ckeys.SaveAs):
		return common.ReadOnlyMsg("saving")
	case c.ctx.ReadOnly && key.Matches(k, ckeys.Run):
		return common.ReadOnlyMsg("running a pipeline")
	case key.Matches(k, ckeys.Save):
		return c.save(false)
	case key.Matches(k, ckeys.SaveAs):
		return c.save(true)
	case key.Matches(k, ckeys.Run):
		if c.path == "" || c.dirty {
			return common.Errorf("save the pipeline first (s), then r runs it")
		}
		if len(c.problems) > 0 || c.otherErr != nil {
			return common.Errorf("the pipeline has problems: fix them before running it")
		}
		path := c.path
		return func() tea.Msg { return common.RunFileMsg{Path: path} }
	}
	return nil
}

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

// Catalog.

type stageItem struct{ t *engine.StageType }

func (i stageItem) FilterValue() string { return i.t.Name + " " + i.t.Group + " " + i.t.Doc }

// catalogFilter keeps the stage types whose name, group or doc holds the
// typed text, those matching by name first (fuzzy matching over the
// docs would keep nearly everything).
func catalogFilter(term string, targets []string) []list.Rank {
	t := strings.ToLower(strings.TrimSpace(term))
	var byName, byDoc []list.Rank
	for i, s := range targets {
		ls := strings.ToLower(s)
		j := strings.Index(ls, t)
		if j < 0 {
			continue
		}
		idx := make([]int, 0, len(t))
		for k := range len(t) {
			idx = append(idx, j+k)
		}
		r := list.Rank{Index: i, MatchedIndexes: idx}
		if name, _, _ := strings.Cut(ls, " "); strings.Contains(name, t) {
			byName = append(byName, r)
		} else {
			byDoc = append(byDoc, r)
		}
	}
	return append(byName, byDoc...)
}

type catalogDelegate struct{ st *common.Styles }

func (d catalogDelegate) Height() int                             { return 1 }
func (d catalogDelegate) Spacing() int                            { return 0 }
func (d catalogDelegate) Update(_ tea.Msg, _ *list.Model) tea.Cmd { return nil }
func (d catalogDelegate) Render(w io.Writer, m list.Model, index int, item list.Item) {
	it, ok := item.(stageItem)
	if !ok {
		return
	}
	cursor := " "
	if index == m.Index() {
		cursor = common.Cursor
	}
	kinds := fmt.Sprintf("%s → %s", kindText(it.t.In, it.t.MaxIn), it.t.Out)
	line := fmt.Sprintf("%s %-11s %-30s %-16s %s", cursor, it.t.Group, it.t.Name, kinds, it.t.Doc)
	line = common.Fit(line, m.Width())
	if index == m.Index() {
		line = d.st.Selected.Render(line)
	}
	fmt.Fprint(w, line)
}

func kindText(k engine.Kind, maxIn int) string {
	if maxIn == 0 {
		return "·"
	}
	return k.String()
}

func (c *composer) openCatalog() tea.Cmd {
	var items []list.Item
	for _, t := range c.ctx.Registry.Types() {
		items = append(items, stageItem{t})
	}
	l := list.New(items, catalogDelegate{st: c.ctx.Styles}, c.w, c.h-2)
	l.Title = "ADD A STAGE after " + c.currentID()
	l.Styles.Title = c.ctx.Styles.Title
	l.SetShowHelp(false)
	l.SetShowStatusBar(true)
	l.KeyMap.Quit.SetEnabled(false)
	l.KeyMap.ForceQuit.SetEnabled(false)
	l.Filter = catalogFilter
	// Start filtering at once, as pressing / would: typing narrows the list.
	l, cmd := l.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'/'}})
	c.catalog = &l
	return cmd
}

func (c *composer) currentID() string {
	if len(c.stages) == 0 {
		return "the start"
	}
	return c.stages[c.cursor].ID
}

func (c *composer) updateCatalog(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok && k.String() == "esc" && c.catalog.FilterValue() == "" {
		c.catalog = nil
		return nil
	}
	if k, ok := msg.(tea.KeyMsg); ok && k.String() == "enter" {
		it, ok := c.catalog.SelectedItem().(stageItem)
		if !ok {
			return nil
		}
		c.catalog = nil
		return c.add(it.t)
	}
	l, cmd := c.catalog.Update(msg)
	c.catalog = &l
	return cmd
}

// add puts a new stage of type t after the cursor and opens its form.
func (c *composer) add(t *engine.StageType) tea.Cmd {
	id := c.uniqueID(defaultID(t))
	d := engine.StageDraft{ID: id, Uses: t.Name}
	for _, p := range t.Params {
		if p.Required && p.Default == nil && p.Type == engine.TypeEnum {
			d.Set(p.Name, p.Enum[0])
		}
	}
	at := 0
	if len(c.stages) > 0 {
		at = c.cursor + 1
	}
	// The stage that follows keeps reading what it read: its implicit
	// input (the stage before it) is written out.
	if at > 0 && at < len(c.stages) {
		if next := &c.stages[at]; !next.NeedsSet && c.takesInput(next.Uses) {
			next.Needs, next.NeedsSet = []string{c.stages[at-1].ID}, true
		}
	}
	c.stages = append(c.stages[:at], append([]engine.StageDraft{d}, c.stages[at:]...)...)
	c.cursor = at
	cmd := c.changed()
	if len(t.Params) > 0 {
		return tea.Batch(cmd, c.editStage())
	}
	return cmd
}

// defaultID names a new stage by what it does: load, split, scale, model…
func defaultID(t *engine.StageType) string {
	switch t.Group {
	case "extract":
		return "load"
	case "load":
		return "save"
	case "split":
		return "split"
	case "preprocess":
		return strings.TrimSuffix(strings.TrimSuffix(t.Name, "_scaler"), "r")
	case "train", "tune":
		return "model"
	case "evaluate":
		return "score"
	case "export":
		return "export"
	}
	return t.Name
}

func (c *composer) uniqueID(base string) string {
	used := map[string]bool{}
	for _, s := range c.stages {
		used[s.ID] = true
	}
	if !used[base] {
		return base
	}
	for i := 2; ; i++ {
		if id := fmt.Sprintf("%s_%d", base, i); !used[id] {
			return id
		}
	}
}

// Forms.

var idPattern = regexp.MustCompile(`^[a-z0-9_-]+$`)

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
			if !idPattern.MatchString(s) {
				return errors.New("an id holds lower-case letters, digits, _ and - only")
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
		huh.NewInput().Title("retries  (int, in [0, 100])").Placeholder("default 0").Accessor(retries).Validate(func(s string) error {
			if s = strings.TrimSpace(s); s == "" {
				return nil
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > 100 {
				return errors.New("retries wants an integer in [0, 100]")
			}
			return nil
		}),
		huh.NewInput().Title("timeout  (duration)").Placeholder("no timeout, or 30s, 5m").Accessor(timeout).Validate(func(s string) error {
			if s = strings.TrimSpace(s); s == "" {
				return nil
			}
			if dur, err := time.ParseDuration(s); err != nil || dur <= 0 {
				return errors.New("timeout wants a positive duration like 30s or 5m")
			}
			return nil
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
	d.Retries, _ = strconv.Atoi(strings.TrimSpace(c.vals["$retries"].Get()))
	d.Timeout, _ = time.ParseDuration(strings.TrimSpace(c.vals["$timeout"].Get()))
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

// save writes the draft: to its file after a confirmation, or to a path
// asked for (always with as).
func (c *composer) save(as bool) tea.Cmd {
	if len(c.stages) == 0 {
		return common.Errorf("nothing to save: a adds a stage")
	}
	if c.path != "" && !as {
		path := c.path
		c.confirm = common.NewConfirm(c.ctx.Styles, "Overwrite "+path+"?", "The file is replaced by the draft.", c.write(path))
		return c.confirm.Init()
	}
	c.savePath = c.fileName()
	if c.path != "" {
		ext := filepath.Ext(c.path)
		c.savePath = strings.TrimSuffix(c.path, ext) + "-copy" + ext
	}
	c.form = common.NewForm(c.ctx.Styles, "SAVE PIPELINE", min(c.w-2, 90), 10, func() tea.Cmd {
		path := strings.TrimSpace(c.savePath)
		if _, err := os.Stat(path); err == nil {
			c.confirm = common.NewConfirm(c.ctx.Styles, "Overwrite "+path+"?", "The file exists.", c.write(path))
			return c.confirm.Init()
		}
		return c.write(path)
	}, huh.NewGroup(huh.NewInput().Title("Save to").Description("A new pipeline file (.yaml).").Value(&c.savePath).Validate(func(s string) error {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			return errors.New("type a file path")
		case !strings.HasSuffix(s, ".yaml") && !strings.HasSuffix(s, ".yml"):
			return errors.New("a pipeline file ends in .yaml or .yml")
		}
		if fi, err := os.Stat(s); err == nil && fi.IsDir() {
			return errors.New("that is a folder")
		}
		return nil
	})))
	return c.form.Init()
}

// write saves the draft to path atomically: a temporary file beside it,
// synced, then renamed over it.
func (c *composer) write(path string) tea.Cmd {
	msg := savedMsg{path: path, src: c.source()}
	if c.orig != nil {
		out, rewritten, ok := keepLayout(c.orig, draftOf{name: c.name, desc: c.desc, seed: c.seed, stages: c.stages})
		if ok {
			// The edit must read back as the draft; if not, write afresh.
			if spec, err := engine.ParseSpec(path, out); err == nil &&
				bytes.Equal(engine.FormatSpec(spec.Name, spec.Description, spec.Seed, engine.DraftSpec(spec)), msg.src) {
				msg.src, msg.rewritten, msg.kept = out, rewritten, true
			} else {
				msg.fresh = true
			}
		} else {
			msg.fresh = true
		}
	}
	return func() tea.Msg {
		msg.err = writeAtomic(path, msg.src)
		return msg
	}
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// View.

func (c *composer) view() string {
	st := c.ctx.Styles
	if c.confirm != nil {
		return c.confirm.View(st, c.w, c.h)
	}
	if c.catalog != nil {
		head := st.Title.Render("ADD A STAGE") + st.Subtle.Render(" after "+c.currentID()+" · type to filter by name, group or doc · enter adds · esc cancels")
		return common.Block(head+"\n"+c.catalog.View(), c.w, c.h)
	}
	if c.form != nil {
		return c.form.View(st, c.w, c.h)
	}
	return c.draftView()
}
