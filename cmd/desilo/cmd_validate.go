package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/connectors/builtin"
	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/mapping"
	"github.com/desilo/desilo/core/pipeline"
	"github.com/desilo/desilo/core/profile"
	"github.com/desilo/desilo/core/sink/bigquery"
	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/host"
)

func (a *app) validateCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a config file without running anything",
		Long: `validate checks desilo.yaml against its schema, that each source's connector is
built in or on the plugin path, the config of each source that uses a built-in
connector against that connector's schema, that the identity and profile
rules compile, and the BigQuery tables' partitioning and clustering. Errors
name the file, line and field. Third-party connectors' configs, and whether
the streams and mappings fit what each connector offers, are checked by
'desilo check', which runs the connectors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runValidate(cmd.Context(), path)
		},
	}
	configFlag(cmd, &path)
	return cmd
}

func (a *app) runValidate(_ context.Context, path string) error {
	cfg, err := a.loadConfig(path)
	if err != nil {
		return err
	}
	// Each connector is found as sync would find it (built in, or on the
	// plugin path), without starting it.
	h := a.newHost(cfg)
	defer h.Close()
	var missing config.Errors
	for i := range cfg.Sources {
		src := &cfg.Sources[i]
		_, _, err := h.Command(host.Target{Source: src.Name, Connector: src.Connector, Path: src.Plugin.Path})
		if err != nil {
			missing = append(missing, cfg.ErrorAt(src.Pointer()+"/connector", err.Error()+a.suggestConnector(src.Connector)))
		}
	}
	if len(missing) > 0 {
		return withCode(exitConfig, missing)
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
	// Mappings compile as extract would compile them; errors point at the
	// mapping's line.
	var errs config.Errors
	for i := range cfg.Sources {
		src := &cfg.Sources[i]
		for stream, m := range src.Mapping {
			if _, err := mapping.Compile(connector.Stream{Name: stream}, m); err != nil {
				errs = append(errs, pipeline.MappingErrors(cfg, src, stream, err)...)
			}
		}
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b *config.Error) int { return cmp.Compare(a.Line, b.Line) })
		return withCode(exitConfig, errs)
	}
	// The identity and profile rules compile as a build would compile them.
	if _, err := identity.NewIndex(pipeline.Rules(cfg)); err != nil {
		return withCode(exitConfig, fmt.Errorf("%s: identity: %w", cfg.File, err))
	}
	_, err = profile.New(profile.Options{
		Survivorship:  cfg.Profile.Survivorship,
		AsOf:          time.Now(),
		DefaultRegion: cfg.Identity.DefaultRegion,
	})
	if err != nil {
		return withCode(exitConfig, profileErrors(cfg, err))
	}
	// The BigQuery tables' layout, as sync checks it before it runs.
	if bq := cfg.Output.BigQuery; bq != nil {
		if err := bigquery.Validate(*bq); err != nil {
			ptr, msg := "/output/bigquery", err.Error()
			var ce *bigquery.ConfigError
			if errors.As(err, &ce) {
				ptr, msg = ptr+"/"+strings.ReplaceAll(ce.Field, ".", "/"), ce.Err.Error()
			}
			return withCode(exitConfig, cfg.ErrorAt(ptr, msg))
		}
	}
	_, err = fmt.Fprintf(a.stdout, "%s: valid (%s)\n", cfg.File, plural(len(cfg.Sources), "source"))
	return err
}

// profileErrors places each survivorship problem at its field's line.
func profileErrors(cfg *config.Config, err error) error {
	leaves := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		leaves = j.Unwrap()
	}
	var out config.Errors
	for _, e := range leaves {
		var se *profile.SurvivorshipError
		if !errors.As(e, &se) {
			return fmt.Errorf("%s: %w", cfg.File, err)
		}
		ptr := "/profile/survivorship/default"
		if se.Field != "" {
			ptr = "/profile/survivorship/fields/" + se.Field
			if se.Rule {
				ptr += "/rule"
			}
		}
		out = append(out, cfg.ErrorAt(ptr, se.Msg))
	}
	return out
}

// suggestConnector returns ` (did you mean "files"?)` when a built-in or
// plugin connector's name is close to name.
func (a *app) suggestConnector(name string) string {
	names := builtin.Names()
	for _, f := range host.ListPlugins(host.SearchPath(a.pluginDirs)) {
		names = append(names, f.Name)
	}
	return config.Suggest(name, names)
}
