package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/pipeline"
	"github.com/desilo/desilo/core/sink/bigquery"
	"github.com/desilo/desilo/core/sink/parquet"
	"github.com/desilo/desilo/core/stage"
	"github.com/desilo/desilo/plugins/host"
)

type runOptions struct {
	config         string
	sources        []string
	fullRefresh    bool
	summaryJSON    string
	maxRejectRatio float64
	rejectRatioSet bool // --max-reject-ratio was given
}

func (a *app) syncCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Extract new records from every source, then build and publish the customer model",
		Long: `sync runs extract and build. Extract reads what is new in each source since its
saved state, maps and stages it, and only then saves the source's new state. A
source that fails keeps its old state; the others go on, the build still runs on
everything staged, and the exit code is 4 (3 when a source failed on its
configuration: a connector not found, a config its connector refuses, a
mapping that does not fit the stream; 1 when every failed source failed on
this machine, staging unable to write). Build recomputes identity and profiles
from all staged records and publishes a new Parquet snapshot atomically, then
loads it into BigQuery when output.bigquery is configured (exit code 6 when only
that fails: the snapshot stands, and 'desilo publish' retries the load).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.rejectRatioSet = cmd.Flags().Changed("max-reject-ratio")
			return a.runSync(cmd.Context(), o, true)
		},
	}
	configFlag(cmd, &o.config)
	cmd.Flags().StringArrayVar(&o.sources, "source", nil, "extract only this source (repeatable); the build still uses everything staged")
	cmd.Flags().BoolVar(&o.fullRefresh, "full-refresh", false, "ignore saved states: read every source from the start and replace its staged data")
	cmd.Flags().StringVar(&o.summaryJSON, "summary-json", "", "also write the run summary as JSON to this file")
	cmd.Flags().Float64Var(&o.maxRejectRatio, "max-reject-ratio", 0, "fail a source whose stream rejects more than this share of its records (default: run.max_reject_ratio of desilo.yaml, 0.05)")
	return cmd
}

func (a *app) buildCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Rebuild identity and profiles from staging and publish, without extracting",
		Long: `build recomputes identity and profiles from everything staged and publishes a
new snapshot. Use it after changing identity or profile rules: no source is read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runSync(cmd.Context(), o, false)
		},
	}
	configFlag(cmd, &o.config)
	cmd.Flags().StringVar(&o.summaryJSON, "summary-json", "", "also write the run summary as JSON to this file")
	return cmd
}

// runSync is sync (extract then build) or, without extract, build.
func (a *app) runSync(ctx context.Context, o runOptions, extract bool) (err error) {
	sum := &pipeline.Summary{RunID: time.Now().UTC().Format("20060102T150405.000000Z"), Started: time.Now().UTC()}
	written := false
	defer func() {
		// A run that stops early says so too: a scheduler must not read
		// the previous run's summary as this one's.
		if err == nil || written || o.summaryJSON == "" {
			return
		}
		sum.Finished, sum.OK, sum.Error = time.Now().UTC(), false, errorMessage(ctx, err)
		if werr := writeSummary(o.summaryJSON, sum); werr != nil {
			a.log.Error("the run summary could not be written", "error", werr)
		}
	}()
	cfg, err := a.loadConfig(o.config)
	if err != nil {
		return err
	}
	for _, s := range o.sources {
		if _, err := selectSources(cfg, s); err != nil {
			return err
		}
	}
	if o.rejectRatioSet {
		if !(o.maxRejectRatio >= 0 && o.maxRejectRatio <= 1) {
			return withCode(exitUsage, fmt.Errorf("--max-reject-ratio %g: want a share between 0 and 1", o.maxRejectRatio))
		}
		cfg.Run.MaxRejectRatio = o.maxRejectRatio
	}
	if bq := cfg.Output.BigQuery; bq != nil {
		if err := bigquery.Validate(*bq); err != nil {
			return withCode(exitConfig, fmt.Errorf("%s: %w", cfg.File, err))
		}
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
	a.claim(cfg, lock, "state_dir", "same-named sources share their staged records and saved states")
	if outLock != nil {
		a.claim(cfg, outLock, "output.parquet.path", "each replaces the other's snapshot, and the customer ids continue from it")
	}
	store, err := stage.Open(lock, stage.Options{Logger: a.log})
	if err != nil {
		return err
	}

	h := a.newHost(cfg)
	defer h.Close()
	obs, waitBars := a.newObserver()
	opts := pipeline.Options{
		Config:      cfg,
		Launcher:    &hostLauncher{a: a, h: h, cfg: cfg},
		Logger:      a.log,
		Observer:    obs,
		Sources:     o.sources,
		FullRefresh: o.fullRefresh,
	}
	opts.RunID = sum.RunID

	var extractErr error
	if extract {
		sum.Sources, extractErr = pipeline.Extract(ctx, store, opts)
		waitBars()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if extractErr != nil && !errors.Is(extractErr, pipeline.ErrSourcesFailed) {
			return withCode(codeOf(extractErr, exitSource), extractErr)
		}
	}
	opts.LiveRecords = liveRecords(ctx, store)
	stopBudget := budgetBuildMemory(opts.LiveRecords, a.log)
	build, err := pipeline.Build(ctx, store, opts)
	stopBudget()
	waitBars()
	if errors.Is(err, pipeline.ErrNothingStaged) && extractErr != nil {
		// Every source failed on a first run: the sources are the news.
		err := fmt.Errorf("%w; nothing was published", extractErr)
		sum.Finished, sum.Error = time.Now().UTC(), err.Error()
		a.printSummary(sum)
		written = true
		_ = writeSummary(o.summaryJSON, sum)
		return withCode(exitSource, err)
	}
	var outputErr error
	if err != nil {
		sum.Error = err.Error() // and no build figures: they would be zeros
	} else {
		sum.Build = build
		// The snapshot is on disk; BigQuery (when configured) loads it.
		dir, m, cerr := parquet.Current(cfg.Output.Parquet.Path)
		if cerr != nil {
			return cerr
		}
		if outputErr = a.publishBigQuery(ctx, cfg, dir, m, opts.RunID); outputErr != nil {
			sum.OutputError = outputErr.Error()
		}
	}
	sum.Finished = time.Now().UTC()
	sum.OK = err == nil && extractErr == nil && outputErr == nil
	if ctx.Err() != nil {
		return ctx.Err()
	}
	a.printSummary(sum)
	written = true
	if werr := writeSummary(o.summaryJSON, sum); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			return withCode(exitConfig, err)
		}
		return err
	}
	if extractErr != nil {
		return withCode(exitSource, extractErr)
	}
	return outputErr
}

