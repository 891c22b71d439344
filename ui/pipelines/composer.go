package pipelines

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/list"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/query"
)

var ckeys = common.RegisterKeys("composer", &struct {
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
}, "Close")

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
	// The catalog's items, the last query typed there that parsed, and
	// why the text typed since does not.
	catItems []stageItem
	catQuery *query.Query
	catSeq   int // keys that changed the catalog's text; see catalogMatches
	catErr   error
	form     *common.Form
	confirm  *common.Confirm
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
			{common.Nav.Up, common.Nav.Down, common.Nav.Top, common.Nav.Bottom, ckeys.Up, ckeys.Down},
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
		return common.UpdateModal(&c.confirm, msg)
	}
	if c.form != nil {
		return common.UpdateModal(&c.form, msg)
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
	case key.Matches(k, common.Nav.Top):
		c.cursor = 0
	case key.Matches(k, common.Nav.Bottom):
		c.cursor = max(n-1, 0)
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
