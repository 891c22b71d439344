package ui

import (
	"context"
	"io"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// RunLister lists recorded runs, newest first.
type RunLister interface {
	Runs(ctx context.Context, f engine.RunFilter) ([]engine.RunSummary, error)
	Latest(ctx context.Context, pipeline string) (int64, error)
	Count(ctx context.Context) (int, error)
}

// RunReader reads one recorded run.
type RunReader interface {
	Run(ctx context.Context, id int64) (*engine.Run, error)
}

// OutputReader reads what a run's stages logged, produced and kept.
type OutputReader interface {
	Logs(ctx context.Context, run int64, stage string, from int) ([]engine.LogLine, error)
	Preview(ctx context.Context, run int64, stage string) (*engine.Preview, error)
	Artifacts(ctx context.Context, run int64) ([]engine.ArtifactInfo, error)
}

// Store is what the workbench reads from the run store. *store.DB
// satisfies it. Every call is made inside a tea.Cmd, never in Update.
type Store interface {
	RunLister
	RunReader
	OutputReader
}

// Importance is one feature's importance in a fitted model.
type Importance = engine.Importance

// ModelView is a fitted model as the Model screen shows it: the engine's
// one description of a model (engine.ModelDescription).
type ModelView = engine.ModelDescription

// ModelService describes and exports fitted models. The workbench cannot
// decode model files itself (that is the catalog's business), so the
// command line gives it one.
type ModelService interface {
	// DescribeModel returns the model a run's stage fitted, or an error
	// wrapping engine.ErrNotFound.
	DescribeModel(ctx context.Context, run int64, stage string) (*ModelView, error)
	// ExportModel writes the model to path, the same file `sluice export`
	// writes, and returns its SHA-256.
	ExportModel(ctx context.Context, run int64, stage, path string) (sha256 string, err error)
	// SetAlias points the alias (champion) of the run's pipeline at the
	// model and returns its address (NAME@ALIAS), as `sluice alias set`.
	SetAlias(ctx context.Context, run int64, stage, alias string) (address string, err error)
}

// SweepQueue keeps the runs of a sweep queued in the store, so what the
// workbench did not run survives it (sluice queue resume runs the rest).
type SweepQueue interface {
	// Enqueue queues one run per set of overrides and returns the sweep's
	// id and the items' numbers.
	Enqueue(ctx context.Context, file string, sets [][]string) (sweep string, items []int64, err error)
	// Claim marks an item running here; false: it is no longer queued.
	Claim(ctx context.Context, item int64) (bool, error)
	// Finish records the run an item became (0: put it back in the queue).
	Finish(ctx context.Context, item, run int64) error
}

// Deps is everything the workbench needs from outside, wired by ui/cli.
type Deps struct {
	// Paths are the pipeline files to list.
	Paths []string
	// Roots are the files and folders Paths were found under (sluice
	// PATH...): the Pipelines screen looks there again for files created,
	// changed or deleted. Nil: only Paths are watched.
	Roots []string
	// Dir is where new pipelines and exported models go by default
	// ("" for the current directory).
	Dir string
	// Registry is the stage catalog.
	Registry *engine.Registry
	// Store is the run store.
	Store Store
	// Recorder records runs started from the workbench (the store).
	Recorder engine.Recorder
	// Cache finds earlier stage results for runs started from the
	// workbench (the store); nil: every stage runs.
	Cache engine.Cache
	// Artifacts keeps the outputs of runs started from the workbench
	// (the store's artifact folder); nil keeps none.
	Artifacts engine.ArtifactStore
	// Models describes and exports fitted models; nil hides the details.
	Models ModelService
	// Queue keeps sweeps queued; nil runs sweeps without a queue.
	Queue SweepQueue
	// Version is sluice's version, recorded with runs.
	Version string
	// Workers bounds the stages a run executes at once (0: CPUs).
	Workers int
	// DBPath names the store in the header.
	DBPath string
	// ReadOnly disables every key that would run a pipeline, change the
	// store or write a file, and shows them as disabled (sluice
	// --readonly). Recorder is not used.
	ReadOnly bool
	// CancelWorkflow cancels the Temporal workflow of a run that runs
	// there (c on the Run screen); nil when the workbench was given no
	// Temporal server, and such runs are then stopped where they started.
	CancelWorkflow func(ctx context.Context, workflowID string) error

	// Test hooks.

	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Poll is how often the store is polled for runs from other
	// processes (0: every second; negative: never, for tests).
	Poll time.Duration
	// Mono forces a monochrome screen, as NO_COLOR does.
	Mono bool
	// Input and Output replace the terminal (nil: stdin and stdout).
	Input  io.Reader
	Output io.Writer
}
