package engine

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Trigger is how a run was started. The names are persisted in the store.
type Trigger string

// Triggers.
const (
	TriggerManual   Trigger = "manual"   // sluice run, the workbench
	TriggerSchedule Trigger = "schedule" // sluice schedule, when an interval came due
	TriggerBackfill Trigger = "backfill" // sluice backfill
	TriggerFile     Trigger = "trigger"  // sluice schedule, when a watched file settled
)

// RunContext is the run that a pipeline's parameters are resolved for:
// how it was started and the logical time it stands for. A zero
// RunContext means "validation only": templates resolve against the
// current time and a templated input file that does not exist yet is not
// an error.
type RunContext struct {
	Trigger       Trigger
	Logical       time.Time // the interval's start; for a manual run, its start
	IntervalStart time.Time
	IntervalEnd   time.Time
	File          string // the file that triggered the run, relative to the pipeline's folder
}

// ManualRunAt is the context of a run started by hand that stands for the
// logical time logical: for a pipeline with a schedule, the interval that
// starts there (as `airflow dags test` does).
func (s *Spec) ManualRunAt(logical time.Time) RunContext {
	rc := RunContext{Trigger: TriggerManual, Logical: logical, IntervalStart: logical, IntervalEnd: logical}
	if tt := s.Automation.Schedule; tt != nil {
		rc.IntervalEnd = tt.Next(logical)
	}
	return rc
}

// ManualRun is the context of a run started by hand at now: its logical
// time and data interval are now.
func ManualRun(now time.Time) RunContext {
	now = now.UTC().Truncate(time.Second)
	return RunContext{Trigger: TriggerManual, Logical: now, IntervalStart: now, IntervalEnd: now}
}

// ValidateOnly reports whether the context is the zero "validation only" one.
func (rc RunContext) ValidateOnly() bool { return rc.Trigger == "" }

// templateVars are the names a parameter can refer to as {{ name }}.
var templateVars = []string{"ds", "ds_nodash", "ts", "ts_nodash", "logical_date", "data_interval_start", "data_interval_end", "trigger.kind", "trigger.file"}

// Vars returns the template variables of the context, with dates and
// times in loc (nil: UTC).
func (rc RunContext) Vars(loc *time.Location) map[string]string {
	if loc == nil {
		loc = time.UTC
	}
	l := rc.Logical
	if l.IsZero() {
		l = time.Now().UTC().Truncate(time.Second)
	}
	start, end := rc.IntervalStart, rc.IntervalEnd
	if start.IsZero() {
		start = l
	}
	if end.IsZero() {
		end = l
	}
	l, start, end = l.In(loc), start.In(loc), end.In(loc)
	kind := string(rc.Trigger)
	if kind == "" {
		kind = string(TriggerManual)
	}
	return map[string]string{
		"ds":                  l.Format("2006-01-02"),
		"ds_nodash":           l.Format("20060102"),
		"ts":                  l.Format(time.RFC3339),
		"ts_nodash":           l.Format("20060102T150405"),
		"logical_date":        l.Format(time.RFC3339),
		"data_interval_start": start.Format(time.RFC3339),
		"data_interval_end":   end.Format(time.RFC3339),
		"trigger.kind":        kind,
		"trigger.file":        rc.File,
	}
}

var templateRef = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Resolve works out every {{ name }} in the stages' string parameters
// (including inside lists and mappings) for rc, and remembers rc as the
// spec's Context. The parameters as written (With) keep their templates;
// Param and the plan see the resolved values. Unknown names are errors at
// the parameter's position; so is {{ trigger.file }} in a run that no file
// started (outside validation).
func (s *Spec) Resolve(rc RunContext) error {
	if rc.Trigger == TriggerManual && rc.File == "" && s.Automation.Trigger != nil {
		// By hand, a triggered pipeline runs on the newest file its
		// trigger matches.
		rc.File = s.Automation.Trigger.Newest(s.Dir)
	}
	s.Context = rc
	for _, st := range s.Stages {
		st.resolved = nil
	}
	vars := rc.Vars(s.Automation.Location)
	var errs ErrorList
	for _, st := range s.Stages {
		for _, name := range sortedKeys(st.With) {
			used := false
			var bad []string
			v := resolveValue(st.With[name], func(ref string) (string, bool) {
				used = true
				val, ok := vars[ref]
				if ok && ref == "trigger.file" && rc.File == "" {
					if rc.ValidateOnly() && s.Automation.Trigger != nil {
						return s.Automation.Trigger.Glob, true
					}
					if s.Automation.Trigger != nil {
						bad = append(bad, fmt.Sprintf("{{ trigger.file }}: no file matches the trigger's %s yet", s.Automation.Trigger.Glob))
					} else {
						bad = append(bad, "{{ trigger.file }} is set only for a run started by a file trigger (trigger: under sluice schedule)")
					}
					return "", false
				}
				if !ok {
					msg := fmt.Sprintf("unknown template variable {{ %s }}", ref)
					if d := didYouMean(ref, templateVars); d != "" {
						msg += fmt.Sprintf(" (did you mean {{ %s }}?)", d)
					} else {
						msg += " (known: " + strings.Join(templateVars, ", ") + ")"
					}
					bad = append(bad, msg)
				}
				return val, ok
			})
			for _, msg := range bad {
				label := fmt.Sprintf("stage %s parameter %s: ", st.ID, name)
				errs = append(errs, &SpecError{File: s.File, Pos: st.WithPos[name], Msg: label + msg, Err: ErrInvalid})
			}
			if used {
				if st.resolved == nil {
					st.resolved = map[string]any{}
				}
				st.resolved[name] = v
			}
		}
	}
	if len(errs) > 0 {
		return errs.sorted()
	}
	return nil
}

// Param returns a parameter's value as the run sees it: with its
// templates resolved by the last Spec.Resolve.
func (st *StageSpec) Param(name string) (any, bool) {
	if v, ok := st.resolved[name]; ok {
		return v, true
	}
	v, ok := st.With[name]
	return v, ok
}

// Templated reports whether a parameter's value as written refers to a
// template variable.
func (st *StageSpec) Templated(name string) bool {
	_, ok := st.resolved[name]
	return ok
}

// resolveValue substitutes template references in strings found in v.
func resolveValue(v any, lookup func(string) (string, bool)) any {
	switch x := v.(type) {
	case string:
		if !strings.Contains(x, "{{") {
			return x
		}
		return templateRef.ReplaceAllStringFunc(x, func(m string) string {
			ref := strings.TrimSpace(m[2 : len(m)-2])
			if val, ok := lookup(ref); ok {
				return val
			}
			return m
		})
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolveValue(e, lookup)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = resolveValue(e, lookup)
		}
		return out
	}
	return v
}

// setContext records how the run was started and its logical time; a run
// resolved for validation only counts as manual, at its start.
func (r *Run) setContext(rc RunContext) {
	if rc.ValidateOnly() {
		rc = ManualRun(r.Started)
	}
	r.Trigger = rc.Trigger
	r.LogicalTime = rc.Logical.UTC()
	r.IntervalStart = rc.IntervalStart.UTC()
	r.IntervalEnd = rc.IntervalEnd.UTC()
	r.TriggerFile = rc.File
}
