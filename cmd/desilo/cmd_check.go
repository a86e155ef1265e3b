package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/pipeline"
	"github.com/desilo/desilo/plugins/host"
)

func (a *app) checkCmd() *cobra.Command {
	var path, source string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Test each source's credentials and reachability",
		Long: `check starts each source's connector, validates the source's config against
the connector's schema, asks the connector to test it (credentials, hosts,
paths), and checks that the source's streams and mappings fit the streams the
connector discovers (a mapping of a stream it does not offer, or of a column a
CSV file lacks). It prints one line per source and fails if any source fails.`,
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
		fmt.Fprintf(a.stderr, "desilo: %d of %s failed the check\n", failed, plural(len(sources), "source"))
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
	if err := p.Check(ctx, src.Config); err != nil {
		return withCode(sourceCode(err), err)
	}
	// Streams and mappings that do not fit what the connector offers
	// would fail the source at extract: say so now.
	streams, err := p.Discover(ctx, src.Config)
	if err != nil {
		return withCode(sourceCode(err), err)
	}
	if err := pipeline.CheckStreams(cfg, src, streams); err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			return withCode(exitConfig, err)
		}
		return withCode(exitSource, err) // a connector's default mapping
	}
	return nil
}

// codeOf returns the exit code an error carries, or def.
func codeOf(err error, def int) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return def
}
