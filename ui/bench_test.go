package ui_test

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
)

// bigStore holds n runs of a few pipelines.
func bigStore(n int) *fakeStore {
	s := newFakeStore()
	for i := range n {
		r := sampleRun(float64(i%10)/10, 0.9+float64(i%10)/100, t0.Add(-time.Duration(n-i)*time.Minute))
		r.Pipeline = fmt.Sprintf("pipeline-%d", i%7)
		s.next++
		r.ID = s.next
		s.runs[r.ID] = r
	}
	return s
}

// BenchmarkRunsKeypress is one key press (↓ or ↑) on the Runs screen with
// 10,000 runs, Update and View (target: under 16ms).
func BenchmarkRunsKeypress(b *testing.B) {
	m := open(b, bigStore(10000))
	send(b, m, key("3"))
	settle(b, m, func() bool { return contains(m.View(), "10000 runs") })
	down, up := key("down"), key("up")
	b.ResetTimer()
	for i := range b.N {
		k := down
		if i%400 >= 200 {
			k = up
		}
		m.Update(k)
		_ = m.View()
	}
}

// BenchmarkRunsFilterKeypress is one key typed into the Runs filter with
// 10,000 runs: every run is matched again.
func BenchmarkRunsFilterKeypress(b *testing.B) {
	m := open(b, bigStore(10000))
	send(b, m, key("3"))
	settle(b, m, func() bool { return contains(m.View(), "10000 runs") })
	send(b, m, key("/"))
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			m.Update(key("9"))
		} else {
			m.Update(tea.KeyMsg{Type: tea.KeyBackspace})
		}
		_ = m.View()
	}
}

// BenchmarkRunsQueryKeypress is one key typed into a metric query on
// the Runs filter with 10,000 runs (accuracy>0.9 ↔ accuracy>0.95): the
// query is parsed and every run is matched again.
func BenchmarkRunsQueryKeypress(b *testing.B) {
	m := open(b, bigStore(10000))
	send(b, m, key("3"))
	settle(b, m, func() bool { return contains(m.View(), "10000 runs") })
	send(b, m, key("/"))
	for _, r := range "accuracy>0.9 param.model.C<0.5 or status:failed" {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			m.Update(key("5"))
		} else {
			m.Update(tea.KeyMsg{Type: tea.KeyBackspace})
		}
		_ = m.View()
	}
}

func contains(s, sub string) bool { return len(s) >= len(sub) && (s == sub || index(s, sub) >= 0) }

func index(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

var _ = engine.StatusSucceeded
