// Package timetable reads a pipeline's schedule — a five-field cron
// expression, an Airflow preset (@hourly, @daily, @weekly, @monthly,
// @yearly) or @every DURATION — in a time zone, and answers when its
// intervals start and end.
//
// # Overview
//
// A schedule cuts time into data intervals, as Airflow does: the ticks
// T0 < T1 < T2 … of the expression bound the intervals [T0, T1), [T1, T2)…
// A run stands for one interval; its logical time is the interval's start,
// and it becomes due when the interval ends. So the @daily run for
// 2025-03-01 (logical time 2025-03-01T00:00) is due at 2025-03-02T00:00.
//
// Cron expressions are parsed by github.com/robfig/cron/v3 and evaluated in
// the schedule's time zone, so "0 9 * * *" in Europe/London fires at 09:00
// local time on both sides of a daylight-saving change (the interval over
// the change is 23 or 25 hours long). A local time that does not exist on
// a spring-forward day is skipped, and one that occurs twice on a
// fall-back day fires once. @every ticks are anchored at the Unix epoch
// (k × DURATION after 1970-01-01T00:00Z), not at the time a scheduler
// started, so every process agrees on them.
//
// # Errors
//
// Parse returns a *ParseError naming the field of a cron expression that
// is wrong (minute, hour, day of month, month, day of week).
//
// # Concurrency
//
// A Timetable is immutable and safe for concurrent use.
package timetable
