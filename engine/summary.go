package engine

import "time"

// RunSummary is the part of a run that listings show, small enough that
// thousands of them read quickly.
type RunSummary struct {
	ID       int64     `json:"id"`
	Pipeline string    `json:"pipeline"`
	File     string    `json:"file,omitempty"`
	SpecHash string    `json:"spec_hash,omitempty"`
	Status   Status    `json:"status"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	Seconds  float64   `json:"seconds"`
	Error    string    `json:"error,omitempty"` // the run's error, cut to 500 bytes
	Stages   int       `json:"stages"`          // how many stages the run has
	Done     int       `json:"done"`            // how many of them have finished
	// MetricStage is the last stage (in the run's order) that reported
	// metrics, and Metrics are its metrics: the run's headline scores.
	MetricStage string             `json:"metric_stage,omitempty"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	// Params are the stages' parameters after defaults and overrides
	// (stage → name → value), for queries on them.
	Params map[string]map[string]any `json:"params,omitempty"`
	// Sweep groups the runs of one parameter sweep.
	Sweep string `json:"sweep,omitempty"`
	// Engine and WorkflowID say where the stages ran (see Run).
	Engine     string `json:"engine,omitempty"`
	WorkflowID string `json:"workflow_id,omitempty"`
	// Tags and Note are the user's annotations (sluice tag, sluice note).
	Tags []string `json:"tags,omitempty"`
	Note string   `json:"note,omitempty"`
	// Trigger is how the run was started ("" for runs recorded before
	// triggers: manual) and LogicalTime the time it stands for.
	Trigger     Trigger   `json:"trigger,omitempty"`
	LogicalTime time.Time `json:"logical_time,omitzero"`
}

// TriggerKind is how the run was started.
func (s *RunSummary) TriggerKind() Trigger {
	if s.Trigger == "" {
		return TriggerManual
	}
	return s.Trigger
}

// Logical is the run's logical time (its start for an old record).
func (s *RunSummary) Logical() time.Time {
	if s.LogicalTime.IsZero() {
		return s.Started
	}
	return s.LogicalTime
}

// Summarize returns the summary of a run, as listings show it.
func Summarize(r *Run) RunSummary {
	s := RunSummary{
		ID:       r.ID,
		Pipeline: r.Pipeline,
		File:     r.File,
		SpecHash: r.SpecHash,
		Status:   r.Status,
		Started:  r.Started,
		Finished: r.Finished,
		Seconds:  r.Seconds,
		Error:    r.Error,
		Stages:   len(r.Stages),
		Params:   r.Params,
		Sweep:    r.Sweep,
		Tags:     r.Tags,

		Engine:     r.Engine,
		WorkflowID: r.WorkflowID,
		Note:       r.Note,

		Trigger:     r.Trigger,
		LogicalTime: r.LogicalTime,
	}
	if len(s.Error) > 500 {
		s.Error = s.Error[:500]
	}
	for i := range r.Stages {
		st := &r.Stages[i]
		if st.Status.Done() {
			s.Done++
		}
		if len(st.Metrics) > 0 {
			s.MetricStage, s.Metrics = st.ID, st.Metrics
		}
	}
	return s
}

// RunFilter selects runs from a listing.
type RunFilter struct {
	Pipeline string   // only runs of this pipeline; "": any
	Status   []Status // only runs with one of these statuses; empty: any
	Limit    int      // at most this many runs; 0: no limit
	Before   int64    // only runs numbered below this (for paging); 0: no bound
}

// Match reports whether the filter selects s (Limit aside).
func (f *RunFilter) Match(s *RunSummary) bool {
	if f.Pipeline != "" && s.Pipeline != f.Pipeline {
		return false
	}
	if f.Before > 0 && s.ID >= f.Before {
		return false
	}
	if len(f.Status) == 0 {
		return true
	}
	for _, st := range f.Status {
		if s.Status == st {
			return true
		}
	}
	return false
}
