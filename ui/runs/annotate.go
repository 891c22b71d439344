package runs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// Annotator writes tags and notes (*store.DB does). A store without it
// leaves t and N disabled.
type Annotator interface {
	Tag(ctx context.Context, id int64, tags ...string) ([]string, error)
	Untag(ctx context.Context, id int64, tags ...string) ([]string, error)
	SetNote(ctx context.Context, id int64, note string) error
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
