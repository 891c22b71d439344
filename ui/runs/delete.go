package runs

import (
	"context"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

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
