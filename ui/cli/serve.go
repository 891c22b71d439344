package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/serve"
)

// resolver reads a model address for the server: a model file, or a store
// address, opening the store for each look (so an alias set in another
// process is seen).
func (e *env) resolver() serve.Resolver {
	return func(ctx context.Context, addr string) ([]byte, serve.Info, error) {
		if fi, err := os.Stat(addr); err == nil && !fi.IsDir() {
			data, err := os.ReadFile(addr)
			if err != nil {
				return nil, serve.Info{}, err
			}
			h := sha256.Sum256(data)
			return data, serve.Info{SHA256: hex.EncodeToString(h[:])}, nil
		}
		ref, err := engine.ParseModelRef(addr)
		if err != nil {
			return nil, serve.Info{}, err
		}
		db, err := e.openStore()
		if err != nil {
			return nil, serve.Info{}, err
		}
		defer db.Close()
		data, info, err := storeModel(e, db, ref)
		if err != nil {
			return nil, serve.Info{}, err
		}
		return data, serve.Info{Run: info.run, Stage: info.stage, SHA256: info.sha256}, nil
	}
}

// locator says which model a store address names now, from the run
// record alone (no model bytes read); files fall back to the resolver.
func (e *env) locator() serve.Locator {
	resolve := e.resolver()
	return func(ctx context.Context, addr string) (serve.Info, error) {
		if fi, err := os.Stat(addr); err == nil && !fi.IsDir() {
			_, info, err := resolve(ctx, addr)
			return info, err
		}
		ref, err := engine.ParseModelRef(addr)
		if err != nil {
			return serve.Info{}, err
		}
		db, err := e.openStore()
		if err != nil {
			return serve.Info{}, err
		}
		defer db.Close()
		run, stage, err := db.ResolveModel(ctx, ref)
		if err != nil {
			return serve.Info{}, err
		}
		info := serve.Info{Run: run.ID, Stage: stage}
		if st, ok := run.Stage(stage); ok {
			for _, a := range st.Artifacts {
				if a.Name == "model" {
					info.SHA256 = a.SHA256
				}
			}
		}
		if info.SHA256 == "" {
			return serve.Info{}, fmt.Errorf("%s: run %d stage %s records no model", addr, run.ID, stage)
		}
		return info, nil
	}
}

// parseSize reads 16MB, 512KB, 1GB or a number of bytes.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: want a size like 16MB, 512KB or a number of bytes", s)
	}
	return n * mult, nil
}

// servedName is the name a model is served under: given as NAME=MODEL,
// or the pipeline of NAME@ALIAS, or the file's base name, or run-N.
func servedName(arg string) (name, addr string) {
	if n, a, ok := strings.Cut(arg, "="); ok && n != "" && !strings.ContainsAny(n, "/@") {
		return n, a
	}
	if n, _, ok := strings.Cut(arg, "@"); ok {
		return n, arg
	}
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		base := filepath.Base(arg)
		base = strings.TrimSuffix(base, filepath.Ext(base))
		return strings.TrimSuffix(base, ".model"), arg
	}
	return "run-" + strings.ReplaceAll(arg, ":", "-"), arg
}

func (e *env) serveCmd() *cobra.Command {
	var addr, maxBody string
	var drain, refresh time.Duration
	cmd := &cobra.Command{
		Use:   "serve MODEL...",
		Short: "Score rows over HTTP with MLflow's scoring protocol (POST /invocations)",
		Long: `Serve loads each MODEL (a model file, RUN, RUN:STAGE or NAME@ALIAS, optionally
as SERVED=MODEL) and answers MLflow scoring requests: POST /invocations (the
first model) and POST /models/NAME/invocations with a JSON body holding
dataframe_split, dataframe_records or instances, or a CSV body (Content-Type:
text/csv); the answer is {"predictions": [...]}, with "classes" and
"probabilities" when ?probabilities=true. GET /ping and /health say it is up;
/version names each model, its run and SHA-256.

A model served by alias follows it: sluice alias set moves it without a
restart, and requests in flight finish on the model they started with.
Ctrl-C or SIGTERM stops accepting and lets requests in flight finish.`,
		Example: `  sluice serve iris@champion
  sluice serve iris.model.json --addr 127.0.0.1:9000
  curl -s localhost:8080/invocations -H 'Content-Type: application/json' \
    -d '{"dataframe_split": {"columns": ["sepal_length","sepal_width","petal_length","petal_width"], "data": [[5.1,3.5,1.4,0.2]]}}'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			max, err := parseSize(maxBody)
			if err != nil {
				return usageErr(fmt.Errorf("--max-body %w", err))
			}
			s := &serve.Server{Resolve: e.resolver(), Locate: e.locator(), MaxBody: max, Refresh: refresh, Version: Version, Log: e.logger()}
			for _, a := range args {
				name, address := servedName(a)
				s.Models = append(s.Models, serve.Model{Name: name, Address: address})
			}
			if err := s.Load(e.ctx); err != nil {
				return usageErr(err)
			}
			err = s.ListenAndServe(e.ctx, addr, drain, func(at string) {
				for _, m := range s.Models {
					s.Log.Info("serving", "model", m.Name, "address", m.Address, "url", "http://"+at+"/models/"+m.Name+"/invocations")
				}
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				return usageErr(err)
			}
			s.Log.Info("stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().StringVar(&maxBody, "max-body", "16MB", "largest request body accepted")
	cmd.Flags().DurationVar(&drain, "drain", 10*time.Second, "how long requests in flight may take to finish on shutdown")
	cmd.Flags().DurationVar(&refresh, "refresh", time.Second, "how often model addresses (aliases) are resolved again")
	return cmd
}
