package pipelines

import (
	"strings"
	"time"
)

// fileSubject is a pipeline file as queries see it: its path, name,
// description, stages and state as text; its last run's metrics and
// start; its stages' parameters as written.
type fileSubject struct{ f *file }

func (s fileSubject) Text() string {
	f := s.f
	parts := []string{f.path}
	if f.spec != nil {
		parts = append(parts, f.spec.Name, f.spec.Description)
		for _, st := range f.spec.Stages {
			parts = append(parts, st.ID, st.Uses)
		}
	}
	if f.checked && !f.valid() {
		parts = append(parts, "invalid", f.firstProblem())
	}
	return strings.ToLower(strings.Join(parts, " "))
}

func (s fileSubject) Metric(name string) (float64, bool) {
	if s.f.last == nil {
		return 0, false
	}
	v, ok := s.f.last.Metrics[name]
	return v, ok
}

func (s fileSubject) Param(stage, name string) (any, bool) {
	if s.f.spec == nil {
		return nil, false
	}
	for _, st := range s.f.spec.Stages {
		if st.ID == stage {
			v, ok := st.With[name]
			return v, ok
		}
	}
	return nil, false
}

func (s fileSubject) Field(k string) []string {
	f := s.f
	switch k {
	case "pipeline":
		if f.spec != nil {
			return []string{f.spec.Name}
		}
	case "status":
		var out []string
		switch {
		case !f.checked:
			out = append(out, "checking")
		case f.valid():
			out = append(out, "valid")
		default:
			out = append(out, "invalid")
		}
		if f.last != nil {
			out = append(out, f.last.Status.String())
		}
		return out
	case "uses":
		if f.spec != nil {
			var out []string
			for _, st := range f.spec.Stages {
				out = append(out, st.Uses)
			}
			return out
		}
	}
	return nil
}

func (s fileSubject) Time() time.Time {
	if s.f.last == nil {
		return time.Time{}
	}
	return s.f.last.Started
}
