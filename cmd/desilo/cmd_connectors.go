package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/connectors/builtin"
	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/host"
	"github.com/desilo/desilo/plugins/sdk"
	"github.com/desilo/desilo/plugins/specdoc"
)

func (a *app) connectorsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connectors",
		Short: "List connectors",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List built-in connectors and those found on the plugin path",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runConnectorsList(cmd.Context())
		},
	})
	return cmd
}

func (a *app) connectorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connector",
		Short: "Work with one connector",
	}
	var asJSON bool
	spec := &cobra.Command{
		Use:   "spec NAME",
		Short: "Show a connector's version and config fields",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runConnectorSpec(cmd.Context(), args[0], asJSON)
		},
	}
	spec.Flags().BoolVar(&asJSON, "json", false, "print the spec as JSON, with the config's JSON Schema")
	cmd.AddCommand(spec, &cobra.Command{
		Use:    "serve NAME",
		Short:  "Serve a built-in connector over the plugin protocol (started by desilo itself)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ok := builtin.Get(args[0])
			if !ok {
				return withCode(exitUsage, fmt.Errorf("no built-in connector %q", args[0]))
			}
			sdk.Serve(c) // does not return
			return nil
		},
	})
	return cmd
}

type listedConnector struct {
	Name     string
	Version  string
	Protocol int
	Kind     string // built-in or plugin
	Where    string
}

func (a *app) runConnectorsList(ctx context.Context) error {
	var rows []listedConnector
	for _, name := range builtin.Names() {
		c, _ := builtin.Get(name)
		s := c.Spec()
		rows = append(rows, listedConnector{s.Name, s.Version, s.ProtocolVersion, "built-in", "desilo"})
	}
	h := a.newHost(nil)
	defer h.Close()
	for _, f := range host.ListPlugins(host.SearchPath(a.pluginDirs)) {
		row := listedConnector{Name: f.Name, Kind: "plugin", Where: f.Path}
		if builtin.Has(f.Name) {
			row.Version = "(shadowed by the built-in)"
		} else if s, err := a.pluginSpec(ctx, h, f.Name); err != nil {
			a.log.Warn("plugin does not answer", "path", f.Path, "error", err)
			row.Version = "(broken: see log)"
		} else {
			row.Version, row.Protocol = s.Version, s.ProtocolVersion
		}
		rows = append(rows, row)
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tVERSION\tPROTOCOL\tKIND\tLOCATION")
	for _, r := range rows {
		proto := "-"
		if r.Protocol > 0 {
			proto = fmt.Sprint(r.Protocol)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Version, proto, r.Kind, r.Where)
	}
	return w.Flush()
}

// pluginSpec launches a third-party connector just to ask for its spec.
func (a *app) pluginSpec(ctx context.Context, h *host.Host, name string) (connector.Spec, error) {
	p, err := h.Launch(ctx, host.Target{Connector: name})
	if err != nil {
		return connector.Spec{}, err
	}
	defer p.Close()
	return p.Spec(), nil
}

func (a *app) runConnectorSpec(ctx context.Context, name string, asJSON bool) error {
	var spec connector.Spec
	if c, ok := builtin.Get(name); ok {
		spec = c.Spec()
	} else {
		h := a.newHost(nil)
		defer h.Close()
		s, err := a.pluginSpec(ctx, h, name)
		if errors.Is(err, host.ErrNotFound) {
			return withCode(exitConfig, err)
		}
		if err != nil {
			return err // the plugin is there but broken
		}
		spec = s
	}
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(spec)
	}
	text, err := specdoc.Text(spec)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(a.stdout, text)
	return err
}
