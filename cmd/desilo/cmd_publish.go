package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/sink/bigquery"
	"github.com/desilo/desilo/core/sink/parquet"
	"github.com/desilo/desilo/core/stage"
)

func (a *app) publishCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Load the current Parquet snapshot into BigQuery again, without rebuilding",
		Long: `publish loads the current snapshot (output.parquet.path/current) into the
BigQuery dataset of output.bigquery: each table into a staging table with load
jobs, then over its target with one atomic copy. Use it after a BigQuery failure
(exit code 6) or after changing output.bigquery; nothing is extracted or rebuilt.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runPublish(cmd.Context(), path)
		},
	}
	configFlag(cmd, &path)
	return cmd
}

func (a *app) runPublish(ctx context.Context, path string) error {
	cfg, err := a.loadConfig(path)
	if err != nil {
		return err
	}
	if cfg.Output.BigQuery == nil {
		return withCode(exitConfig, fmt.Errorf("%s: output.bigquery is not set, so there is nothing to publish to (add project and dataset under output.bigquery)", cfg.File))
	}
	lock, err := stage.Lock(cfg.StateDir)
	if errors.Is(err, stage.ErrLocked) {
		return withCode(exitLocked, err)
	}
	if err != nil {
		return err
	}
	defer lock.Close()
	outLock, err := a.lockOutput(cfg)
	if err != nil {
		return err
	}
	defer outLock.Close()
	dir, m, err := parquet.Current(cfg.Output.Parquet.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no snapshot to publish in %s: run 'desilo sync' or 'desilo build' first: %w", cfg.Output.Parquet.Path, err)
	}
	if err != nil {
		return err
	}
	return a.publishBigQuery(ctx, cfg, dir, m, time.Now().UTC().Format("20060102T150405.000000Z"))
}

// publishBigQuery loads a committed snapshot into BigQuery when the config
// has output.bigquery, prints what it did on stderr, and maps a failure to
// exitOutput (the snapshot itself is safe). sync and build call it after
// the snapshot is committed, under the run lock.
func (a *app) publishBigQuery(ctx context.Context, cfg *config.Config, dir string, m parquet.Manifest, runID string) error {
	bq := cfg.Output.BigQuery
	if bq == nil {
		return nil
	}
	if err := bigquery.Validate(*bq); err != nil {
		return withCode(exitConfig, fmt.Errorf("%s: %w", cfg.File, err))
	}
	res, err := bigquery.Publish(ctx, *bq, dir, m, bigquery.Options{Logger: a.log, RunID: runID})
	if res != nil {
		printPublish(a.stderr, m.RunID, res)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return withCode(exitOutput, fmt.Errorf("BigQuery output (the Parquet snapshot %s is written; retry with 'desilo publish'): %w", m.RunID, err))
	}
	return nil
}

func printPublish(w io.Writer, snapshot string, res *bigquery.Result) {
	fmt.Fprintf(w, "BigQuery %s.%s, snapshot %s:\n", res.Project, res.Dataset, snapshot)
	for _, t := range res.Tables {
		var notes []string
		if t.Created {
			notes = append(notes, "created")
		}
		if len(t.Added) > 0 {
			notes = append(notes, "added "+strings.Join(t.Added, ", "))
		}
		if len(t.Relaxed) > 0 {
			notes = append(notes, "made nullable "+strings.Join(t.Relaxed, ", "))
		}
		if len(t.Kept) > 0 {
			notes = append(notes, "kept dropped columns "+strings.Join(t.Kept, ", "))
		}
		if t.ClusteringChanged {
			notes = append(notes, "clustering changed")
		}
		state := "not replaced"
		if t.Replaced {
			state = fmt.Sprintf("%d rows", t.Rows)
		}
		line := fmt.Sprintf("  %-24s %s", t.Target, state)
		if len(notes) > 0 {
			line += " (" + strings.Join(notes, "; ") + ")"
		}
		fmt.Fprintln(w, line)
	}
}
