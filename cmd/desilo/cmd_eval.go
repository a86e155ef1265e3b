package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/core/eval"
)

func (a *app) evalCmd() *cobra.Command {
	var path, snapshot, truth string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "eval --truth FILE",
		Short: "Measure match quality against a ground truth",
		Long: `eval compares the customers of a snapshot with a ground truth that names
each record's person (truth.csv of desilo gen: source,stream,record_key,person_id).

It reports pairwise precision (of the pairs of records joined into one
customer, the share that are one person), recall (of the pairs of records of
one person, the share joined), F1, the customers that hold more than one
person (over-merged) and the people split over several customers
(under-merged). Records in only the truth or only the snapshot are counted
per source/stream and left out of the figures.

The snapshot is the current one of output.parquet.path in the config, or
--snapshot: a snapshot folder or an output folder.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if truth == "" {
				return withCode(exitUsage, errors.New("eval: --truth is required: the ground truth CSV (truth.csv of desilo gen)"))
			}
			if snapshot == "" {
				cfg, err := a.loadConfig(path)
				if err != nil {
					return err
				}
				snapshot = cfg.Output.Parquet.Path
			}
			return a.runEval(cmd.Context(), snapshot, truth, asJSON)
		},
	}
	configFlag(cmd, &path)
	f := cmd.Flags()
	f.StringVar(&snapshot, "snapshot", "", "a snapshot folder, or an output folder whose current snapshot to read (instead of the config's)")
	f.StringVar(&truth, "truth", "", "the ground truth CSV: source,stream,record_key,person_id")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func (a *app) runEval(ctx context.Context, snapshot, truthFile string, asJSON bool) error {
	f, err := os.Open(truthFile)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("--truth: %w", err))
	}
	defer f.Close()
	truth, err := eval.ReadTruth(f, truthFile)
	if err != nil {
		return err
	}
	dir, m, err := eval.OpenSnapshot(snapshot)
	if err != nil {
		return err
	}
	links, err := eval.ReadLinks(ctx, dir, m)
	if err != nil {
		return err
	}
	rep := eval.Compare(truth, links)
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(a.stdout, "snapshot %s\n", dir)
	return rep.WriteText(a.stdout)
}
