package ui

import (
	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// eventsMsg is a burst of engine events from the bridge.
type eventsMsg struct {
	events []engine.Event
	closed bool // the subscription ended
}

// launchedMsg reports that a run started by the workbench has its number.
type launchedMsg struct {
	launch int
	id     int64
	path   string
	done   <-chan common.RunEndedMsg
}

// launchFailedMsg reports a run that could not start: an invalid file,
// bad overrides, or a store that would not record it.
type launchFailedMsg struct {
	launch int
	path   string
	err    error
}

// quitMsg ends the program, cancelling live runs.
type quitMsg struct{}
