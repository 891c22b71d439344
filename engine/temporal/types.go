package temporal

import (
	"encoding/json"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// Names registered with Temporal and the defaults of the command line.
const (
	WorkflowName     = "sluice.pipeline" // PipelineWorkflow
	ActivityStage    = "sluice.stage"    // Activities.Stage
	ActivityPlan     = "sluice.plan"     // Activities.Plan
	QueryState       = "sluice.state"    // the stages finished so far: []StageOutcome
	DefaultTaskQueue = "sluice"
	DefaultNamespace = "default"
)

// Source is the pipeline a run runs, as the client validated it: enough
// for a worker to rebuild the same plan with its own catalog
// (engine.RerunPlan), and small (the file's text, not its data).
type Source struct {
	Pipeline      string         `json:"pipeline"`
	File          string         `json:"file"`
	Dir           string         `json:"dir"`  // the folder relative paths resolve against, on every worker
	Spec          string         `json:"spec"` // the file's text as validated
	Overrides     []string       `json:"overrides,omitempty"`
	Trigger       engine.Trigger `json:"trigger,omitempty"`
	Logical       time.Time      `json:"logical,omitzero"`
	IntervalStart time.Time      `json:"interval_start,omitzero"`
	IntervalEnd   time.Time      `json:"interval_end,omitzero"`
	TriggerFile   string         `json:"trigger_file,omitempty"`
}

// SourceOf returns the source of a plan.
func SourceOf(plan *engine.Plan) Source {
	rc := plan.Spec.Context
	return Source{
		Pipeline: plan.Spec.Name, File: plan.Spec.File, Dir: plan.Spec.Dir, Spec: string(plan.Spec.Source),
		Overrides: plan.Spec.Overrides, Trigger: rc.Trigger, Logical: rc.Logical,
		IntervalStart: rc.IntervalStart, IntervalEnd: rc.IntervalEnd, TriggerFile: rc.File,
	}
}

// Plan rebuilds the validated plan of the source with the catalog reg:
// the same plan the client validated, resolved for the same logical time.
// Its errors are engine.Validate's.
func (s Source) Plan(reg *engine.Registry) (*engine.Plan, error) {
	return engine.RerunPlan(&engine.Run{
		File: s.File, Dir: s.Dir, Spec: s.Spec, Overrides: s.Overrides, Trigger: s.Trigger,
		LogicalTime: s.Logical, Started: s.Logical, IntervalStart: s.IntervalStart, IntervalEnd: s.IntervalEnd, TriggerFile: s.TriggerFile,
	}, reg)
}

// RunInput is the input of PipelineWorkflow.
type RunInput struct {
	Source Source `json:"source"`
	// Stages is the graph the client decided, in file order; empty, the
	// workflow plans it itself with the activity "sluice.plan".
	Stages  []StageNode `json:"stages,omitempty"`
	Options RunOptions  `json:"options"`
}

// RunOptions shape how the workflow runs the stages.
type RunOptions struct {
	NoCache       bool     `json:"no_cache,omitempty"`        // the plan activity: run every stage
	NoCacheStages []string `json:"no_cache_stages,omitempty"` // the plan activity: run these and their dependents
	// RetryBackoff is the delay before a stage's first retry, doubling
	// after, at most a minute (0: 1s, as a local run).
	RetryBackoff time.Duration `json:"retry_backoff,omitempty"`
	// HeartbeatTimeout is how long a stage's worker may fall silent
	// before the attempt is given up and retried elsewhere (0: 30s).
	HeartbeatTimeout time.Duration `json:"heartbeat_timeout,omitempty"`
	// MaxParallel bounds the stages running at once (0: no bound but
	// the workers' own).
	MaxParallel int `json:"max_parallel,omitempty"`
}

// StageNode is one stage of the workflow's graph.
type StageNode struct {
	ID          string        `json:"id"`
	Uses        string        `json:"uses"`
	Needs       []string      `json:"needs,omitempty"`
	Retries     int           `json:"retries,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"`
	Fingerprint string        `json:"fingerprint"`
	Reusable    bool          `json:"reusable,omitempty"` // a result stored under Fingerprint may stand in
	Late        bool          `json:"late,omitempty"`     // fingerprint computed when it starts
	FanOut      bool          `json:"fan_out,omitempty"`  // its type fans its work out (runFanOut)
	// Cached: an earlier result stands in and the stage does not run;
	// Output is that result's output (nil: none kept).
	Cached bool                 `json:"cached,omitempty"`
	Output *engine.ArtifactInfo `json:"output,omitempty"`
}

// NodesOf turns the stages a Tracker decided into the workflow's graph.
func NodesOf(stages []engine.RemoteStage) []StageNode {
	out := make([]StageNode, len(stages))
	for i, s := range stages {
		out[i] = StageNode{ID: s.ID, Uses: s.Uses, Needs: s.Inputs, Retries: s.Retries, Timeout: s.Timeout,
			Fingerprint: s.Fingerprint, Reusable: s.Reusable, Late: s.Late, FanOut: s.FanOut, Cached: s.Cached, Output: s.Output}
	}
	return out
}

// StageTask is the input of the activity "sluice.stage": which stage of
// which pipeline, and where its inputs are.
type StageTask struct {
	Source      Source                `json:"source"`
	Stage       string                `json:"stage"`
	Inputs      []engine.ArtifactInfo `json:"inputs,omitempty"`   // outputs of its needs, in order
	Upstream    []string              `json:"upstream,omitempty"` // fingerprints of its needs, in order
	Fingerprint string                `json:"fingerprint"`
	Reusable    bool                  `json:"reusable,omitempty"`
	Late        bool                  `json:"late,omitempty"`
	Retries     int                   `json:"retries,omitempty"` // attempts beyond the first for errors of the stage
	WorkflowID  string                `json:"workflow_id,omitempty"`
	// Results, for the activity "sluice.reduce" of a fan-out stage: its
	// units' results in unit order (see runFanOut).
	Results []json.RawMessage `json:"results,omitempty"`
}

// StageResult is the output of the activity "sluice.stage": references,
// metrics and small records only (a preview of at most
// engine.PreviewRows × engine.PreviewCols cells and at most MaxLogLines
// lines of log), far under Temporal's payload limit.
type StageResult struct {
	Stage  string             `json:"stage"`
	Report engine.StageReport `json:"report"`
	// Logs is the stage's log of the attempt that succeeded, at most
	// MaxLogLines lines of at most MaxLogLine bytes; Dropped counts the
	// lines left out.
	Logs    []engine.LogLine `json:"logs,omitempty"`
	Dropped int              `json:"dropped,omitempty"`
	Attempt int              `json:"attempt"`
	Worker  string           `json:"worker,omitempty"` // the worker's identity
	// Progress is the last progress the stage reported.
	Progress engine.Progress `json:"progress,omitzero"`
}

// Output returns the reference of the stage's output, if it kept one.
func (r *StageResult) Output() (engine.ArtifactInfo, bool) { return r.Report.Output() }

// Bounds of the log a StageResult carries: at most MaxLogLines lines of at
// most MaxLogLine bytes, MaxLogBytes in all; a StageFailure carries the
// last lines of the failed attempt within MaxFailureLogBytes. Far under
// Temporal's 2 MB payload limit, whatever a stage logs.
const (
	MaxLogLines        = 2000
	MaxLogLine         = 4096
	MaxLogBytes        = 256 << 10
	MaxFailureLogBytes = 64 << 10
)

// StageFailure rides as the details of a stage's error: the attempt that
// failed and the last lines it logged.
type StageFailure struct {
	Attempt int              `json:"attempt"`
	Logs    []engine.LogLine `json:"logs,omitempty"`
}

// StageOutcome is how one stage of a workflow ended.
type StageOutcome struct {
	Stage   string        `json:"stage"`
	Status  engine.Status `json:"status"`
	Error   string        `json:"error,omitempty"`
	Attempt int           `json:"attempt,omitempty"`
	Seconds float64       `json:"seconds,omitempty"`
	Result  *StageResult  `json:"result,omitempty"` // succeeded or cached by the activity
	// Logs are the last lines the failed attempt logged (status failed).
	Logs []engine.LogLine `json:"logs,omitempty"`
}

// RunResult is the result of PipelineWorkflow: how every stage ended, in
// the order they ended.
type RunResult struct {
	Status engine.Status  `json:"status"`
	Stages []StageOutcome `json:"stages"`
}

// Heartbeat is what a stage's activity reports about once a second:
// its progress and the latest lines of its log (Lines are the log's
// lines from index First on).
type Heartbeat struct {
	Progress engine.Progress  `json:"progress"`
	First    int              `json:"first"`
	Lines    []engine.LogLine `json:"lines,omitempty"`
}

// heartbeatLines is how many of the latest log lines a Heartbeat carries.
const heartbeatLines = 50
