// Package builtin lists the connectors compiled into the desilo binary.
// They still run as separate processes: the host re-executes desilo as
// `desilo connector serve NAME`. Adding a connector is one line here.
package builtin

import (
	"slices"

	"github.com/desilo/desilo/connectors/files"
	"github.com/desilo/desilo/connectors/hubspot"
	"github.com/desilo/desilo/connectors/imap"
	"github.com/desilo/desilo/connectors/shopify"
	"github.com/desilo/desilo/connectors/sql"
	"github.com/desilo/desilo/connectors/zendesk"
	"github.com/desilo/desilo/plugins/connector"
)

var all = map[string]func() connector.Connector{
	"files":   func() connector.Connector { return files.New() },
	"hubspot": func() connector.Connector { return hubspot.New() },
	"imap":    func() connector.Connector { return imap.New() },
	"shopify": func() connector.Connector { return shopify.New() },
	"sql":     func() connector.Connector { return sql.New() },
	"zendesk": func() connector.Connector { return zendesk.New() },
}

// Get returns a new instance of the named built-in connector.
func Get(name string) (connector.Connector, bool) {
	f, ok := all[name]
	if !ok {
		return nil, false
	}
	return f(), true
}

// Has reports whether name is a built-in connector.
func Has(name string) bool { _, ok := all[name]; return ok }

// Names lists the built-in connectors, sorted.
func Names() []string {
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
