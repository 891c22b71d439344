package engine

import (
	"fmt"
	"time"
)

// Status is the state of a run or a stage. The numbers are persisted in
// the store; do not renumber. JSON carries the name.
type Status uint8

// Statuses.
const (
	StatusPending     Status = 0 // not started
	StatusRunning     Status = 1 // started, not finished
	StatusSucceeded   Status = 2 // finished without error
	StatusFailed      Status = 3 // finished with an error (after retries)
	StatusCancelled   Status = 4 // stopped by cancellation or a timeout of the run
	StatusSkipped     Status = 5 // not run because an input failed
	StatusInterrupted Status = 6 // its process died while it ran
	StatusCached      Status = 7 // outputs reused from an earlier identical stage
)

var statusNames = [...]string{"pending", "running", "succeeded", "failed", "cancelled", "skipped", "interrupted", "cached"}

// String names the status.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", s)
}

// ParseStatus reads a status name.
func ParseStatus(name string) (Status, error) {
	for i, n := range statusNames {
		if n == name {
			return Status(i), nil
		}
	}
	return 0, fmt.Errorf("unknown status %q", name)
}

// MarshalText writes the status name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a status name.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Done reports whether the status is final.
func (s Status) Done() bool {
	switch s {
	case StatusPending, StatusRunning:
		return false
	case StatusSucceeded, StatusFailed, StatusCancelled, StatusSkipped, StatusInterrupted, StatusCached:
		return true
	}
	return true // not a status: nothing will change it
}

// Run is the record of one execution of a pipeline: what ran, with which
// parameters and data, and how each stage went. It is a full snapshot;
// logs, previews and artifacts are kept beside it in the store.
type Run struct {
	ID        int64                     `json:"id"` // 1, 2, 3… in a store
	Pipeline  string                    `json:"pipeline"`
	File      string                    `json:"file"`
	Dir       string                    `json:"dir,omitempty"` // the folder its relative paths resolved against
	Spec      string                    `json:"spec"`          // the pipeline file as run
	SpecHash  string                    `json:"spec_hash"`     // SHA-256 of Spec
	Seed      uint64                    `json:"seed"`
	Overrides []string                  `json:"overrides,omitempty"`
	Params    map[string]map[string]any `json:"params"` // stage → parameters after defaults and overrides
	Inputs    map[string]string         `json:"inputs"` // data file → SHA-256
	Status    Status                    `json:"status"`
	Started   time.Time                 `json:"started"`
	Finished  time.Time                 `json:"finished,omitzero"`
	Seconds   float64                   `json:"seconds"`
	Error     string                    `json:"error,omitempty"`
	Version   string                    `json:"version"`
	Host      string                    `json:"host,omitempty"` // the process running it,
	PID       int                       `json:"pid,omitempty"`  // to detect one that died
	Heartbeat time.Time                 `json:"heartbeat,omitzero"`
	Stages    []StageRun                `json:"stages"`
	// Sweep groups the runs of one parameter sweep (sluice run --sweep).
	Sweep string `json:"sweep,omitempty"`
	// Engine is what ran the stages: "" (runs recorded before engines
	// were named) or EngineLocal for this process, EngineTemporal for the
	// workers of a Temporal cluster; WorkflowID is then the workflow's id.
	Engine     string `json:"engine,omitempty"`
	WorkflowID string `json:"workflow_id,omitempty"`
	// Tags and Note are the user's annotations, kept by the store apart
	// from the record the executor writes, and filled in when read.
	Tags []string `json:"tags,omitempty"`
	Note string   `json:"note,omitempty"`

	// How the run was started and the logical time it stands for (the
	// start of its data interval; for a manual run, its start).
	Trigger       Trigger   `json:"trigger,omitempty"`
	LogicalTime   time.Time `json:"logical_time,omitzero"`
	IntervalStart time.Time `json:"data_interval_start,omitzero"`
	IntervalEnd   time.Time `json:"data_interval_end,omitzero"`
	TriggerFile   string    `json:"trigger_file,omitempty"`
}

// Engines a run's stages can run on (Run.Engine).
const (
	EngineLocal    = "local"
	EngineTemporal = "temporal"
)

// EngineName is the engine that ran the run: Engine, or EngineLocal for
// a run recorded before engines were named.
func (r *Run) EngineName() string {
	if r.Engine == "" {
		return EngineLocal
	}
	return r.Engine
}

// TriggerKind is how the run was started; runs recorded before triggers
// existed were started by hand.
func (r *Run) TriggerKind() Trigger {
	if r.Trigger == "" {
		return TriggerManual
	}
	return r.Trigger
}