// claim records cfg's file as the user of a locked folder and warns when
// another config used it last: two configs sharing a folder is rarely
// meant (a copied desilo.yaml keeps state_dir: .desilo, relative to the
// same folder).
func (a *app) claim(cfg *config.Config, l *stage.RunLock, field, consequence string) {
	file, err := filepath.Abs(cfg.File)
	if err != nil {
		return
	}
	prev, err := l.Claim(file)
	if err != nil {
		a.log.Warn("could not record which config uses the folder", "folder", l.Dir(), "error", err)
		return
	}
	if prev != "" && prev != file {
		a.log.Warn("another config used this "+field+" last: "+consequence+"; give each config its own "+field,
			"folder", l.Dir(), "config", file, "previous_config", prev)
	}
}

// lockOutput takes the lock of the Parquet output folder, which a run
// holds besides its state dir's: two configs with different state dirs
// may name the same output.parquet.path. A folder that cannot be locked
// (read-only, or on a file system without flock such as gcsfuse) is
// warned about and used unlocked (nil): the lock guards against a rare
// mistake, and refusing would stop every run there.
func (a *app) lockOutput(cfg *config.Config) (*stage.RunLock, error) {
	lock, err := stage.LockOutput(cfg.Output.Parquet.Path)
	if errors.Is(err, stage.ErrLocked) {
		return nil, withCode(exitLocked, err)
	}
	if err != nil {
		a.log.Warn("the output folder cannot be locked; runs of other configs that share it are not kept out", "error", err)
		return nil, nil
	}
	return lock, nil
}

// printSummary prints the run summary on stderr: a table, or with
// --log-format json one JSON line (whatever the log level, like the
// table), so that stderr stays JSON lines.
func (a *app) printSummary(sum *pipeline.Summary) {
	if a.logFormat == "json" {
		slog.New(slog.NewJSONHandler(a.stderr, nil)).Info("run summary", "summary", sum)
		return
	}
	sum.Print(a.stderr)
}

// writeSummary writes the summary JSON atomically, for schedulers; its
// folder is made if missing (a fresh volume).
func writeSummary(path string, sum *pipeline.Summary) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("--summary-json: %w", err)
	}
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".summary-*.json")
	if err != nil {
		return fmt.Errorf("--summary-json: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(parquet.FileMode); err != nil { // not CreateTemp's 0600
		tmp.Close()
		return fmt.Errorf("--summary-json: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("--summary-json: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--summary-json: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

// hostLauncher launches sources' connectors as plugin processes.
type hostLauncher struct {
	a   *app
	h   *host.Host
	cfg *config.Config
}

func (l *hostLauncher) Launch(ctx context.Context, src *config.Source) (pipeline.Conn, error) {
	return l.a.launch(ctx, l.h, l.cfg, src)
}
