package sql

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

// Source is the sql connector.
type Source struct{}

// New returns the sql connector.
func New() *Source { return &Source{} }

var _ connector.Connector = (*Source)(nil)

// Spec implements connector.Connector.
func (*Source) Spec() connector.Spec {
	return connector.Spec{
		Name:            "sql",
		Version:         "0.1.0",
		ProtocolVersion: connector.ProtocolVersion,
		Description:     "PostgreSQL and MySQL/MariaDB tables and queries, read incrementally by a cursor column with keyset paging; preset woocommerce.",
		ConfigSchema:    configSchema,
	}
}

// session is one open connection pool and the config it serves.
type session struct {
	cfg     *config
	d       dialect
	db      *stdsql.DB
	secrets []string
}

func openSession(ctx context.Context, raw json.RawMessage) (*session, error) {
	cfg, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	d := dialect{name: cfg.Driver}
	if d.name == driverMySQL {
		d.loc = mysqlLoc(cfg.DSN)
	}
	db, err := d.open(ctx, cfg.DSN)
	if err != nil {
		return nil, err
	}
	return &session{cfg: cfg, d: d, db: db, secrets: d.secrets(cfg.DSN)}, nil
}

func (s *session) close() { s.db.Close() }

// column is one column of a stream's result.
type column struct {
	name     string
	kind     kind
	nullable bool
	// loc is the zone the column's zone-less date-times are read in, when
	// not UTC: MySQL DATETIME with loc in the DSN.
	loc *time.Location
	// byText says keyset paging orders and compares the column by its
	// text: MySQL ENUM and SET, which ORDER BY sorts by position in the
	// type but a comparison with a string compares as text.
	byText bool
}

// resolvedStream is a stream config checked against the database.
type resolvedStream struct {
	cfg    *streamConfig
	cols   []column
	keyIdx []int // positions in cols of cfg.keyColumns()
}

// from returns the FROM source of a stream: the quoted table, or the query
// as a subquery.
func (s *session) from(sc *streamConfig) string {
	if sc.Table != "" {
		return s.d.quoteIdent(sc.Table) + " AS desilo_t"
	}
	return "(" + sc.Query + ") AS desilo_t"
}

func (sc *streamConfig) what() string {
	if sc.Table != "" {
		return "table " + sc.Table
	}
	return "query"
}

// resolve reads a stream's columns and checks its key columns exist and
// can be compared.
func (s *session) resolve(ctx context.Context, sc *streamConfig) (*resolvedStream, error) {
	fail := func(err error) (*resolvedStream, error) {
		if refusedByConfig(err) {
			err = fmt.Errorf("%w: %w", err, connector.ErrConfig)
		}
		return nil, redact(fmt.Errorf("stream %s (%s): %w", sc.Name, sc.what(), err), s.secrets)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT * FROM "+s.from(sc)+" LIMIT 0")
	if err != nil {
		return fail(err)
	}
	types, err := rows.ColumnTypes()
	rows.Close()
	if err != nil {
		return fail(err)
	}
	var nullable map[string]bool
	if sc.Table != "" {
		if nullable, err = s.d.nullableColumns(ctx, s.db, sc.Table); err != nil {
			return fail(fmt.Errorf("read column nullability: %w", err))
		}
	}
	rs := &resolvedStream{cfg: sc}
	index := map[string]int{}
	for i, t := range types {
		if _, dup := index[t.Name()]; dup {
			return fail(configError("column %s appears twice; give the query's columns unique names", t.Name()))
		}
		index[t.Name()] = i
		c := column{name: t.Name(), kind: s.d.kindOf(t.DatabaseTypeName()), loc: s.d.columnLoc(t.DatabaseTypeName()), byText: s.d.ordersByPosition(t.DatabaseTypeName())}
		n, known := nullable[c.name]
		// A query's columns, and MySQL dates (zero dates are written as
		// null), may always be null.
		c.nullable = n || !known || (s.d.name == driverMySQL && (c.kind == kindTimestamp || c.kind == kindDate))
		rs.cols = append(rs.cols, c)
	}
	for _, k := range sc.keyColumns() {
		i, ok := index[k]
		if !ok {
			role := "primary_key"
			if k == sc.CursorField {
				role = "cursor_field"
			}
			return fail(configError("%s column %s not found; columns are %s", role, k, strings.Join(columnNames(rs.cols), ", ")))
		}
		if !rs.cols[i].kind.usableAsKey() {
			return fail(configError("column %s is JSON and cannot be a cursor or primary key column", k))
		}
		rs.keyIdx = append(rs.keyIdx, i)
	}
	return rs, nil
}

func columnNames(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// recordSchema is the JSON Schema of a stream's records.
func (rs *resolvedStream) recordSchema() json.RawMessage {
	props := map[string]any{}
	required := []string{}
	for _, c := range rs.cols {
		props[c.name] = c.kind.schema(c.nullable)
		required = append(required, c.name)
	}
	b, _ := json.Marshal(map[string]any{
		"$schema":    "https://json-schema.org/draft/2020-12/schema",
		"type":       "object",
		"properties": props,
		"required":   required,
	})
	return b
}

// Check implements connector.Connector: it connects, pings, and checks
// that every stream's table or query runs and has its key columns.
func (src *Source) Check(ctx context.Context, raw json.RawMessage) error {
	s, err := openSession(ctx, raw)
	if err != nil {
		return err
	}
	defer s.close()
	for i := range s.cfg.Streams {
		if _, err := s.resolve(ctx, &s.cfg.Streams[i]); err != nil {
			return err
		}
	}
	return nil
}

// Discover implements connector.Connector.
func (src *Source) Discover(ctx context.Context, raw json.RawMessage) ([]connector.Stream, error) {
	s, err := openSession(ctx, raw)
	if err != nil {
		return nil, err
	}
	defer s.close()
	var out []connector.Stream
	for i := range s.cfg.Streams {
		sc := &s.cfg.Streams[i]
		rs, err := s.resolve(ctx, sc)
		if err != nil {
			return nil, err
		}
		out = append(out, connector.Stream{
			Name:        sc.Name,
			Description: "rows of " + sc.what(),
			Schema:      rs.recordSchema(),
			PrimaryKey:  sc.PrimaryKey,
			CursorField: sc.CursorField,
			Mapping:     sc.mapping,
		})
	}
	return out, nil
}

// Read implements connector.Connector.
func (src *Source) Read(ctx context.Context, req connector.ReadRequest, out connector.Emitter) error {
	s, err := openSession(ctx, req.Config)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := decodeState(req.State)
	if err != nil {
		return err
	}
	selected, err := s.selectStreams(req.Streams)
	if err != nil {
		return err
	}
	for _, sc := range selected {
		rs, err := s.resolve(ctx, sc)
		if err != nil {
			return err
		}
		r := &streamReader{s: s, rs: rs, st: st, out: out}
		if err := r.read(ctx); err != nil {
			return redact(err, s.secrets)
		}
	}
	return nil
}

func (s *session) selectStreams(names []string) ([]*streamConfig, error) {
	var out []*streamConfig
	if len(names) == 0 {
		for i := range s.cfg.Streams {
			out = append(out, &s.cfg.Streams[i])
		}
		return out, nil
	}
	for _, n := range names {
		var found *streamConfig
		for i := range s.cfg.Streams {
			if s.cfg.Streams[i].Name == n {
				found = &s.cfg.Streams[i]
			}
		}
		if found == nil {
			return nil, fmt.Errorf("sql: stream %q is not in the config", n)
		}
		out = append(out, found)
	}
	return out, nil
}
