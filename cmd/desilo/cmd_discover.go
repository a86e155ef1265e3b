package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/pipeline"
	"github.com/desilo/desilo/plugins/connector"
)

func (a *app) discoverCmd() *cobra.Command {
	var path, source string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "discover",
		Short: "List each source's streams and their record schemas",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runDiscover(cmd.Context(), path, source, asJSON)
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().StringVar(&source, "source", "", "discover only this source")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines, with full record schemas, default mappings and desilo.yaml's mappings (which replace the defaults)")
	return cmd
}

// discovered is one source's streams, as --json prints them.
type discovered struct {
	Source    string             `json:"source"`
	Connector string             `json:"connector"`
	Version   string             `json:"version"`
	Streams   []connector.Stream `json:"streams"`
	// Mapping is desilo.yaml's mapping of the source's streams, which
	// replaces a stream's default mapping: what extract applies.
	Mapping map[string]connector.Mapping `json:"mapping,omitempty"`
}

func (a *app) runDiscover(ctx context.Context, path, source string, asJSON bool) error {
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
	var out []discovered
	var problems []error // what extract would refuse, said after the listing that helps fix it
	for _, src := range sources {
		p, err := a.launch(ctx, h, cfg, src)
		if err != nil {
			return err
		}
		streams, err := p.Discover(ctx, src.Config)
		p.Close()
		if err != nil {
			return withCode(sourceCode(err), err)
		}
		out = append(out, discovered{src.Name, src.Connector, p.Spec().Version, streams, src.Mapping})
		if err := pipeline.CheckStreams(cfg, src, streams); err != nil {
			problems = append(problems, err)
		}
	}
	if err := a.printDiscovered(cfg, out, asJSON); err != nil {
		return err
	}
	return errors.Join(problems...)
}

func (a *app) printDiscovered(cfg *config.Config, out []discovered, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for i, d := range out {
		if i > 0 {
			fmt.Fprintln(a.stdout)
		}
		fmt.Fprintf(a.stdout, "source %s (%s %s)\n", d.Source, d.Connector, d.Version)
		src, _ := cfg.Source(d.Source)
		w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "  STREAM\tPRIMARY KEY\tCURSOR\tFIELDS\tMAPS TO")
		for _, s := range d.Streams {
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", s.Name, strings.Join(s.PrimaryKey, ", "),
				orDash(s.CursorField), fieldList(s.Schema), mapsTo(s, src.Mapping))
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// fieldList names a record schema's top-level fields.
func fieldList(schema json.RawMessage) string {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(schema, &s) != nil || len(s.Properties) == 0 {
		return "-"
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	const show = 6
	if len(names) > show {
		return strings.Join(names[:show], ", ") + fmt.Sprintf(", … (%d)", len(names))
	}
	return strings.Join(names, ", ")
}

// mapsTo says where a stream's records go in the unified model.
func mapsTo(s connector.Stream, configured map[string]connector.Mapping) string {
	if m, ok := configured[s.Name]; ok {
		return m.Entity + " (desilo.yaml)"
	}
	if s.Mapping != nil {
		return s.Mapping.Entity + " (default)"
	}
	return "- (no mapping: not extracted)"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
