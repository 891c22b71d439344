package model

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

type exportedMsg struct {
	run   int64
	stage string
	path  string
	sha   string
	err   error
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if m.confirm != nil {
		return common.UpdateModal(&m.confirm, msg)
	}
	if m.form != nil {
		return common.UpdateModal(&m.form, msg)
	}
	if m.filter.Active() {
		switch msg.String() {
		case "up", "down", "pgup", "pgdown":
			return m.move(msg)
		}
		changed, cmd := m.filter.Update(msg)
		if changed {
			m.refilter()
			m.vp.GotoTop()
			m.render()
			return tea.Batch(cmd, m.describe())
		}
		return cmd
	}
	switch {
	case key.Matches(msg, keys.Filter):
		return m.filter.Focus()
	case key.Matches(msg, keys.Export):
		if m.ctx.ReadOnly {
			return common.ReadOnlyMsg("exporting")
		}
		return m.askExport()
	case key.Matches(msg, keys.Alias):
		if m.ctx.ReadOnly {
			return common.ReadOnlyMsg("setting an alias")
		}
		return m.askAlias()
	case key.Matches(msg, keys.Reload):
		return m.list()
	case key.Matches(msg, common.Nav.Up, common.Nav.Down, common.Nav.Top, common.Nav.Bottom):
		return m.move(msg)
	}
	var cmd tea.Cmd
	m.vp, cmd = m.vp.Update(msg)
	return cmd
}

// move moves the list's cursor and shows the model it lands on.
func (m *Model) move(msg tea.KeyMsg) tea.Cmd {
	before := m.table.Cursor()
	cmd := m.table.Update(msg)
	if m.table.Cursor() != before {
		m.vp.GotoTop()
		m.render()
		return tea.Batch(cmd, m.describe())
	}
	return cmd
}

type aliasedMsg struct {
	run     int64
	stage   string
	address string
	err     error
}

// askAlias asks for an alias of the selected model's pipeline and sets it.
func (m *Model) askAlias() tea.Cmd {
	e, ok := m.selected()
	if !ok {
		return common.Errorf("no model selected")
	}
	if m.svc == nil {
		return common.Errorf("this sluice cannot set aliases from the workbench; use sluice alias set")
	}
	if m.alias == "" {
		m.alias = "champion"
	}
	input := huh.NewInput().Title("Alias").
		Description(fmt.Sprintf("%s@ALIAS will name run %d, stage %s (export, predict and serve take it)", e.pipeline, e.run, e.stage)).
		Value(&m.alias).
		Validate(func(s string) error { return engine.CheckAlias(strings.TrimSpace(s)) })
	m.aliasing = true
	m.form = common.NewForm(m.ctx.Styles, "SET ALIAS", min(m.w, 90), 10, func() tea.Cmd {
		m.aliasing = false
		alias, svc, ctx := strings.TrimSpace(m.alias), m.svc, m.ctx.Ctx
		return func() tea.Msg {
			addr, err := svc.Alias(ctx, e.run, e.stage, alias)
			return aliasedMsg{run: e.run, stage: e.stage, address: addr, err: err}
		}
	}, huh.NewGroup(input))
	return m.form.Init()
}

func (m *Model) askExport() tea.Cmd {
	e, ok := m.selected()
	if !ok {
		return common.Errorf("no model selected")
	}
	if m.svc == nil {
		return common.Errorf("this sluice cannot export models from the workbench; use sluice export")
	}
	name := e.pipeline
	if name == "" {
		name = "model"
	}
	m.path = fmt.Sprintf("%s-run%d-%s.json", name, e.run, e.stage)
	input := huh.NewInput().Title("Export to").
		Description(fmt.Sprintf("run %d, stage %s: the file `sluice export` writes", e.run, e.stage)).
		Value(&m.path).
		Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("type a file path")
			}
			if fi, err := os.Stat(s); err == nil && fi.IsDir() {
				return errors.New("that is a folder: add a file name")
			}
			return nil
		})
	m.form = common.NewForm(m.ctx.Styles, "EXPORT MODEL", min(m.w, 90), 10, func() tea.Cmd {
		path := strings.TrimSpace(m.path)
		if _, err := os.Stat(path); err == nil {
			m.confirm = common.NewConfirm(m.ctx.Styles, "Overwrite "+path+"?", "The file exists.", m.export(e, path))
			return m.confirm.Init()
		}
		return m.export(e, path)
	}, huh.NewGroup(input))
	return m.form.Init()
}

func (m *Model) export(e entry, path string) tea.Cmd {
	svc, ctx := m.svc, m.ctx.Ctx
	return func() tea.Msg {
		sha, err := svc.Export(ctx, e.run, e.stage, path)
		return exportedMsg{run: e.run, stage: e.stage, path: path, sha: sha, err: err}
	}
}
