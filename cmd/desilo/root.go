package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/connectors/builtin"
	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/plugins/host"
)

// app is what every command shares: where output goes, the logger, and
// the global flags.
type app struct {
	stdout, stderr io.Writer
	log            *slog.Logger

	logFormat  string
	logLevel   string
	level      slog.LevelVar // the logger's; run.log_level sets it unless --log-level did
	levelSet   bool          // --log-level was given
	pluginDirs []string

	cpuProfile, memProfile string
	stopProfile            func()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if a.stopProfile != nil {
		a.stopProfile()
	}
	if err != nil && isUsage(err) {
		err = withCode(exitUsage, fmt.Errorf("%w (see 'desilo --help')", err))
	}
	return exitCode(ctx, err, stderr, a.logFormat == "json")
}

// isUsage recognises cobra's own errors about the command line.
func isUsage(err error) bool {
	var ee *exitError
	if errors.As(err, &ee) {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires ", "required flag"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "desilo",
		Short: "Turn scattered customer data into one customer model",
		Long: `desilo pulls customer records out of their silos (CRM, shop, service desk,
mailbox, files, SQL) through connector plugins, links them to one customer by
deterministic key matching, and publishes the unified model as Parquet files
and BigQuery tables.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.levelSet = cmd.Flags().Changed("log-level")
			if err := a.setupLogging(); err != nil {
				return err
			}
			return a.startProfiles()
		},
	}
	root.SetHelpTemplate(root.HelpTemplate() + "\n" + exitCodesHelp + "\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(exitUsage, err) })
	f := root.PersistentFlags()
	f.StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")
	f.StringVar(&a.logLevel, "log-level", "", "log level: debug, info, warn or error (default: run.log_level of desilo.yaml, else info)")
	f.StringVar(&a.cpuProfile, "cpuprofile", "", "write a pprof CPU profile of this process to the file")
	f.StringVar(&a.memProfile, "memprofile", "", "write a pprof heap profile of this process to the file at the end")
	_ = f.MarkHidden("cpuprofile")
	_ = f.MarkHidden("memprofile")
	f.StringArrayVar(&a.pluginDirs, "plugin-dir", nil, "a directory with third-party connectors (desilo-connector-NAME); searched before $"+host.PluginPathEnv+" and ~/.desilo/plugins")

	root.AddCommand(
		a.versionCmd(),
		a.initCmd(),
		a.connectorsCmd(),
		a.connectorCmd(),
		a.validateCmd(),
		a.checkCmd(),
		a.discoverCmd(),
		a.syncCmd(),
		a.buildCmd(),
		a.publishCmd(),
		a.explainCmd(),
		a.genCmd(),
		a.evalCmd(),
	)
	return root
}

func (a *app) setupLogging() error {
	var level slog.Level // info when neither the flag nor the config says
	if err := level.UnmarshalText([]byte(cmp.Or(a.logLevel, "info"))); err != nil {
		return withCode(exitUsage, fmt.Errorf("--log-level %q: want debug, info, warn or error", a.logLevel))
	}
	a.level.Set(level)
	opts := &slog.HandlerOptions{Level: &a.level}
	switch a.logFormat {
	case "text":
		a.log = slog.New(slog.NewTextHandler(a.stderr, opts))
	case "json":
		a.log = slog.New(slog.NewJSONHandler(a.stderr, opts))
	default:
		return withCode(exitUsage, fmt.Errorf("--log-format %q: want text or json", a.logFormat))
	}
	return nil
}

// configFlag adds the -c flag every config-reading command has.
func configFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVarP(path, "config", "c", "desilo.yaml", "the config file")
}

// loadConfig reads desilo.yaml; its errors name file, line and field.
// The file's run.log_level applies from here on, unless --log-level was
// given.
func (a *app) loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, withCode(exitConfig, err)
	}
	if !a.levelSet {
		a.level.Set(cfg.Run.LogLevel)
	}
	return cfg, nil
}

// newHost returns a host that finds built-in and third-party connectors.
func (a *app) newHost(cfg *config.Config) *host.Host {
	opts := host.Options{
		Logger:     a.log,
		PluginDirs: host.SearchPath(a.pluginDirs),
		Builtin:    builtin.Has,
	}
	if cfg != nil {
		opts.IdleTimeout = cfg.Run.IdleTimeout
	}
	return host.New(opts)
}

// launch starts a source's connector and checks the source's config
// against the connector's schema, with errors pointing into desilo.yaml.
func (a *app) launch(ctx context.Context, h *host.Host, cfg *config.Config, src *config.Source) (*host.Plugin, error) {
	p, err := h.Launch(ctx, host.Target{
		Source:    src.Name,
		Connector: src.Connector,
		Path:      src.Plugin.Path,
		SHA256:    src.Plugin.SHA256,
		Dir:       cfg.Dir,
		Secrets:   cfg.Secrets(),
	})
	if err != nil {
		if errors.Is(err, host.ErrNotFound) {
			return nil, withCode(exitConfig, fmt.Errorf("%s:%d: %w", cfg.File, src.Line, err))
		}
		return nil, withCode(exitSource, err)
	}
	if err := cfg.ValidateSourceConfig(src.Name, p.Spec().ConfigSchema); err != nil {
		p.Close()
		return nil, withCode(exitConfig, err)
	}
	return p, nil
}

// selectSources returns the sources a command works on: all, or the one
// named by --source.
func selectSources(cfg *config.Config, name string) ([]*config.Source, error) {
	if name == "" {
		out := make([]*config.Source, len(cfg.Sources))
		for i := range cfg.Sources {
			out[i] = &cfg.Sources[i]
		}
		return out, nil
	}
	s, ok := cfg.Source(name)
	if !ok {
		var names []string
		for _, s := range cfg.Sources {
			names = append(names, s.Name)
		}
		return nil, withCode(exitUsage, fmt.Errorf("--source %q: %s has no such source (it has: %s)", name, cfg.File, strings.Join(names, ", ")))
	}
	return []*config.Source{s}, nil
}
