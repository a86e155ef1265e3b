package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/plugins/host"
)

func (a *app) checkCmd() *cobra.Command {
	var path, source string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Test each source's credentials and reachability",
		Long: `check starts each source's connector, validates the source's config against
the connector's schema and asks the connector to test it (credentials, hosts,
paths). It prints one line per source and fails if any source fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runCheck(cmd.Context(), path, source)
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().StringVar(&source, "source", "", "check only this source")
	return cmd
}

func (a *app) runCheck(ctx context.Context, path, source string) error {
	cfg, err := a.loadConfig(path)
	if err != nil {
		return err
	}
	sources, err := selectSources(cfg, source)
	if err != nil {
		return err
	}
	h := a.newHost(cfg)
	defer h.Close()
	failed := 0
	code := exitOK
	for _, src := range sources {
		err := a.checkSource(ctx, h, cfg, src)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			failed++
			fmt.Fprintf(a.stdout, "%-16s FAILED  %v\n", src.Name, err)
			if code == exitOK {
				code = codeOf(err, exitSource)
			}
			continue
		}
		fmt.Fprintf(a.stdout, "%-16s ok\n", src.Name)
	}
	if failed > 0 {
		fmt.Fprintf(a.stderr, "desilo: %d of %d sources failed the check\n", failed, len(sources))
		return &silentError{code: code}
	}
	return nil
}

func (a *app) checkSource(ctx context.Context, h *host.Host, cfg *config.Config, src *config.Source) error {
	p, err := a.launch(ctx, h, cfg, src)
	if err != nil {
		return err
	}
	defer p.Close()
	return withCode(exitSource, p.Check(ctx, src.Config))
}

// codeOf returns the exit code an error carries, or def.
func codeOf(err error, def int) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return def
}
