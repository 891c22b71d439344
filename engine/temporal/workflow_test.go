package temporal_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"go.temporal.io/sdk/activity"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/temporal"
)

// The workflow runs what the graph says, in its order, with Temporal's
// test environment standing in for the server and the stage activity
// replaced: a cached stage does not run and its stored output feeds its
// dependents, a stage gets the outputs of its needs in order, a failure
// skips its dependents while an independent branch finishes, and the
// failed run's result rides on the workflow's error.
func TestWorkflowOrdersStages(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	temporal.RegisterWorkflows(env)
	var mu sync.Mutex
	tasks := map[string]temporal.StageTask{}
	env.RegisterActivityWithOptions(func(ctx context.Context, task temporal.StageTask) (temporal.StageResult, error) {
		mu.Lock()
		tasks[task.Stage] = task
		mu.Unlock()
		if task.Stage == "bad" {
			return temporal.StageResult{}, sdktemporal.NewNonRetryableApplicationError("boom", temporal.ErrTypeStage, nil,
				temporal.StageFailure{Attempt: 1, Logs: []engine.LogLine{{Stage: "bad", Text: "why it failed"}}})
		}
		return temporal.StageResult{Stage: task.Stage, Attempt: 1, Report: engine.StageReport{
			Artifacts: []engine.ArtifactInfo{{Stage: task.Stage, Name: engine.OutputArtifact, SHA256: "key-" + task.Stage}},
		}}, nil
	}, activity.RegisterOptions{Name: temporal.ActivityStage})

	in := temporal.RunInput{Stages: []temporal.StageNode{
		{ID: "load", Cached: true, Fingerprint: "f-load", Output: &engine.ArtifactInfo{Name: engine.OutputArtifact, SHA256: "key-load"}},
		{ID: "a", Needs: []string{"load"}, Fingerprint: "f-a"},
		{ID: "bad", Needs: []string{"load"}, Fingerprint: "f-bad"},
		{ID: "after", Needs: []string{"bad"}},
		{ID: "join", Needs: []string{"a", "load"}},
	}}
	env.ExecuteWorkflow(temporal.WorkflowName, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("the workflow did not complete")
	}
	err := env.GetWorkflowError()
	var app *sdktemporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != temporal.ErrTypeFailed {
		t.Fatalf("workflow error %v, want an ApplicationError of type %s", err, temporal.ErrTypeFailed)
	}
	var res temporal.RunResult
	if err := app.Details(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != engine.StatusFailed {
		t.Errorf("run status %s, want failed", res.Status)
	}
	got := map[string]temporal.StageOutcome{}
	for _, o := range res.Stages {
		got[o.Stage] = o
	}
	want := map[string]engine.Status{"a": engine.StatusSucceeded, "bad": engine.StatusFailed, "after": engine.StatusSkipped, "join": engine.StatusSucceeded}
	for id, st := range want {
		if got[id].Status != st {
			t.Errorf("%s: %s, want %s", id, got[id].Status, st)
		}
	}
	if _, ran := tasks["load"]; ran || len(got) != 4 {
		t.Errorf("outcomes %v: the cached stage load must not run, every other stage must end", res.Stages)
	}
	if o := got["bad"]; o.Error != "boom" || o.Attempt != 1 || len(o.Logs) != 1 || o.Logs[0].Text != "why it failed" {
		t.Errorf("bad: error %q attempt %d logs %v, want boom after 1 with its log", o.Error, o.Attempt, o.Logs)
	}
	join := tasks["join"]
	var keys []string
	for _, in := range join.Inputs {
		keys = append(keys, in.SHA256)
	}
	if !slices.Equal(keys, []string{"key-a", "key-load"}) || !slices.Equal(join.Upstream, []string{"f-a", "f-load"}) {
		t.Errorf("join got inputs %v upstream %v, want its needs' outputs and fingerprints in order", keys, join.Upstream)
	}
}

// A workflow that succeeds returns every stage's result, and a stage's
// retries become its activity's attempts: a stage failing once with
// retries: 1 succeeds on its second attempt.
func TestWorkflowRetries(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	temporal.RegisterWorkflows(env)
	env.RegisterActivityWithOptions(func(ctx context.Context, task temporal.StageTask) (temporal.StageResult, error) {
		n := int(activity.GetInfo(ctx).Attempt)
		if n == 1 {
			return temporal.StageResult{}, sdktemporal.NewApplicationError("first try", temporal.ErrTypeStage, temporal.StageFailure{Attempt: n})
		}
		return temporal.StageResult{Stage: task.Stage, Attempt: n}, nil
	}, activity.RegisterOptions{Name: temporal.ActivityStage})
	env.ExecuteWorkflow(temporal.WorkflowName, temporal.RunInput{Stages: []temporal.StageNode{{ID: "flaky", Retries: 1}}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res temporal.RunResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != engine.StatusSucceeded || len(res.Stages) != 1 || res.Stages[0].Attempt != 2 {
		t.Errorf("result %+v, want flaky succeeded on attempt 2", res)
	}
}
