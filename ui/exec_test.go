package ui

import (
	"slices"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// TestWaitForEventsCoalesces: a backlog of events comes out in order, in
// full bursts of maxBurst and then the rest, so Bubble Tea's queue never
// holds more than one; how late the bridge runs changes nothing.
func TestWaitForEventsCoalesces(t *testing.T) {
	const n = 20000
	ch := make(chan engine.Event, n)
	for i := range n {
		ch <- engine.Event{Kind: engine.EventLog, Line: engine.LogLine{Text: "x"}, RunID: int64(i)}
	}
	var sizes []int
	for total := 0; total < n; {
		msg, ok := waitForEvents(ch)().(eventsMsg)
		if !ok || len(msg.events) == 0 {
			t.Fatalf("got %#v, want a burst", msg)
		}
		if len(msg.events) > maxBurst {
			t.Fatalf("burst of %d events, want at most %d", len(msg.events), maxBurst)
		}
		if got := msg.events[0].RunID; got != int64(total) {
			t.Fatalf("burst starts at event %d, want %d: events out of order", got, total)
		}
		total += len(msg.events)
		sizes = append(sizes, len(msg.events))
	}
	if want := []int{maxBurst, maxBurst, n - 2*maxBurst}; !slices.Equal(sizes, want) {
		t.Errorf("%d queued events came in bursts of %v, want %v", n, sizes, want)
	}
	close(ch)
	if msg := waitForEvents(ch)().(eventsMsg); !msg.closed {
		t.Errorf("a closed subscription gives %#v, want closed", msg)
	}
}

// TestWaitForEventsDeliversALoneEvent: one event is delivered on its own
// while the subscription stays open and nothing follows it: the window
// ends the burst, not a second event or the end of the run.
func TestWaitForEventsDeliversALoneEvent(t *testing.T) {
	ch := make(chan engine.Event, 1)
	ch <- engine.Event{Kind: engine.EventProgress}
	msg := waitForEvents(ch)().(eventsMsg)
	if len(msg.events) != 1 || msg.closed {
		t.Fatalf("got %d events (closed %v), want 1 with the subscription open", len(msg.events), msg.closed)
	}
	// Nothing was taken beyond it: the next event is the next burst's first.
	ch <- engine.Event{Kind: engine.EventLog}
	if msg := waitForEvents(ch)().(eventsMsg); len(msg.events) != 1 || msg.events[0].Kind != engine.EventLog {
		t.Errorf("the next burst: %+v, want the one log event", msg.events)
	}
}
