package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/core/explain"
	"github.com/desilo/desilo/core/pipeline"
)

func (a *app) explainCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "explain ID|EMAIL|PHONE",
		Short: "Show a customer, its source records, and the keys that joined them",
		Long: `explain looks a customer up in the current snapshot by customer id, email
address or phone number (normalized as each match key normalizes it, with an
email key's strip_plus and strip_dots rules) and prints the profile, the
customer's records, and for each record the key and value through which it
joined, as a tree rooted at the anchor record the customer id derives from.
A customer id that gave way to another (the merge table) finds the customer
it was merged into.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runExplain(cmd.Context(), path, args[0])
		},
	}
	configFlag(cmd, &path)
	return cmd
}

func (a *app) runExplain(_ context.Context, path, query string) error {
	cfg, err := a.loadConfig(path)
	if err != nil {
		return err
	}
	found, err := explain.Find(cfg.Output.Parquet.Path, query, pipeline.Rules(cfg))
	if err != nil {
		return err
	}
	for i, c := range found {
		if i > 0 {
			fmt.Fprintln(a.stdout)
		}
		explain.Print(a.stdout, c)
	}
	return nil
}
