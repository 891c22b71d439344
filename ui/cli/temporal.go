package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/temporal"
	"github.com/sluice-ml/sluice/store"
)

// temporalFlags are the flags of the commands that talk to a Temporal
// server: sluice worker, and sluice run --engine temporal.
type temporalFlags struct {
	hostPort  string
	namespace string
	queue     string
	heartbeat time.Duration
}

func (f *temporalFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.hostPort, "temporal", "", "the Temporal server's frontend, HOST:PORT (env SLUICE_TEMPORAL)")
	cmd.Flags().StringVar(&f.namespace, "namespace", "", "the Temporal namespace (env SLUICE_NAMESPACE; default "+temporal.DefaultNamespace+")")
	cmd.Flags().StringVar(&f.queue, "task-queue", "", "the task queue workers poll (env SLUICE_TASK_QUEUE; default "+temporal.DefaultTaskQueue+")")
}

// resolve fills the flags from the environment and the defaults.
func (f *temporalFlags) resolve() error {
	for _, v := range []struct {
		dst *string
		env string
		def string
	}{
		{&f.hostPort, "SLUICE_TEMPORAL", ""},
		{&f.namespace, "SLUICE_NAMESPACE", temporal.DefaultNamespace},
		{&f.queue, "SLUICE_TASK_QUEUE", temporal.DefaultTaskQueue},
	} {
		if *v.dst == "" {
			*v.dst = os.Getenv(v.env)
		}
		if *v.dst == "" {
			*v.dst = v.def
		}
	}
	if f.hostPort == "" {
		return usageErr(errors.New("no Temporal server: give --temporal HOST:PORT (or SLUICE_TEMPORAL)"))
	}
	if !strings.Contains(f.hostPort, ":") {
		return usageErr(fmt.Errorf("--temporal %q: want HOST:PORT", f.hostPort))
	}
	return nil
}

// dial connects to the server; the SDK's own log goes to w at warning
// level and above.
func (f *temporalFlags) dial(ctx context.Context, w io.Writer) (client.Client, error) {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  f.hostPort,
		Namespace: f.namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		return nil, usageErr(fmt.Errorf("connect to Temporal at %s (namespace %s): %w", f.hostPort, f.namespace, err))
	}
	return c, nil
}

// engineFlags are the flags of `sluice run` that choose where stages run.
type engineFlags struct {
	engine   string
	temporal temporalFlags
}

func (f *engineFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.engine, "engine", "", "where the stages run: local (this process) or temporal (the workers of a Temporal server) (env SLUICE_ENGINE; default local)")
	f.temporal.bind(cmd)
	cmd.Flags().DurationVar(&f.temporal.heartbeat, "heartbeat-timeout", 0, "with --engine temporal: how long a stage's worker may fall silent before the attempt is retried elsewhere (default 30s)")
}

// resolve checks the engine and its flags; it returns the Temporal flags
// for --engine temporal, nil for a local run.
func (f *engineFlags) resolve() (*temporalFlags, error) {
	if f.engine == "" {
		f.engine = os.Getenv("SLUICE_ENGINE")
	}
	switch f.engine {
	case "", engine.EngineLocal:
		return nil, nil
	case engine.EngineTemporal:
		if err := f.temporal.resolve(); err != nil {
			return nil, err
		}
		if f.temporal.heartbeat < 0 {
			return nil, usageErr(fmt.Errorf("--heartbeat-timeout %s: want a positive duration", f.temporal.heartbeat))
		}
		return &f.temporal, nil
	}
	return nil, usageErr(fmt.Errorf("--engine %q: want local or temporal", f.engine))
}

