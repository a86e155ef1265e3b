package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

const (
	driverPostgres = "postgres"
	driverMySQL    = "mysql"
)

// dialect holds what differs between PostgreSQL and MySQL/MariaDB: quoting,
// placeholders, type names and the catalog queries.
type dialect struct {
	name string
	// loc is the zone MySQL's zone-less DATETIME values are read in (see
	// mysqlLoc); nil means UTC.
	loc *time.Location
}

// mysqlLoc returns the zone the connector reads MySQL's zone-less
// DATETIME values in: the DSN's loc, UTC without one (with parseTime
// true or false alike). TIMESTAMP values are instants: the connector sets
// the session time_zone to UTC and reads them as UTC.
func mysqlLoc(dsn string) *time.Location {
	c, err := mysql.ParseDSN(dsn)
	if err != nil || c.Loc == nil {
		return time.UTC
	}
	return c.Loc
}

// keyParam turns a key value keyArg returned for column c into the query
// parameter the database compares with that column. MySQL gets dates and
// date-times as text, in the zone the column is read in (UTC for
// TIMESTAMP, the session being in UTC): the driver would convert a
// time.Time parameter to the DSN's loc, so a DATE key (midnight UTC) became
// 01:00 of its day in Europe/Berlin, after every row of that day.
func (d dialect) keyParam(c column, v any) any {
	t, ok := v.(time.Time)
	if !ok || d.name != driverMySQL {
		return v
	}
	if c.kind == kindDate {
		return t.Format(time.DateOnly)
	}
	loc := c.loc
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(mysqlDateTimeLayout)
}

// columnLoc returns the zone a column's zone-less date-times are read in,
// nil for UTC or for a column of another type: MySQL DATETIME columns in
// the DSN's loc.
func (d dialect) columnLoc(typeName string) *time.Location {
	if d.name != driverMySQL || d.loc == nil || d.loc == time.UTC || !strings.EqualFold(typeName, "DATETIME") {
		return nil
	}
	return d.loc
}

func (d dialect) sqlDriver() string {
	if d.name == driverPostgres {
		return "pgx"
	}
	return "mysql"
}

// quoteIdent quotes a possibly schema-qualified name (public.customers):
// each dot-separated part is quoted on its own, so a name cannot inject SQL.
func (d dialect) quoteIdent(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		if d.name == driverPostgres {
			parts[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
		} else {
			parts[i] = "`" + strings.ReplaceAll(p, "`", "``") + "`"
		}
	}
	return strings.Join(parts, ".")
}

