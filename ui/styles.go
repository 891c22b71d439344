package ui

import (
	"os"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

// monochrome reports whether the screen is to be drawn without colour:
// NO_COLOR set (https://no-color.org), or asked for by the caller.
func monochrome(d *Deps) bool {
	return d.Mono || os.Getenv("NO_COLOR") != ""
}

// newStyles returns the workbench's styles. A monochrome screen also sets
// lipgloss's colour profile to plain ASCII, so nothing the libraries draw
// (help, forms, charts) carries colour either.
func newStyles(mono bool) *common.Styles {
	if mono {
		lipgloss.SetColorProfile(termenv.Ascii)
	}
	return common.NewStyles(mono)
}
