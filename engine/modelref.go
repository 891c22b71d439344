package engine

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ModelRef is a model address: RUN (a run number or latest), RUN:STAGE,
// or NAME@ALIAS, where NAME is a pipeline name and ALIAS a name given
// with `sluice alias set` (NAME@latest is the pipeline's newest
// successful run with a model).
type ModelRef struct {
	Run    int64 // 0 with Latest, or with an alias
	Latest bool  // "latest": the newest run in the store
	Stage  string
	Name   string // NAME@ALIAS
	Alias  string
}

// LatestAlias is the alias every pipeline has: its newest successful run
// with a model.
const LatestAlias = "latest"

var aliasPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// CheckAlias returns an error for an alias that is not lower-case letters,
// digits, '.', '_' and '-' (starting with a letter or digit).
func CheckAlias(alias string) error {
	if len(alias) > 64 || !aliasPattern.MatchString(alias) {
		return fmt.Errorf("alias %q: want lower-case letters, digits, '.', '_' or '-' (like champion or v2)", alias)
	}
	return nil
}

// ParseModelRef reads a model address. It returns an error saying which
// forms are accepted when s is none of them.
func ParseModelRef(s string) (ModelRef, error) {
	bad := func(why string) (ModelRef, error) {
		return ModelRef{}, fmt.Errorf("model %q: %s (want RUN, RUN:STAGE or NAME@ALIAS, like 3, 3:model or iris@champion)", s, why)
	}
	if name, alias, ok := strings.Cut(s, "@"); ok {
		if name == "" {
			return bad("no pipeline name before @")
		}
		if err := CheckAlias(alias); err != nil {
			return bad(err.Error())
		}
		return ModelRef{Name: name, Alias: alias}, nil
	}
	run, stage, hasStage := strings.Cut(s, ":")
	var r ModelRef
	if strings.EqualFold(run, "latest") {
		r.Latest = true
	} else {
		n, err := strconv.ParseInt(run, 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != run {
			return bad("not a run number")
		}
		r.Run = n
	}
	if hasStage {
		if !idPattern.MatchString(stage) {
			return bad("not a stage id")
		}
		r.Stage = stage
	}
	return r, nil
}

// String writes the address back.
func (r ModelRef) String() string {
	if r.Alias != "" {
		return r.Name + "@" + r.Alias
	}
	s := "latest"
	if !r.Latest {
		s = strconv.FormatInt(r.Run, 10)
	}
	if r.Stage != "" {
		s += ":" + r.Stage
	}
	return s
}

// ModelStage returns the stage whose fitted model the run gives for
// stage: stage itself when it has one, or, for "", the last model in the
// run's order (the stage that fitted it when that is an export_model
// stage passing a model through). It returns an error wrapping
// ErrNotFound when there is no such model.
func (r *Run) ModelStage(stage string) (string, error) {
	var candidates []string
	for _, s := range r.Stages {
		for _, a := range s.Artifacts {
			if a.Name == "model" {
				candidates = append(candidates, s.ID)
			}
		}
	}
	if len(candidates) == 0 {
		return "", fmt.Errorf("run %d has no fitted model: %w", r.ID, ErrNotFound)
	}
	if stage == "" {
		stage = candidates[len(candidates)-1]
		for _, s := range r.Stages {
			if s.ID == stage && s.Uses == "export_model" && len(s.Needs) == 1 {
				if st, ok := r.Stage(s.Needs[0]); ok && hasModel(st) {
					stage = s.Needs[0]
				}
			}
		}
		return stage, nil
	}
	for _, c := range candidates {
		if c == stage {
			return stage, nil
		}
	}
	return "", fmt.Errorf("run %d has no model from stage %q (models: %s): %w", r.ID, stage, strings.Join(candidates, ", "), ErrNotFound)
}

func hasModel(s *StageRun) bool {
	for _, a := range s.Artifacts {
		if a.Name == "model" {
			return true
		}
	}
	return false
}

// Alias is a name for one run's model, like iris@champion, with the
// history of where it pointed.
type Alias struct {
	Name    string        `json:"name"` // the pipeline
	Alias   string        `json:"alias"`
	Run     int64         `json:"run"`
	Stage   string        `json:"stage"`
	Set     time.Time     `json:"set"`
	History []AliasChange `json:"history"` // oldest first, the current setting last
}

// AliasChange is one `alias set` or `alias rm`.
type AliasChange struct {
	Run     int64     `json:"run,omitempty"`
	Stage   string    `json:"stage,omitempty"`
	Time    time.Time `json:"time"`
	Removed bool      `json:"removed,omitempty"`
}
