package engine

import "fmt"

// RerunPlan rebuilds the plan of a recorded run from the pipeline file as
// it was run (its text, kept with the run), the --set overrides it was
// given and its trigger and logical time (so templates resolve as they
// did), so that the same work can run again. Relative paths resolve
// against the folder they resolved against then. The file is validated
// against reg as LoadPlan does, with the same errors; a run recorded
// without its file gives an error wrapping ErrNotFound.
func RerunPlan(r *Run, reg *Registry) (*Plan, error) {
	if r.Spec == "" {
		return nil, fmt.Errorf("run %d did not record its pipeline file: %w", r.ID, ErrNotFound)
	}
	spec, err := ParseSpec(r.File, []byte(r.Spec))
	if err != nil {
		return nil, err
	}
	if r.Dir != "" {
		spec.Dir = r.Dir
	}
	overrides := make([]Override, 0, len(r.Overrides))
	for _, text := range r.Overrides {
		o, err := ParseOverride(text)
		if err != nil {
			return nil, fmt.Errorf("run %d: recorded override: %w", r.ID, err)
		}
		overrides = append(overrides, o)
	}
	if err := spec.Apply(overrides); err != nil {
		return nil, err
	}
	// The same logical time and trigger, so that templates resolve to
	// the same values.
	rc := RunContext{Trigger: r.TriggerKind(), Logical: r.Logical(), IntervalStart: r.IntervalStart, IntervalEnd: r.IntervalEnd, File: r.TriggerFile}
	if rc.IntervalStart.IsZero() {
		rc.IntervalStart = rc.Logical
	}
	if rc.IntervalEnd.IsZero() {
		rc.IntervalEnd = rc.Logical
	}
	spec.Context = rc
	return Validate(spec, reg)
}
