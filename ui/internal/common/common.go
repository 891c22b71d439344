package common

import (
	"context"
	"errors"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
)

// Context is what every screen shares, like gh-dash's ProgramContext: the
// root context for store calls made in commands, the styles, the clock
// and the catalog. It is created once by the root model and passed by
// pointer; only the root changes it.
type Context struct {
	Ctx      context.Context
	Styles   *Styles
	Now      func() time.Time
	Registry *engine.Registry
	Version  string
	// Dir is where new pipeline files go by default.
	Dir string
	// DB names the run store, for display.
	DB string
	// ReadOnly disables every key that would change the store or write a
	// file (sluice --readonly).
	ReadOnly bool
}

// ReadOnlyMsg is the status line's answer to a key --readonly disables.
func ReadOnlyMsg(what string) tea.Cmd {
	return Errorf("read-only: " + what + " is disabled (the workbench was opened with --readonly)")
}

// Mutating returns b as the help bar shows it: unchanged, or marked as
// disabled under --readonly.
func (c *Context) Mutating(b key.Binding) key.Binding {
	if !c.ReadOnly {
		return b
	}
	h := b.Help()
	return key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(h.Key, h.Desc+" (read-only)"))
}

// Screen is one of the workbench's screens. The root model routes keys,
// mouse and messages to the active screen, and messages that concern a
// screen to it even when it is not shown. Screens hold pointers and are
// changed in place; Update returns only a command.
type Screen interface {
	// Init returns the screen's first commands (store reads).
	Init() tea.Cmd
	// Update handles a message.
	Update(msg tea.Msg) tea.Cmd
	// View renders the screen into exactly the size last given to Resize.
	View() string
	// Resize gives the screen its size.
	Resize(width, height int)
	// Keys are the screen's key bindings, for the help bar and `?`.
	Keys() help.KeyMap
	// Capturing reports whether a text field or form has the keyboard,
	// so the root passes every key (q, 1-5, tab) to the screen.
	Capturing() bool
	// Back handles esc: it leaves a sub-view and reports true, or
	// reports false when the screen is at its top.
	Back() bool
}

// ErrMsg carries an error to the status line.
type ErrMsg struct{ Err error }

// Error returns the error's text.
func (e ErrMsg) Error() string { return e.Err.Error() }

// Err returns a command that reports err in the status line.
func Err(err error) tea.Cmd {
	return func() tea.Msg { return ErrMsg{err} }
}

// Errorf is shorthand for an ErrMsg with a plain message.
func Errorf(text string) tea.Cmd { return Err(errors.New(text)) }

// InfoMsg is a line for the status line.
type InfoMsg string

// Info returns a command that shows text in the status line.
func Info(text string) tea.Cmd {
	return func() tea.Msg { return InfoMsg(text) }
}

// Screen numbers, as the keys 1–5 select them.
const (
	ScreenPipelines = iota
	ScreenRun
	ScreenRuns
	ScreenCompare
	ScreenModel
)

// ScreenNames are the tab titles.
var ScreenNames = [...]string{"Pipelines", "Run", "Runs", "Compare", "Model"}

// SwitchMsg asks the root to show a screen.
type SwitchMsg int

// Switch returns a command that shows screen n.
func Switch(n int) tea.Cmd { return func() tea.Msg { return SwitchMsg(n) } }

// RunFileMsg asks the root to run a pipeline file in this process, with
// --set style overrides.
type RunFileMsg struct {
	Path string
	Sets []string
	// Sweep and Item tie the run to a sweep and its queue item.
	Sweep string
	Item  int64
}

// SweepMsg asks the root to queue and run the cross product of a
// pipeline's parameter values (one set of --set assignments each),
// Parallel at a time, then compare them.
type SweepMsg struct {
	Path     string
	Sets     [][]string
	Parallel int
}

// RerunMsg asks the root to run a recorded run again in this process: the
// pipeline text and overrides recorded with it. The stage cache reuses
// what finished, so on a failed or interrupted run this resumes it.
type RerunMsg struct{ ID int64 }

// WatchRunMsg asks the Run screen to show a run live (one started in
// this process, or by another, followed through the store).
type WatchRunMsg struct{ ID int64 }

// OpenRunMsg asks the Runs screen to step into a run.
type OpenRunMsg struct{ ID int64 }

// CompareMsg asks the Compare screen to compare runs.
type CompareMsg struct{ IDs []int64 }

// OpenModelMsg asks the Model screen to show the model a stage fitted.
type OpenModelMsg struct {
	Run   int64
	Stage string
}

// CancelRunMsg asks the root to cancel a run: one started in this
// process, or, when WorkflowID is set, a run on Temporal, by cancelling its
// workflow.
type CancelRunMsg struct {
	ID         int64
	WorkflowID string
}

// WorkflowCanceller tells a screen whether the root can cancel a run's
// Temporal workflow (it was given a Temporal server).
type WorkflowCanceller interface {
	CancelsWorkflows() bool
}

// EventsMsg carries a burst of run events, oldest first, coalesced by the
// root's event bridge.
type EventsMsg struct{ Events []engine.Event }

// RunEndedMsg reports that a run started in this process finished.
type RunEndedMsg struct {
	ID  int64
	Run *engine.Run // nil when the run could not be recorded
	Err error
}

// TickMsg is the root's clock, about once a second: screens poll the
// store on it.
type TickMsg time.Time

// LiveChecker tells a screen which runs are running in this process.
type LiveChecker interface {
	Live(id int64) bool
}

// Binding is shorthand for a key binding with help text.
func Binding(help, desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

// KeyMap is a help.KeyMap built from lists of bindings.
type KeyMap struct {
	Short []key.Binding
	Full  [][]key.Binding
}

// ShortHelp returns the bindings of the help bar.
func (k KeyMap) ShortHelp() []key.Binding { return k.Short }

// FullHelp returns the bindings shown by `?`.
func (k KeyMap) FullHelp() [][]key.Binding {
	if k.Full == nil {
		return [][]key.Binding{k.Short}
	}
	return k.Full
}

// Nav are the bindings every list shares.
var Nav = struct {
	Up, Down, PageUp, PageDown, Top, Bottom, Enter key.Binding
}{
	Up:       Binding("↑/k", "up", "up", "k"),
	Down:     Binding("↓/j", "down", "down", "j"),
	PageUp:   Binding("pgup", "page up", "pgup", "ctrl+u"),
	PageDown: Binding("pgdn", "page down", "pgdown", "ctrl+d"),
	Top:      Binding("g", "top", "home", "g"),
	Bottom:   Binding("G", "bottom", "end", "G"),
	Enter:    Binding("enter", "open", "enter"),
}

// Seq stamps store requests so that a reply to an older request, arriving
// after a newer one was sent, can be dropped (gh-dash's LastFetchTaskId).
type Seq struct{ n int }

// Next returns a new stamp.
func (s *Seq) Next() int { s.n++; return s.n }

// Current reports whether stamp is the latest.
func (s *Seq) Current(stamp int) bool { return stamp == s.n }