// runTemporal runs a plan on Temporal's workers, recording and reporting
// it through ex as a local run would be.
func (e *env) runTemporal(ctx context.Context, tf *temporalFlags, ex *engine.Executor, plan *engine.Plan, opts engine.RunOptions) (*engine.Run, error) {
	c, err := tf.dial(ctx, e.stderr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// --workers bounds this machine's stages; on Temporal the workers'
	// own --stages do.
	r := &temporal.Runner{Client: c, TaskQueue: tf.queue, Executor: ex,
		Options: temporal.RunOptions{HeartbeatTimeout: tf.heartbeat}}
	return r.Run(ctx, plan, opts)
}

func (e *env) workerCmd() *cobra.Command {
	var tf temporalFlags
	var maxStages int
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run stages for sluice run --engine temporal: a Temporal worker",
		Long: `Worker connects to a Temporal server and runs the stages of pipelines
started with sluice run --engine temporal (and Temporal schedules) on this
machine, as activities of the workflow sluice.pipeline, until interrupted
(Ctrl-C or SIGTERM: the stages it runs are cancelled and retried on another
worker). Start as many as you like, on any machines: each polls the task
queue and runs what it is given.

A worker reads the stages' inputs from the artifact store and writes their
outputs to it (--artifacts, or the folder beside --db): every worker and the
machine that starts the runs must share one store, and the pipelines' data
files must be at the same path on every worker. Only references, metrics and
small records travel through Temporal. A worker keeps no run store: runs are
recorded by the machine that starts them (or imported with sluice runs sync).`,
		Example: `  sluice worker --temporal localhost:7233
  sluice worker --temporal temporal.example.com:7233 --namespace ml --task-queue gpu`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := tf.resolve(); err != nil {
				return err
			}
			if maxStages < 0 {
				return usageErr(fmt.Errorf("--stages %d: want 1 or more", maxStages))
			}
			arts, err := e.workerArtifacts()
			if err != nil {
				return err
			}
			c, err := tf.dial(e.ctx, e.stderr)
			if err != nil {
				return err
			}
			defer c.Close()
			w, err := temporal.NewWorker(c, temporal.WorkerOptions{
				TaskQueue: tf.queue,
				MaxStages: maxStages,
				Activities: &temporal.Activities{
					Registry: e.reg, Artifacts: arts, Version: Version,
				},
			})
			if err != nil {
				return usageErr(err)
			}
			if err := w.Start(); err != nil {
				return &exitError{code: ExitFailed, err: fmt.Errorf("start worker: %w", err)}
			}
			fmt.Fprintf(e.stderr, "worker polling task queue %s on %s (namespace %s)\n", tf.queue, tf.hostPort, tf.namespace)
			<-e.ctx.Done()
			w.Stop()
			fmt.Fprintln(e.stderr, "worker stopped")
			return nil
		},
	}
	tf.bind(cmd)
	cmd.Flags().IntVar(&maxStages, "stages", 0, "stages this worker runs at once (default: Temporal's, 1000)")
	return cmd
}

// workerArtifacts opens the artifact store a worker reads and writes:
// --artifacts (SLUICE_ARTIFACTS), else the folder beside the run store
// named by --db. The worker keeps no run store of its own.
func (e *env) workerArtifacts() (engine.ArtifactStore, error) {
	loc := e.cfg.Artifacts
	if loc == "" {
		loc = store.ArtifactsDir(e.cfg.DBPath)
	}
	a, err := store.OpenArtifacts(e.ctx, loc)
	if err != nil {
		return nil, usageErr(fmt.Errorf("--artifacts %s: %w", loc, err))
	}
	return a, nil
}

// cancelWorkflow asks the Temporal server of SLUICE_TEMPORAL (namespace
// SLUICE_NAMESPACE) to cancel a workflow: the workbench's c on a run that
// runs there. The process following the run records it cancelled.
func (e *env) cancelWorkflow(ctx context.Context, workflowID string) error {
	var f temporalFlags
	if err := f.resolve(); err != nil {
		return err
	}
	c, err := f.dial(ctx, io.Discard)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.CancelWorkflow(ctx, workflowID, "")
}