// Logical is the run's logical time: the one recorded, or its start for a
// run recorded before logical times existed.
func (r *Run) Logical() time.Time {
	if r.LogicalTime.IsZero() {
		return r.Started
	}
	return r.LogicalTime
}

// Stage returns the record of the stage with the given id.
func (r *Run) Stage(id string) (*StageRun, bool) {
	for i := range r.Stages {
		if r.Stages[i].ID == id {
			return &r.Stages[i], true
		}
	}
	return nil, false
}

// StageRun is one stage's part of a Run.
type StageRun struct {
	ID          string             `json:"id"`
	Uses        string             `json:"uses"`
	Needs       []string           `json:"needs,omitempty"`
	Kind        Kind               `json:"kind"` // what it gives
	Status      Status             `json:"status"`
	Attempts    int                `json:"attempts"`
	Started     time.Time          `json:"started,omitzero"`
	Finished    time.Time          `json:"finished,omitzero"`
	Seconds     float64            `json:"seconds"`
	Seed        uint64             `json:"seed"`
	Fingerprint string             `json:"fingerprint"`           // the stage-cache key
	Reason      string             `json:"reason,omitempty"`      // why it ran, or "cached from run N"
	CachedFrom  int64              `json:"cached_from,omitempty"` // the run whose result it reused (status cached)
	Reads       map[string]string  `json:"reads,omitempty"`       // files it read, as written → SHA-256
	Writes      map[string]string  `json:"writes,omitempty"`      // files it wrote, as written → SHA-256
	Progress    Progress           `json:"progress"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	Error       string             `json:"error,omitempty"`
	Artifacts   []ArtifactInfo     `json:"artifacts,omitempty"`
	Rows        int                `json:"rows,omitempty"` // table outputs
	Cols        int                `json:"cols,omitempty"`
}

// Progress is how far a stage is: Done of Total Units (Total 0: unknown).
type Progress struct {
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	Unit  string `json:"unit,omitempty"`
	// Phase names what the stage is doing when that is not the counted
	// work itself ("encoding model", "refitting best"); "" while it does
	// the counted work.
	Phase string `json:"phase,omitempty"`
}

// LogLine is one line a stage logged.
type LogLine struct {
	Stage  string    `json:"stage"`
	Time   time.Time `json:"time"`
	Stream string    `json:"stream,omitempty"` // "stdout", "stderr" or "" for the stage's own
	Text   string    `json:"text"`
	// Fold is set on the line a tuning stage logs for each finished
	// cross-validation fold of a candidate: the data behind Text, kept as
	// data so the workbench builds its leaderboard without reading text.
	Fold *CandidateFold `json:"fold,omitempty"`
}

// Preview is a table output at a glance: its first rows and a summary of
// each column.
type Preview struct {
	Stage   string          `json:"stage"`
	Rows    int             `json:"rows"`
	Cols    int             `json:"cols,omitempty"` // all columns; Columns and Head show at most PreviewCols
	Columns []ColumnSummary `json:"columns"`
	Head    [][]string      `json:"head"` // first rows, formatted
}

// ColumnSummary describes one column of a table output.
type ColumnSummary struct {
	Name    string     `json:"name"`
	Type    string     `json:"type"`
	Count   int        `json:"count"` // non-missing values
	Missing int        `json:"missing"`
	Mean    *float64   `json:"mean,omitempty"`
	Std     *float64   `json:"std,omitempty"`
	Min     *float64   `json:"min,omitempty"`
	Max     *float64   `json:"max,omitempty"`
	Unique  int        `json:"unique,omitempty"`
	Top     []TopValue `json:"top,omitempty"`
}

// TopValue is a frequent value of a column and how often it occurs.
type TopValue struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Artifact is a file a stage keeps beside its output value (the exported
// model file, a search's results), serialised. The executor writes its
// bytes to the artifact store and records only its ArtifactInfo.
type Artifact struct {
	ArtifactInfo
	Data []byte `json:"-"`
}

// ArtifactInfo describes an artifact without its bytes: it is the
// reference run records keep. SHA256 is the key of the bytes in the
// artifact store.
type ArtifactInfo struct {
	Stage  string `json:"stage"`
	Name   string `json:"name"` // OutputArtifact, "model", "search"
	Kind   Kind   `json:"kind,omitempty"`
	Format string `json:"format"`
	SHA256 string `json:"sha256"`
	Size   int    `json:"size"`
	// Parts are the keys of the blobs this one refers to inside its
	// bytes, at any depth (a split's train and test tables): a garbage
	// collector keeps them as long as it keeps this one.
	Parts []string `json:"parts,omitempty"`
}
