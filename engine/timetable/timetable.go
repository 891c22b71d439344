package timetable

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Presets are the schedule shorthands accepted besides cron and @every,
// with the cron expression each stands for.
var Presets = map[string]string{
	"@hourly":   "0 * * * *",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@weekly":   "0 0 * * 0",
	"@monthly":  "0 0 1 * *",
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
}

// fieldNames names the five cron fields in order.
var fieldNames = [5]string{"minute", "hour", "day of month", "month", "day of week"}

// ParseError is a schedule that cannot be read. Field is the cron field at
// fault ("" when the whole expression is), Offset the byte offset of that
// field in the expression.
type ParseError struct {
	Expr   string
	Field  string
	Offset int
	Msg    string
}

func (e *ParseError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("schedule %q: %s field: %s", e.Expr, e.Field, e.Msg)
	}
	return fmt.Sprintf("schedule %q: %s", e.Expr, e.Msg)
}

// Timetable is a parsed schedule in a time zone.
type Timetable struct {
	expr  string
	loc   *time.Location
	spec  *cron.SpecSchedule // nil for @every
	every time.Duration
}

// parser reads standard five-field cron expressions.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// Parse reads a schedule expression, evaluated in loc (nil: UTC). It
// returns a *ParseError for an expression it cannot read.
func Parse(expr string, loc *time.Location) (*Timetable, error) {
	if loc == nil {
		loc = time.UTC
	}
	text := strings.TrimSpace(expr)
	t := &Timetable{expr: text, loc: loc}
	if text == "" {
		return nil, &ParseError{Expr: expr, Msg: "empty: want cron (5 fields), a preset like @daily, or @every DURATION"}
	}
	if strings.HasPrefix(text, "@every") {
		arg := strings.TrimSpace(strings.TrimPrefix(text, "@every"))
		d, err := time.ParseDuration(arg)
		switch {
		case arg == "":
			return nil, &ParseError{Expr: expr, Msg: "@every wants a duration, like @every 15m"}
		case err != nil:
			return nil, &ParseError{Expr: expr, Msg: fmt.Sprintf("@every %s: not a duration (like 90s, 15m or 6h)", arg)}
		case d < time.Second || d%time.Second != 0:
			return nil, &ParseError{Expr: expr, Msg: fmt.Sprintf("@every %s: want a whole number of seconds, at least 1s", arg)}
		}
		t.every = d
		return t, nil
	}
	if strings.HasPrefix(text, "@") {
		cronText, ok := Presets[text]
		if !ok {
			return nil, &ParseError{Expr: expr, Msg: "unknown preset: want @hourly, @daily, @weekly, @monthly, @yearly or @every DURATION"}
		}
		text = cronText
	} else if strings.HasPrefix(text, "TZ=") || strings.HasPrefix(text, "CRON_TZ=") {
		return nil, &ParseError{Expr: expr, Msg: "give the time zone with timezone:, not inside the expression"}
	}
	fields := strings.Fields(text)
	if len(fields) != 5 {
		return nil, &ParseError{Expr: expr, Msg: fmt.Sprintf("want 5 fields (minute hour day-of-month month day-of-week), got %d", len(fields))}
	}
	s, err := parser.Parse(text)
	if err != nil {
		return nil, fieldError(expr, fields, err)
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, &ParseError{Expr: expr, Msg: "not a cron schedule"}
	}
	spec.Location = loc
	t.spec = spec
	return t, nil
}

// fieldError finds which field made the parser fail by parsing each field
// alone among wildcards, and says so.
func fieldError(expr string, fields []string, err error) error {
	for i, f := range fields {
		probe := []string{"*", "*", "*", "*", "*"}
		probe[i] = f
		if _, perr := parser.Parse(strings.Join(probe, " ")); perr != nil {
			return &ParseError{Expr: expr, Field: fieldNames[i], Offset: fieldOffset(expr, i), Msg: fmt.Sprintf("%q: %v", f, perr)}
		}
	}
	return &ParseError{Expr: expr, Msg: err.Error()}
}

// fieldOffset is the byte offset of the i-th whitespace-separated field.
func fieldOffset(s string, i int) int {
	n := -1
	in := false
	for j, r := range s {
		space := r == ' ' || r == '\t'
		if !space && !in {
			n++
			if n == i {
				return j
			}
		}
		in = !space
	}
	return 0
}

// String returns the expression as written.
func (t *Timetable) String() string { return t.expr }

// Location is the time zone the schedule is evaluated in.
func (t *Timetable) Location() *time.Location { return t.loc }

// Next returns the first tick strictly after after, in the schedule's
// time zone; the zero time when there is none within five years.
func (t *Timetable) Next(after time.Time) time.Time {
	if t.every > 0 {
		u := after.Unix()
		step := int64(t.every / time.Second)
		k := floorDiv(u, step) + 1
		return time.Unix(k*step, 0).In(t.loc)
	}
	return t.spec.Next(after.In(t.loc))
}

// Prev returns the last tick at or before at; the zero time when there is
// none in the ten years before it.
func (t *Timetable) Prev(at time.Time) time.Time {
	if t.every > 0 {
		step := int64(t.every / time.Second)
		return time.Unix(floorDiv(at.Unix(), step)*step, 0).In(t.loc)
	}
	// Look back over a growing window for a tick, then walk forward to
	// the last one not after at.
	for w := time.Hour; w <= 10*366*24*time.Hour; w *= 2 {
		tick := t.Next(at.Add(-w))
		if tick.IsZero() || tick.After(at) {
			continue
		}
		for {
			n := t.Next(tick)
			if n.IsZero() || n.After(at) {
				return tick
			}
			tick = n
		}
	}
	return time.Time{}
}

// Interval returns the data interval whose logical time (start) is
// logical: [logical, Next(logical)).
func (t *Timetable) Interval(logical time.Time) (start, end time.Time) {
	return logical, t.Next(logical)
}

// IsTick reports whether at is a tick of the schedule.
func (t *Timetable) IsTick(at time.Time) bool {
	p := t.Prev(at)
	return !p.IsZero() && p.Equal(at)
}

// Latest returns the logical time of the newest interval that has ended
// at or before now, and that interval's end. ok is false when there is
// none.
func (t *Timetable) Latest(now time.Time) (logical, end time.Time, ok bool) {
	end = t.Prev(now)
	if end.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	logical = t.Prev(end.Add(-time.Nanosecond))
	if logical.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	return logical, end, true
}

// Due lists the logical times of the intervals that start after after and
// have ended at or before now, oldest first, at most limit of them (the
// newest limit when there are more). A zero after starts from Latest(now).
func (t *Timetable) Due(after, now time.Time, limit int) []time.Time {
	latest, _, ok := t.Latest(now)
	if !ok || (!after.IsZero() && !latest.After(after)) {
		return nil
	}
	if after.IsZero() {
		return []time.Time{latest}
	}
	var out []time.Time
	for l := t.Next(after); !l.IsZero() && !l.After(latest); l = t.Next(l) {
		out = append(out, l)
		if limit > 0 && len(out) > limit {
			out = out[1:]
		}
	}
	return out
}

// Between lists the logical times of the intervals that start within
// [from, to], oldest first.
func (t *Timetable) Between(from, to time.Time) []time.Time {
	var out []time.Time
	for l := t.Next(from.Add(-time.Nanosecond)); !l.IsZero() && !l.After(to); l = t.Next(l) {
		out = append(out, l)
	}
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
