package temporal

import (
	"errors"
	"fmt"
	"os"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// WorkerOptions are what NewWorker needs besides its client.
type WorkerOptions struct {
	TaskQueue string // "" : DefaultTaskQueue
	// Identity names the worker in Temporal and in stage results (""
	// : the SDK's default, pid@host).
	Identity string
	// MaxStages bounds the stages the worker runs at once (0: the SDK's
	// default).
	MaxStages  int
	Activities *Activities
}

// NewWorker returns a worker on the client's namespace that runs sluice
// workflows and stage activities from the task queue; Start or Run it,
// and Stop it when done. It returns an error when the options lack the
// catalog or the artifact store.
func NewWorker(c client.Client, o WorkerOptions) (worker.Worker, error) {
	if o.Activities == nil || o.Activities.Registry == nil {
		return nil, errors.New("temporal worker: no stage catalog")
	}
	if o.Activities.Artifacts == nil {
		return nil, errors.New("temporal worker: no artifact store")
	}
	if o.Identity == "" {
		host, _ := os.Hostname()
		o.Identity = fmt.Sprintf("%d@%s", os.Getpid(), host)
	}
	if o.Activities.Identity == "" {
		o.Activities.Identity = o.Identity
	}
	q := o.TaskQueue
	if q == "" {
		q = DefaultTaskQueue
	}
	w := worker.New(c, q, worker.Options{
		Identity:                           o.Identity,
		MaxConcurrentActivityExecutionSize: o.MaxStages,
		// Heartbeats reach the server about once a second whatever the
		// heartbeat timeout, so a cancelled run stops its stages (and
		// the client shows progress) within about a second.
		MaxHeartbeatThrottleInterval: time.Second,
	})
	Register(w, o.Activities)
	return w, nil
}

// Register registers sluice's workflows and activities, under their
// names, with a worker (or a test environment).
func Register(r worker.Registry, a *Activities) {
	RegisterWorkflows(r)
	r.RegisterActivityWithOptions(a.Stage, activity.RegisterOptions{Name: ActivityStage})
	r.RegisterActivityWithOptions(a.Plan, activity.RegisterOptions{Name: ActivityPlan})
	registerFanOut(r, a)
}

// RegisterWorkflows registers sluice's workflows, under their names,
// with a worker or a replayer.
func RegisterWorkflows(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(PipelineWorkflow, workflow.RegisterOptions{Name: WorkflowName})
	r.RegisterWorkflowWithOptions(ScheduledWorkflow, workflow.RegisterOptions{Name: ScheduledWorkflowName})
	r.RegisterWorkflowWithOptions(ChunkWorkflow, workflow.RegisterOptions{Name: WorkflowChunk})
}
