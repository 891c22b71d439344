package timetable

import (
	"errors"
	"testing"
	"time"
)

func mustParse(t *testing.T, expr string, loc *time.Location) *Timetable {
	t.Helper()
	tt, err := Parse(expr, loc)
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	return tt
}

func utc(s string) time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, field string
		offset            int
	}{
		{"minute out of range", "61 * * * *", "minute", 0},
		{"bad hour", "0 25 * * *", "hour", 2},
		{"bad day of month", "0 0 32 * *", "day of month", 4},
		{"bad month name", "0 0 1 foo *", "month", 6},
		{"bad day of week", "0 0 * * 9", "day of week", 8},
		{"four fields", "0 0 * *", "", 0},
		{"words", "not a cron at all", "minute", 0},
		{"three words", "not a cron", "", 0},
		{"unknown preset", "@fortnightly", "", 0},
		{"every without duration", "@every", "", 0},
		{"every not a duration", "@every soon", "", 0},
		{"every below a second", "@every 10ms", "", 0},
		{"zone inside", "CRON_TZ=UTC 0 0 * * *", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.expr, nil)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a *ParseError", tt.expr, err)
			}
			if pe.Field != tt.field || pe.Offset != tt.offset {
				t.Errorf("Parse(%q): field %q at %d, want %q at %d (%v)", tt.expr, pe.Field, pe.Offset, tt.field, tt.offset, err)
			}
		})
	}
}

func TestDailyIntervals(t *testing.T) {
	t.Parallel()
	tt := mustParse(t, "@daily", nil)
	logical, end, ok := tt.Latest(utc("2025-03-02T10:30:00Z"))
	if !ok || !logical.Equal(utc("2025-03-01T00:00:00Z")) || !end.Equal(utc("2025-03-02T00:00:00Z")) {
		t.Fatalf("Latest = %v, %v, %v; want 2025-03-01 → 2025-03-02", logical, end, ok)
	}
	due := tt.Due(utc("2025-02-26T00:00:00Z"), utc("2025-03-02T10:30:00Z"), 0)
	want := []string{"2025-02-27T00:00:00Z", "2025-02-28T00:00:00Z", "2025-03-01T00:00:00Z"}
	if len(due) != len(want) {
		t.Fatalf("Due = %v, want %v", due, want)
	}
	for i := range want {
		if !due[i].Equal(utc(want[i])) {
			t.Errorf("Due[%d] = %v, want %s", i, due[i], want[i])
		}
	}
	if got := tt.Due(utc("2025-02-26T00:00:00Z"), utc("2025-03-02T10:30:00Z"), 1); len(got) != 1 || !got[0].Equal(utc("2025-03-01T00:00:00Z")) {
		t.Errorf("Due limit 1 = %v, want the newest interval only", got)
	}
	if got := tt.Due(utc("2025-03-01T00:00:00Z"), utc("2025-03-02T10:30:00Z"), 0); len(got) != 0 {
		t.Errorf("Due after the latest = %v, want none", got)
	}
	if got := tt.Between(utc("2025-01-01T00:00:00Z"), utc("2025-01-03T00:00:00Z")); len(got) != 3 {
		t.Errorf("Between 3 days = %v, want 3 logical dates", got)
	}
}

// TestDST: a 09:00 schedule in London keeps 09:00 local time across the
// spring and autumn changes, so the UTC instants move by an hour and the
// interval over each change is 23 or 25 hours.
func TestDST(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	tt := mustParse(t, "0 9 * * *", london)
	ticks := tt.Between(utc("2025-03-29T00:00:00Z"), utc("2025-03-31T23:00:00Z"))
	want := []string{"2025-03-29T09:00:00Z", "2025-03-30T08:00:00Z", "2025-03-31T08:00:00Z"}
	if len(ticks) != len(want) {
		t.Fatalf("ticks = %v, want %v", ticks, want)
	}
	for i := range want {
		if !ticks[i].Equal(utc(want[i])) || ticks[i].Hour() != 9 {
			t.Errorf("tick %d = %v (%v UTC), want %s at 09:00 local", i, ticks[i], ticks[i].UTC(), want[i])
		}
	}
	if _, end := tt.Interval(ticks[0]); end.Sub(ticks[0]) != 23*time.Hour {
		t.Errorf("interval over the spring change lasts %v, want 23h", end.Sub(ticks[0]))
	}
	autumn := tt.Between(utc("2025-10-25T00:00:00Z"), utc("2025-10-26T23:00:00Z"))
	if len(autumn) != 2 || autumn[1].Sub(autumn[0]) != 25*time.Hour {
		t.Errorf("autumn ticks = %v, want two 25 hours apart", autumn)
	}
	// 01:30 does not exist in London on 2025-03-30: that day has no tick.
	gap := mustParse(t, "30 1 * * *", london)
	days := gap.Between(utc("2025-03-29T00:00:00Z"), utc("2025-03-31T12:00:00Z"))
	for _, d := range days {
		if d.Day() == 30 {
			t.Errorf("tick %v on the day 01:30 does not exist", d)
		}
	}
	if len(days) != 2 {
		t.Errorf("ticks around the gap = %v, want 2", days)
	}
}

func TestEvery(t *testing.T) {
	t.Parallel()
	tt := mustParse(t, "@every 15m", nil)
	if got := tt.Next(utc("2025-01-01T10:07:00Z")); !got.Equal(utc("2025-01-01T10:15:00Z")) {
		t.Errorf("Next = %v, want 10:15 (anchored at the epoch)", got)
	}
	if got := tt.Prev(utc("2025-01-01T10:15:00Z")); !got.Equal(utc("2025-01-01T10:15:00Z")) {
		t.Errorf("Prev on a tick = %v, want the tick itself", got)
	}
	if !tt.IsTick(utc("2025-01-01T10:30:00Z")) || tt.IsTick(utc("2025-01-01T10:31:00Z")) {
		t.Error("IsTick disagrees with the 15 minute grid")
	}
}
