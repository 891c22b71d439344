package common

import (
	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/engine"
)

// Styles are the workbench's lipgloss styles. With Mono set they carry no
// colour; selection and state are then shown by the markers the screens
// draw (▸, ✓, ✗, ●), which are there in colour too.
type Styles struct {
	Mono bool

	Title     lipgloss.Style // screen and section titles
	Header    lipgloss.Style // table headers
	Subtle    lipgloss.Style // secondary text
	Bold      lipgloss.Style
	Selected  lipgloss.Style // the selected row
	Marked    lipgloss.Style // rows marked with space
	Error     lipgloss.Style
	Warn      lipgloss.Style
	OK        lipgloss.Style
	Running   lipgloss.Style
	Key       lipgloss.Style // key names in text
	Box       lipgloss.Style // a bordered pane
	BoxFocus  lipgloss.Style // the bordered pane that has the keys
	Tab       lipgloss.Style
	ActiveTab lipgloss.Style
	Dialog    lipgloss.Style
	Best      lipgloss.Style // the best value in a comparison
	Bar       lipgloss.Color // chart bars
	Accent    lipgloss.Color
}

// NewStyles returns the workbench's styles; mono drops every colour.
func NewStyles(mono bool) *Styles {
	s := &Styles{Mono: mono}
	accent := lipgloss.Color("105")
	if mono {
		accent = lipgloss.Color("")
	}
	c := func(color string) lipgloss.TerminalColor {
		if mono {
			return lipgloss.NoColor{}
		}
		return lipgloss.Color(color)
	}
	s.Accent = accent
	s.Bar = lipgloss.Color("63")
	if mono {
		s.Bar = lipgloss.Color("")
	}
	s.Title = lipgloss.NewStyle().Bold(true).Foreground(c("105"))
	s.Header = lipgloss.NewStyle().Bold(true).Foreground(c("245"))
	s.Subtle = lipgloss.NewStyle().Foreground(c("243"))
	s.Bold = lipgloss.NewStyle().Bold(true)
	s.Selected = lipgloss.NewStyle().Bold(true).Foreground(c("229")).Background(c("57"))
	s.Marked = lipgloss.NewStyle().Foreground(c("212"))
	s.Error = lipgloss.NewStyle().Foreground(c("203"))
	s.Warn = lipgloss.NewStyle().Foreground(c("214"))
	s.OK = lipgloss.NewStyle().Foreground(c("78"))
	s.Running = lipgloss.NewStyle().Foreground(c("39"))
	s.Key = lipgloss.NewStyle().Bold(true).Foreground(c("250"))
	border := lipgloss.RoundedBorder()
	s.Box = lipgloss.NewStyle().Border(border).BorderForeground(c("240"))
	s.BoxFocus = lipgloss.NewStyle().Border(border).BorderForeground(c("105"))
	s.Tab = lipgloss.NewStyle().Foreground(c("245")).Padding(0, 1)
	s.ActiveTab = lipgloss.NewStyle().Bold(true).Foreground(c("229")).Background(c("57")).Padding(0, 1)
	s.Dialog = lipgloss.NewStyle().Border(lipgloss.DoubleBorder()).BorderForeground(c("212")).Padding(1, 3)
	s.Best = lipgloss.NewStyle().Bold(true).Foreground(c("78"))
	if mono {
		// Keep the shape of the emphasis an Ascii profile would drop anyway.
		s.ActiveTab = lipgloss.NewStyle().Padding(0, 1)
	}
	return s
}

// Status returns the style for a status.
func (s *Styles) Status(st engine.Status) lipgloss.Style {
	switch st {
	case engine.StatusSucceeded, engine.StatusCached:
		return s.OK
	case engine.StatusFailed, engine.StatusInterrupted:
		return s.Error
	case engine.StatusRunning:
		return s.Running
	case engine.StatusCancelled, engine.StatusSkipped:
		return s.Warn
	case engine.StatusPending:
		return s.Subtle
	}
	return s.Subtle
}

// StatusText renders an icon and the status name in the status's style.
func (s *Styles) StatusText(st engine.Status) string {
	return s.Status(st).Render(StatusIcon(st) + " " + st.String())
}
