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
	item   int64 // the sweep's queue item, if any
	done   <-chan common.RunEndedMsg
}

// sweepQueuedMsg reports a sweep queued (or not).
type sweepQueuedMsg struct {
	msg   common.SweepMsg
	sweep string
	items []int64
	err   error
}

// launchFailedMsg reports a run that could not start: an invalid file,
// bad overrides, or a store that would not record it.
type launchFailedMsg struct {
	launch int
	path   string
	item   int64
	err    error
}

// quitMsg ends the program, cancelling live runs.
type quitMsg struct{}
