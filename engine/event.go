package engine

import (
	"context"
	"sync"
	"time"
)

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	EventRunStarted    EventKind = iota + 1 // the run has its number; Stages lists every stage
	EventStageStarted                       // a stage began an attempt
	EventProgress                           // a stage moved: Progress
	EventLog                                // a stage logged Line
	EventStageFinished                      // a stage ended with Status, Seconds, Metrics, Err
	EventRunFinished                        // the run ended with Status
)

var eventNames = [...]string{"", "run-started", "stage-started", "progress", "log", "stage-finished", "run-finished"}

// String names the kind.
func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "event"
}

// Event is something that happened in a run. Each carries the full state
// of what it reports, so a subscriber that missed one is put right by
// the next.
type Event struct {
	Kind     EventKind
	Time     time.Time
	RunID    int64
	Pipeline string
	Stage    string // "" for run events
	Status   Status
	Attempt  int
	Progress Progress
	Line     LogLine
	Seconds  float64
	Metrics  map[string]float64
	Err      string
	Reason   string // EventStageStarted and EventStageFinished: why the stage ran, or "cached from run N"
	Run      *Run   // EventRunStarted and EventRunFinished: a snapshot of the run
}

// Broker fans events out to subscribers. Publish never blocks: a
// subscriber whose buffer is full misses events (and catches up from the
// next snapshot). It is safe for concurrent use; the zero Broker is ready.
type Broker struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// Subscribe returns a channel of events that is closed when ctx ends.
func (b *Broker) Subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, 1024)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[chan Event]struct{}{}
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		delete(b.subs, ch)
		close(ch)
		b.mu.Unlock()
	}()
	return ch
}

// Publish sends e to every subscriber with room for it.
func (b *Broker) Publish(e Event) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}
