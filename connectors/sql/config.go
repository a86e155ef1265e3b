package sql

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

//go:embed config.schema.json
var configSchema []byte

const defaultBatchSize = 10000

// config is the connector's config, as described by config.schema.json.
type config struct {
	Driver      string         `json:"driver"`
	DSN         string         `json:"dsn"`
	Preset      string         `json:"preset,omitempty"`
	TablePrefix *string        `json:"table_prefix,omitempty"`
	Streams     []streamConfig `json:"streams,omitempty"`
}

// streamConfig is one table or query stream.
type streamConfig struct {
	Name        string   `json:"name"`
	Table       string   `json:"table,omitempty"`
	Query       string   `json:"query,omitempty"`
	PrimaryKey  []string `json:"primary_key"`
	CursorField string   `json:"cursor_field,omitempty"`
	// CursorLookback is a Go duration (timestamp cursors only).
	CursorLookback string `json:"cursor_lookback,omitempty"`
	BatchSize      int    `json:"batch_size,omitempty"`

	// mapping is the default mapping; only preset streams have one.
	mapping *connector.Mapping
	// lookback is CursorLookback parsed.
	lookback time.Duration
}

var (
	streamNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	tablePrefixRE = regexp.MustCompile(`^[A-Za-z0-9_]*$`)
)

// parseConfig decodes and checks a config strictly. The host validates the
// config against the JSON Schema already; this repeats the checks that
// matter, so the connector is safe to run in-process too. Errors never
// contain the DSN.
func parseConfig(raw json.RawMessage) (*config, error) {
	var c config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// encoding/json errors name fields and types, not values, except
		// syntax errors, which name only an offset.
		return nil, fmt.Errorf("sql config: %w", err)
	}
	if c.Driver != driverPostgres && c.Driver != driverMySQL {
		return nil, fmt.Errorf("sql config: driver %q: want postgres or mysql", c.Driver)
	}
	if c.DSN == "" {
		return nil, errors.New("sql config: dsn is required")
	}
	switch c.Preset {
	case "":
		if c.TablePrefix != nil {
			return nil, errors.New("sql config: table_prefix is only used with a preset")
		}
	case presetWooCommerce:
		if c.Driver != driverMySQL {
			return nil, errors.New("sql config: preset woocommerce needs driver mysql (WordPress runs on MySQL or MariaDB)")
		}
		prefix := "wp_"
		if c.TablePrefix != nil {
			prefix = *c.TablePrefix
		}
		if !tablePrefixRE.MatchString(prefix) {
			return nil, fmt.Errorf("sql config: table_prefix %q: only letters, digits and _ are allowed", prefix)
		}
		c.Streams = append(wooCommerceStreams(prefix), c.Streams...)
	default:
		return nil, fmt.Errorf("sql config: preset %q: the only preset is woocommerce", c.Preset)
	}
	if len(c.Streams) == 0 {
		return nil, errors.New("sql config: no streams: give streams or a preset")
	}
	seen := map[string]bool{}
	for i := range c.Streams {
		s := &c.Streams[i]
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("sql config: streams[%d]: %w", i, err)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("sql config: streams[%d]: stream name %q is used twice", i, s.Name)
		}
		seen[s.Name] = true
		if s.BatchSize == 0 {
			s.BatchSize = defaultBatchSize
		}
	}
	return &c, nil
}

func (s *streamConfig) check() error {
	if !streamNameRE.MatchString(s.Name) {
		return fmt.Errorf("name %q: use letters, digits and _, not starting with a digit", s.Name)
	}
	if (s.Table == "") == (s.Query == "") {
		return fmt.Errorf("stream %s: give exactly one of table and query", s.Name)
	}
	if strings.HasSuffix(strings.TrimSpace(s.Query), ";") {
		return fmt.Errorf("stream %s: query must not end with a semicolon (it is wrapped as a subquery)", s.Name)
	}
	if len(s.PrimaryKey) == 0 {
		return fmt.Errorf("stream %s: primary_key is required (keyset paging needs it)", s.Name)
	}
	for _, k := range s.PrimaryKey {
		if k == "" {
			return fmt.Errorf("stream %s: primary_key has an empty column name", s.Name)
		}
	}
	if s.BatchSize < 0 {
		return fmt.Errorf("stream %s: batch_size %d: must be positive", s.Name, s.BatchSize)
	}
	if s.CursorLookback != "" {
		d, err := time.ParseDuration(s.CursorLookback)
		switch {
		case err != nil || d < 0:
			return fmt.Errorf("stream %s: cursor_lookback %q: want a duration such as \"10m\"", s.Name, s.CursorLookback)
		case s.CursorField == "":
			return fmt.Errorf("stream %s: cursor_lookback needs a cursor_field", s.Name)
		}
		s.lookback = d
	}
	return nil
}

// keyColumns returns the columns keyset paging orders by: the cursor (if
// any) and then the primary key columns other than the cursor (an
// append-only table may use its id as both).
func (s *streamConfig) keyColumns() []string {
	if s.CursorField == "" {
		return s.PrimaryKey
	}
	cols := []string{s.CursorField}
	for _, k := range s.PrimaryKey {
		if k != s.CursorField {
			cols = append(cols, k)
		}
	}
	return cols
}
