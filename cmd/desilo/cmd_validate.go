package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/connectors/builtin"
)

func (a *app) validateCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a config file without running anything",
		Long: `validate checks desilo.yaml against its schema, and the config of each source
that uses a built-in connector against that connector's schema. Errors name the
file, line and field. Third-party connectors' configs are checked by 'desilo check'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runValidate(cmd.Context(), path)
		},
	}
	configFlag(cmd, &path)
	return cmd
}

func (a *app) runValidate(_ context.Context, path string) error {
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	for _, src := range cfg.Sources {
		c, ok := builtin.Get(src.Connector)
		if !ok {
			continue
		}
		if err := cfg.ValidateSourceConfig(src.Name, c.Spec().ConfigSchema); err != nil {
			return withCode(exitConfig, err)
		}
	}
	_, err = fmt.Fprintf(a.stdout, "%s: valid (%d sources)\n", cfg.File, len(cfg.Sources))
	return err
}
