package ui

import (
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// TestWaitForEventsCoalesces: a backlog of events comes out in bursts of
// at most maxBurst, so Bubble Tea's queue never holds more than one.
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
	if len(sizes) > 40 {
		t.Errorf("%d events came in %d bursts, want far fewer (at most %d each, gathered for %s)", n, len(sizes), maxBurst, coalesceWindow)
	}
	close(ch)
	if msg := waitForEvents(ch)().(eventsMsg); !msg.closed {
		t.Errorf("a closed subscription gives %#v, want closed", msg)
	}
}

// TestWaitForEventsDeliversALoneEvent: one event is not held back longer
// than the coalescing window.
func TestWaitForEventsDeliversALoneEvent(t *testing.T) {
	ch := make(chan engine.Event, 1)
	ch <- engine.Event{Kind: engine.EventProgress}
	began := time.Now()
	msg := waitForEvents(ch)().(eventsMsg)
	if len(msg.events) != 1 {
		t.Fatalf("got %d events, want 1", len(msg.events))
	}
	if d := time.Since(began); d > coalesceWindow+500*time.Millisecond {
		t.Errorf("a lone event took %s, want about %s", d, coalesceWindow)
	}
}
