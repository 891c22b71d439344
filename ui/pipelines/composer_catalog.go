package pipelines

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/list"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/query"
)

type stageItem struct {
	t   *engine.StageType
	sub *query.Item
}

func newStageItem(t *engine.StageType) stageItem {
	kinds := []string{t.Out.String()}
	if t.MaxIn != 0 {
		kinds = append(kinds, t.In.String())
	}
	return stageItem{t: t, sub: &query.Item{
		Search: strings.ToLower(t.Name + " " + t.Group + " " + t.Doc),
		Fields: map[string][]string{"uses": {t.Name}, "group": {t.Group}, "kind": kinds},
	}}
}

func (i stageItem) FilterValue() string { return i.t.Name }

// catalogFilter reads the typed text as a query (package query): free
// text in a stage type's name, group or doc, and group:NAME, uses:TYPE,
// kind:KIND (what it reads or makes), combined with spaces and or. The
// types whose name holds the whole text come first (matching over the
// docs would otherwise bury them). While the text does not parse, good
// (the last query that did) stays in force; the list runs this off the
// update loop, so it reads nothing but its arguments.
func catalogFilter(items []stageItem, good *query.Query, now time.Time) list.FilterFunc {
	return func(term string, targets []string) []list.Rank {
		q, err := query.ParseAt(term, now)
		if err != nil {
			q = good
		}
		t := strings.ToLower(strings.TrimSpace(term))
		var byName, others []list.Rank
		for i := range targets {
			if i >= len(items) || !q.Match(items[i].sub) {
				continue
			}
			r := list.Rank{Index: i}
			if t != "" && strings.Contains(strings.ToLower(items[i].t.Name), t) {
				byName = append(byName, r)
			} else {
				others = append(others, r)
			}
		}
		return append(byName, others...)
	}
}

type catalogDelegate struct{ st *common.Styles }

func (d catalogDelegate) Height() int { return 1 }

func (d catalogDelegate) Spacing() int { return 0 }

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
	c.catItems, c.catQuery, c.catErr = nil, nil, nil
	for _, t := range c.ctx.Registry.Types() {
		it := newStageItem(t)
		items = append(items, it)
		c.catItems = append(c.catItems, it)
	}
	l := list.New(items, catalogDelegate{st: c.ctx.Styles}, c.w, c.h-2)
	l.Title = "ADD A STAGE after " + c.currentID()
	l.Styles.Title = c.ctx.Styles.Title
	l.SetShowHelp(false)
	l.SetShowStatusBar(true)
	l.KeyMap.Quit.SetEnabled(false)
	l.KeyMap.ForceQuit.SetEnabled(false)
	l.Filter = catalogFilter(c.catItems, nil, c.ctx.Now())
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
	if m, ok := msg.(catalogMatches); ok {
		if m.seq != c.catSeq {
			return nil // an older text's matches, come in after a newer one's
		}
		msg = m.msg
	}
	// The filter in force for this key is the last query that parsed.
	c.catalog.Filter = catalogFilter(c.catItems, c.catQuery, c.ctx.Now())
	before := c.catalog.FilterValue()
	l, cmd := c.catalog.Update(msg)
	c.catalog = &l
	if l.FilterValue() != before {
		// The list filters off the update loop, one command per key, and
		// applies whichever result comes in last; numbered, only the
		// newest text's matches are applied.
		c.catSeq++
		cmd = numberMatches(cmd, c.catSeq)
	}
	if q, err := query.ParseAt(l.FilterValue(), c.ctx.Now()); err != nil {
		c.catErr = err
	} else {
		c.catQuery, c.catErr = q, nil
	}
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

// catalogMatches is the list's filter result for the text typed at key
// number seq.
type catalogMatches struct {
	seq int
	msg list.FilterMatchesMsg
}

// numberMatches wraps cmd so that the filter result it yields (alone or
// in a batch) comes back as a catalogMatches numbered seq.
func numberMatches(cmd tea.Cmd, seq int) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		switch msg := cmd().(type) {
		case list.FilterMatchesMsg:
			return catalogMatches{seq: seq, msg: msg}
		case tea.BatchMsg:
			out := make(tea.BatchMsg, len(msg))
			for i, c := range msg {
				out[i] = numberMatches(c, seq)
			}
			return out
		default:
			return msg
		}
	}
}
