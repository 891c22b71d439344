package temporal

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"go.temporal.io/sdk/activity"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/sluice-ml/sluice/engine"
)

// This file is the worker's side of a fan-out stage (fanout.go has the
// workflows): the activities that list a stage's units and run a few of
// them, from the stage's inputs read through the artifact store.

// Units is the activity "sluice.units": it lists a fan-out stage's units,
// unless an earlier result stands in for the stage.
func (a *Activities) Units(ctx context.Context, task StageTask) (UnitsResult, error) {
	attempt := int(activity.GetInfo(ctx).Attempt)
	if task.Reusable && task.Fingerprint != "" {
		if r, ok := a.lookup(ctx, task); ok {
			r.Attempt, r.Worker = 1, a.Identity
			return UnitsResult{Cached: &r}, nil
		}
	}
	plan, ps, inputs, err := a.stageInputs(ctx, task)
	if err != nil {
		return UnitsResult{}, err
	}
	var res UnitsResult
	var mu sync.Mutex
	sc := engine.NewUnitContext(plan, ps, inputs, attempt, a.Version, func(e engine.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case engine.EventLog:
			e.Line.Text = cutLine(e.Line.Text)
			res.Logs = append(res.Logs, e.Line)
		case engine.EventProgress:
			res.Progress = e.Progress
		case engine.EventRunStarted, engine.EventStageStarted, engine.EventStageFinished, engine.EventRunFinished:
			// a unit context publishes only its log lines and progress
		}
	})
	units, err := ps.Type.FanOut.Units(ctx, sc)
	if err != nil {
		return UnitsResult{}, a.stageFailure(ctx, task, attempt, err)
	}
	total := 0
	for i, u := range units {
		if len(u) > engine.MaxUnitBytes {
			return UnitsResult{}, sdktemporal.NewNonRetryableApplicationError(
				fmt.Sprintf("unit %d: descriptor of %d bytes (at most %d)", i+1, len(u), engine.MaxUnitBytes), ErrTypeStage, nil)
		}
		total += len(u)
	}
	if total > maxResults {
		return UnitsResult{}, sdktemporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%d units whose descriptors take %d bytes, more than the %d a payload may carry: split the search", len(units), total, maxResults), ErrTypeStage, nil)
	}
	mu.Lock()
	defer mu.Unlock()
	res.Units, res.Timeout = units, ps.Spec.Timeout
	res.Progress.Done = 0
	return res, nil
}

// Unit is the activity "sluice.unit": it runs a few units of a fan-out
// stage one after another, heartbeating while it runs. The stage's inputs
// and plan are decoded once per worker, not once per unit (fanOutCaches).
func (a *Activities) Unit(ctx context.Context, ut UnitTask) (UnitResult, error) {
	attempt := int(activity.GetInfo(ctx).Attempt)
	plan, ps, inputs, err := a.stageInputs(ctx, ut.Task)
	if err != nil {
		return UnitResult{}, err
	}
	stopBeat := a.heartbeat(ctx, func() any { return ut.Index })
	var res UnitResult
	var mu sync.Mutex
	sc := engine.NewUnitContext(plan, ps, inputs, attempt, a.Version, func(e engine.Event) {
		if e.Kind == engine.EventLog {
			mu.Lock()
			e.Line.Text = cutLine(e.Line.Text)
			res.Logs = append(res.Logs, e.Line)
			mu.Unlock()
		}
	})
	defer stopBeat()
	results := make([]json.RawMessage, len(ut.Units))
	for k, u := range ut.Units {
		r, err := ps.Type.FanOut.RunUnit(ctx, sc, u)
		if err != nil {
			if ctx.Err() != nil {
				return UnitResult{}, ctx.Err()
			}
			return UnitResult{}, a.stageFailure(ctx, ut.Task, attempt, fmt.Errorf("unit %d: %w", ut.Index+k+1, err))
		}
		if len(r) > engine.MaxUnitBytes {
			return UnitResult{}, sdktemporal.NewNonRetryableApplicationError(
				fmt.Sprintf("unit %d: result of %d bytes (at most %d)", ut.Index+k+1, len(r), engine.MaxUnitBytes), ErrTypeStage, nil)
		}
		results[k] = r
	}
	mu.Lock()
	defer mu.Unlock()
	res.Results = results
	return res, nil
}

// stageFailure is a stage's error as an activity's: retryable while the
// attempt is within the stage's retries.
func (a *Activities) stageFailure(ctx context.Context, task StageTask, attempt int, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if attempt > task.Retries {
		return sdktemporal.NewNonRetryableApplicationError(err.Error(), ErrTypeStage, nil)
	}
	return sdktemporal.NewApplicationError(err.Error(), ErrTypeStage)
}

// stageInputs gives a fan-out activity the stage's plan and its decoded
// inputs, from this process's caches when an earlier unit of the same
// run already made them.
func (a *Activities) stageInputs(ctx context.Context, task StageTask) (*engine.Plan, *engine.PlannedStage, []engine.Value, error) {
	plan, err := a.caches.plans.get(ctx, sourceKey(task.Source), 0, cachedPlans, 0, func() (any, error) { return task.Source.Plan(a.Registry) })
	if err != nil {
		return nil, nil, nil, sdktemporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the pipeline does not validate on worker %s: %v", a.Identity, err), ErrTypeInvalid, nil)
	}
	p := plan.(*engine.Plan)
	ps, ok := p.Stage(task.Stage)
	if !ok || ps.Type.FanOut == nil {
		return nil, nil, nil, sdktemporal.NewNonRetryableApplicationError(
			fmt.Sprintf("stage %s is not a fan-out stage on worker %s", task.Stage, a.Identity), ErrTypeInvalid, nil)
	}
	if len(task.Inputs) != len(ps.Inputs) {
		return nil, nil, nil, sdktemporal.NewNonRetryableApplicationError(
			fmt.Sprintf("stage %s: %d inputs given, it reads %d", task.Stage, len(task.Inputs), len(ps.Inputs)), ErrTypeInvalid, nil)
	}
	ex := &engine.Executor{Version: a.Version, Artifacts: a.Artifacts}
	inputs := make([]engine.Value, len(task.Inputs))
	for i, ref := range task.Inputs {
		v, err := a.caches.values.get(ctx, ref.SHA256, int64(ref.Size), cachedInputs, cachedInputBytes, func() (any, error) { return ex.LoadOutput(ctx, p, ref) })
		if err != nil {
			return nil, nil, nil, sdktemporal.NewApplicationError(fmt.Sprintf("input %s: %v", ps.Inputs[i], err), ErrTypeStage)
		}
		inputs[i] = v.(engine.Value)
	}
	return p, ps, inputs, nil
}

// registerFanOut registers the fan-out's activities (RegisterWorkflows
// registers its child workflow).
func registerFanOut(r worker.ActivityRegistry, a *Activities) {
	r.RegisterActivityWithOptions(a.Units, activity.RegisterOptions{Name: ActivityUnits})
	r.RegisterActivityWithOptions(a.Unit, activity.RegisterOptions{Name: ActivityUnit})
	r.RegisterActivityWithOptions(a.Stage, activity.RegisterOptions{Name: ActivityReduce})
}