// quoteColumn quotes one column name; a dot in it is part of the name.
func (d dialect) quoteColumn(name string) string {
	if d.name == driverPostgres {
		return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// placeholder returns the n-th (1-based) query parameter.
func (d dialect) placeholder(n int) string {
	if d.name == driverPostgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// ordersByPosition says whether ORDER BY sorts a column of this type by
// something other than the text it is compared as: MySQL's ENUM and SET
// sort by their position in the type.
func (d dialect) ordersByPosition(typeName string) bool {
	t := strings.ToUpper(typeName)
	return d.name == driverMySQL && (t == "ENUM" || t == "SET")
}

// keyExpr is the expression keyset paging orders and compares a key column
// by: the column, or for an ENUM or SET its text, so that order and
// comparison agree (an index on the column is then not used for the order).
func (d dialect) keyExpr(c column) string {
	q := "desilo_t." + d.quoteColumn(c.name)
	if c.byText {
		return "CAST(" + q + " AS CHAR)"
	}
	return q
}

// cursorConditions returns two conditions on a stream's cursor column c
// that split its rows: placed, the rows keyset paging by the cursor can
// place, and unplaced, the exact complement: NULL, and the values that
// have no JSON form a saved key could hold (MySQL zero dates, PostgreSQL
// NaN and, for floats, ±Infinity). others says whether a column that does
// not allow NULL can still have unplaced rows. Both conditions are ranges
// an index on the cursor serves.
func (d dialect) cursorConditions(c column) (placed, unplaced string, others bool) {
	q := "desilo_t." + d.quoteColumn(c.name)
	switch {
	case d.name == driverMySQL && (c.kind == kindTimestamp || c.kind == kindDate):
		// '0000-00-00' and other dates before year 1.
		return q + " >= '0001-01-01'", "(" + q + " IS NULL OR " + q + " < '0001-01-01')", true
	case d.name == driverPostgres && (c.kind == kindFloat || c.kind == kindFloat32):
		// PostgreSQL sorts NaN above Infinity.
		return "(" + q + " > '-Infinity' AND " + q + " < 'Infinity')", "(" + q + " IS NULL OR " + q + " <= '-Infinity' OR " + q + " >= 'Infinity')", true
	case d.name == driverPostgres && c.kind == kindDecimal:
		// NaN sorts above every number. (numeric's ±Infinity, PostgreSQL
		// 14 and later, has no literal before 14, so it is not excluded.)
		return q + " < 'NaN'", "(" + q + " IS NULL OR " + q + " >= 'NaN')", true
	}
	return q + " IS NOT NULL", q + " IS NULL", false
}

// kindOf classifies a column by the type name database/sql reports
// (ColumnType.DatabaseTypeName: pgx gives PostgreSQL's internal names in
// upper case, INT8, TIMESTAMPTZ; the MySQL driver gives BIGINT, DATETIME).
func (d dialect) kindOf(typeName string) kind {
	t := strings.ToUpper(typeName)
	if d.name == driverPostgres {
		switch t {
		case "INT2", "INT4", "INT8", "OID", "XID", "CID":
			return kindInt
		case "NUMERIC":
			return kindDecimal
		case "FLOAT4":
			return kindFloat32
		case "FLOAT8":
			return kindFloat
		case "BOOL":
			return kindBool
		case "TIMESTAMP", "TIMESTAMPTZ":
			return kindTimestamp
		case "DATE":
			return kindDate
		case "JSON", "JSONB":
			return kindJSON
		case "BYTEA":
			return kindBytes
		}
		return kindString
	}
	switch strings.TrimPrefix(t, "UNSIGNED ") {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "YEAR":
		return kindInt
	case "DECIMAL":
		return kindDecimal
	case "FLOAT":
		return kindFloat32
	case "DOUBLE":
		return kindFloat
	case "DATETIME", "TIMESTAMP":
		return kindTimestamp
	case "DATE":
		return kindDate
	case "JSON":
		return kindJSON
	case "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY", "BIT", "GEOMETRY":
		return kindBytes
	}
	return kindString
}

// nullableColumns returns, for a table, which of its columns allow NULL,
// from information_schema. The table may be schema-qualified; otherwise it
// is looked up in the connection's current schema (PostgreSQL) or
// database (MySQL).
func (d dialect) nullableColumns(ctx context.Context, db *stdsql.DB, table string) (map[string]bool, error) {
	schemaExpr := "current_schema()"
	if d.name == driverMySQL {
		schemaExpr = "database()"
	}
	var args []any
	where := "table_schema = " + schemaExpr + " AND table_name = " + d.placeholder(1)
	if schema, name, ok := strings.Cut(table, "."); ok {
		where = "table_schema = " + d.placeholder(1) + " AND table_name = " + d.placeholder(2)
		args = append(args, schema, name)
	} else {
		args = append(args, table)
	}
	rows, err := db.QueryContext(ctx, "SELECT column_name, is_nullable FROM information_schema.columns WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var col, nullable string
		if err := rows.Scan(&col, &nullable); err != nil {
			return nil, err
		}
		out[col] = nullable == "YES"
	}
	return out, rows.Err()
}

// secrets returns the strings of a DSN that must never reach a log or an
// error: the DSN itself and its password, when it parses.
func (d dialect) secrets(dsn string) []string {
	out := []string{dsn}
	var password string
	if d.name == driverPostgres {
		if c, err := pgx.ParseConfig(dsn); err == nil {
			password = c.Password
		}
	} else if c, err := mysql.ParseDSN(dsn); err == nil {
		password = c.Passwd
	}
	if password != "" {
		out = append(out, password)
	}
	return out
}

// redactedError replaces secrets in an error's message. It still unwraps to
// the original error, so errors.Is(err, context.Canceled) keeps working.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with every secret replaced by [redacted].
func redact(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, s := range secrets {
		if s != "" {
			clean = strings.ReplaceAll(clean, s, "[redacted]")
		}
	}
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// mysqlSessionTimeZone is the session time_zone the connector sets on every
// MySQL connection: MySQL returns TIMESTAMP values in the session zone, and
// the connector reads them as UTC.
const mysqlSessionTimeZone = "'+00:00'"

// open connects and pings. Its error names the driver, never the DSN.
func (d dialect) open(ctx context.Context, dsn string) (*stdsql.DB, error) {
	var db *stdsql.DB
	if d.name == driverMySQL {
		c, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, redact(fmt.Errorf("sql: open %s connection: %w", d.name, err), d.secrets(dsn))
		}
		for k, v := range c.Params {
			if strings.EqualFold(k, "time_zone") {
				if v != mysqlSessionTimeZone {
					connector.Log(ctx).Warn("sql: the DSN sets time_zone; the connector sets it to '+00:00' on every connection, so TIMESTAMP values read as their instants (SQL in a query stream that depends on the session zone, such as NOW() or a date-time literal compared with a TIMESTAMP, sees UTC)")
				}
				delete(c.Params, k)
			}
		}
		if c.Params == nil {
			c.Params = map[string]string{}
		}
		c.Params["time_zone"] = mysqlSessionTimeZone
		// The driver returns date-times in UTC as they are on the wire; the
		// connector reads DATETIME in loc itself (see columnLoc).
		c.Loc = time.UTC
		// Every page is a prepared statement, read through the binary
		// protocol (see pageQuery): with the text protocol MariaDB writes
		// FLOAT with 6 significant digits.
		c.InterpolateParams = false
		conn, err := mysql.NewConnector(c)
		if err != nil {
			return nil, redact(fmt.Errorf("sql: open %s connection: %w", d.name, err), d.secrets(dsn))
		}
		db = stdsql.OpenDB(conn)
	} else {
		var err error
		if db, err = stdsql.Open(d.sqlDriver(), dsn); err != nil {
			return nil, redact(fmt.Errorf("sql: open %s connection: %w", d.name, err), d.secrets(dsn))
		}
	}
	// Streams are read one after another; one connection plus one for the
	// catalog lookups is all a read needs.
	db.SetMaxOpenConns(2)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		if refusedByConfig(err) {
			err = fmt.Errorf("%w: %w", err, connector.ErrConfig)
		}
		return nil, redact(fmt.Errorf("sql: connect to %s: %w", d.name, err), d.secrets(dsn))
	}
	return db, nil
}

// refusedByConfig reports whether a database error means the source's
// config is wrong rather than the database unwell: a password, database,
// table or column the database does not know, a privilege it refuses, a
// query it cannot parse.
func refusedByConfig(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && len(pe.Code) == 5 {
		switch pe.Code[:2] {
		case "28", // invalid authorization
			"3D", // invalid catalog name: no such database
			"42": // syntax error or access rule violation
			return true
		}
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1044, 1045, // access denied
			1049,       // unknown database
			1054,       // unknown column
			1064,       // syntax error
			1142, 1143, // command or column denied
			1146: // no such table
			return true
		}
	}
	return false
}

// configError is an error of the stream's config, which the connector
// judges against the database.
func configError(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, connector.ErrConfig)...)
}
