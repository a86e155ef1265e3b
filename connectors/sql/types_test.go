package sql

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/go-sql-driver/mysql"
)

// typeCase is a table of one row per driver: the DDL of the columns, the
// row's literal values, and what each column must become.
type typeCase struct {
	columns string
	values  []string
	want    []map[string]any // per row; numbers as json.Number text
	schema  map[string]string
	rejects int
}

func TestTypeMappingPostgres(t *testing.T) {
	e := newTestEnv(t, driverPostgres, "DESILO_TEST_POSTGRES_DSN")
	tc := typeCase{
		columns: `id bigint PRIMARY KEY, i2 smallint, i4 integer NOT NULL, n numeric(30,4), f4 real, f8 double precision,
			b boolean, txt text, ts timestamp, tstz timestamptz, d date, tm time, j json, jb jsonb, by bytea, u uuid, arr int[]`,
		values: []string{
			`(1, 2, 3, 12345678901234567890.1234, 1.5, 2.25, true, 'héllo "q"', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+02',
				'2024-02-29', '13:14:15', '{"a": 1}', '{"b": [1, 2]}', '\x00ff', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,2}')`,
			`(2, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'null', NULL, NULL, NULL)`,
			`(3, NULL, 0, 'NaN', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
		},
		want: []map[string]any{
			{"id": "1", "i2": "2", "i4": "3", "n": "12345678901234567890.1234", "f4": "1.5", "f8": "2.25", "b": true,
				"txt": `héllo "q"`, "ts": "2024-01-02T03:04:05.123456Z", "tstz": "2024-01-02T01:04:05Z", "d": "2024-02-29",
				"tm": "13:14:15", "j": map[string]any{"a": "1"}, "jb": map[string]any{"b": []any{"1", "2"}}, "by": "AP8=",
				"u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "arr": "{1,2}"},
			{"id": "2", "i2": nil, "i4": "0", "n": nil, "f4": nil, "f8": nil, "b": nil, "txt": nil, "ts": nil, "tstz": nil,
				"d": nil, "tm": nil, "j": nil, "jb": nil, "by": nil, "u": nil, "arr": nil},
		},
		schema: map[string]string{
			"id": `{"type":"integer"}`, "i2": `{"type":["integer","null"]}`, "i4": `{"type":"integer"}`,
			"n": `{"type":["number","null"]}`, "f8": `{"type":["number","null"]}`, "b": `{"type":["boolean","null"]}`,
			"ts": `{"format":"date-time","type":["string","null"]}`, "d": `{"format":"date","type":["string","null"]}`,
			"jb": `{}`, "by": `{"contentEncoding":"base64","type":["string","null"]}`, "u": `{"type":["string","null"]}`,
		},
		rejects: 1, // the NaN row
	}
	runTypeCase(t, e, tc)
}

func TestTypeMappingMySQL(t *testing.T) {
	e := newTestEnv(t, driverMySQL, "DESILO_TEST_MYSQL_DSN")
	tc := typeCase{
		columns: `id BIGINT UNSIGNED PRIMARY KEY, ti TINYINT, i INT NOT NULL, ubi BIGINT UNSIGNED, amount DECIMAL(30,4),
			f FLOAT, dbl DOUBLE, vc VARCHAR(20), txt TEXT, dt DATETIME(6), ts TIMESTAMP NULL, d DATE, tm TIME, yr YEAR,
			en ENUM('a','b'), j JSON, bl BLOB, vb VARBINARY(10)`,
		values: []string{
			`(1, -1, 3, 18446744073709551615, 12345678901234567890.1234, 1.5, 2.25, 'héllo "q"', 'long', '2024-01-02 03:04:05.123456',
				'2024-01-02 03:04:05', '2024-02-29', '13:14:15', 2024, 'b', '{"a": 1}', x'00ff', x'01')`,
			`(2, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, '0000-00-00 00:00:00', NULL, '0000-00-00', NULL, NULL, NULL, NULL, NULL, NULL)`,
		},
		want: []map[string]any{
			{"id": "1", "ti": "-1", "i": "3", "ubi": "18446744073709551615", "amount": "12345678901234567890.1234", "f": "1.5",
				"dbl": "2.25", "vc": `héllo "q"`, "txt": "long", "dt": "2024-01-02T03:04:05.123456Z", "ts": "2024-01-02T03:04:05Z",
				"d": "2024-02-29", "tm": "13:14:15", "yr": "2024", "en": "b", "bl": "AP8=", "vb": "AQ=="},
			{"id": "2", "ti": nil, "i": "0", "ubi": nil, "amount": nil, "f": nil, "dbl": nil, "vc": nil, "txt": nil, "dt": nil,
				"ts": nil, "d": nil, "tm": nil, "yr": nil, "en": nil, "j": nil, "bl": nil, "vb": nil},
		},
		schema: map[string]string{
			"id": `{"type":"integer"}`, "i": `{"type":"integer"}`, "amount": `{"type":["number","null"]}`,
			"dt": `{"format":"date-time","type":["string","null"]}`, "d": `{"format":"date","type":["string","null"]}`,
			"bl": `{"contentEncoding":"base64","type":["string","null"]}`,
		},
	}
	// MySQL reports JSON as JSON; MariaDB stores it as LONGTEXT, a string.
	var version string
	if err := e.db.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(version, "MariaDB") {
		tc.want[0]["j"] = `{"a": 1}`
	} else {
		tc.want[0]["j"] = map[string]any{"a": "1"}
	}
	cfg, err := mysql.ParseDSN(e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, parseTime := range []bool{true, false} {
		name := "parseTime=false"
		if parseTime {
			name = "parseTime=true"
		}
		t.Run(name, func(t *testing.T) {
			cfg.ParseTime = parseTime
			runTypeCase(t, &testEnv{driver: driverMySQL, dsn: cfg.FormatDSN(), db: e.db}, tc)
		})
	}
}

func runTypeCase(t *testing.T, e *testEnv, tc typeCase) {
	table := e.table(t, "types")
	// Zero dates need a permissive sql_mode on MySQL; one connection keeps it.
	ctx := context.Background()
	conn, err := e.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stmts := []string{"CREATE TABLE " + table + " (" + tc.columns + ")"}
	if e.driver == driverMySQL {
		stmts = append([]string{"SET SESSION sql_mode = ''"}, stmts...)
	}
	stmts = append(stmts, "INSERT INTO "+table+" VALUES "+strings.Join(tc.values, ", "))
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}

	config := e.config(t, map[string]any{"name": "things", "table": table, "primary_key": []string{"id"}})
	streams, err := New().Discover(ctx, config)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if len(streams) != 1 || streams[0].Name != "things" || !reflect.DeepEqual(streams[0].PrimaryKey, []string{"id"}) || streams[0].Mapping != nil {
		t.Fatalf("Discover = %+v", streams)
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(streams[0].Schema, &schema); err != nil {
		t.Fatal(err)
	}
	for col, want := range tc.schema {
		if got := string(schema.Properties[col]); got != want {
			t.Errorf("schema of %s = %s, want %s", col, got, want)
		}
	}

	c := mustRead(t, config, nil)
	if len(c.Records) != len(tc.want) {
		t.Fatalf("got %d records, want %d: %v", len(c.Records), len(tc.want), c.Records)
	}
	compiled := compileSchema(t, streams[0].Schema)
	for i, r := range c.Records {
		validate(t, compiled, r.Data)
		if got := decode(t, r.Data); !reflect.DeepEqual(normalize(got), normalize(tc.want[i])) {
			t.Errorf("record %d:\n got %s\nwant %v", i, r.Data, tc.want[i])
		}
	}
	if len(c.Rejects) != tc.rejects {
		t.Errorf("got %d rejects, want %d: %+v", len(c.Rejects), tc.rejects, c.Rejects)
	}
	for _, r := range c.Rejects {
		if r.Stream != "things" || !strings.Contains(r.Location, table) || !strings.Contains(r.Reason, "column n") {
			t.Errorf("reject = %+v; want it to name the stream, table and column", r)
		}
	}
}

// normalize turns json.Number into its text, so expectations can be
// written as strings that keep every digit.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		return string(x)
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

// TestMySQLTimestampSessionTimeZone checks that a TIMESTAMP is its instant
// whatever the server's or the DSN's session time_zone (MySQL returns
// TIMESTAMP in the session zone, SYSTEM by default; here the DSN sets it,
// as a server in Germany would by default), and that a DATETIME, which has
// no zone, is read in the DSN's loc (UTC without one), also as a cursor.
func TestMySQLTimestampSessionTimeZone(t *testing.T) {
	e := newTestEnv(t, driverMySQL, "DESILO_TEST_MYSQL_DSN")
	table := e.table(t, "tstz")
	conn, err := e.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range []string{"SET time_zone = '+00:00'",
		"CREATE TABLE " + table + " (id INT PRIMARY KEY, ts TIMESTAMP NULL, dt DATETIME NULL)",
		"INSERT INTO " + table + " VALUES (1, '2024-01-02 03:04:05', '2024-01-02 03:04:05'), (2, '2024-07-02 03:04:05', '2024-07-02 03:04:05')"} {
		if _, err := conn.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		loc       *time.Location
		parseTime bool
		dt        [2]string
	}{
		{"no loc", nil, true, [2]string{"2024-01-02T03:04:05Z", "2024-07-02T03:04:05Z"}},
		{"no loc parseTime=false", nil, false, [2]string{"2024-01-02T03:04:05Z", "2024-07-02T03:04:05Z"}},
		{"loc Berlin", berlin, true, [2]string{"2024-01-02T02:04:05Z", "2024-07-02T01:04:05Z"}},
		{"loc Berlin parseTime=false", berlin, false, [2]string{"2024-01-02T02:04:05Z", "2024-07-02T01:04:05Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := mysql.ParseDSN(e.dsn)
			if err != nil {
				t.Fatal(err)
			}
			cfg.ParseTime = tc.parseTime
			if tc.loc != nil {
				cfg.Loc = tc.loc
			}
			cfg.Params = map[string]string{"time_zone": "'+02:00'"}
			env := testEnv{driver: driverMySQL, dsn: cfg.FormatDSN(), db: e.db}
			for _, cursor := range []string{"ts", "dt"} {
				c := readAtMost(t, env.config(t, map[string]any{"name": "s", "table": table, "primary_key": []string{"id"}, "cursor_field": cursor, "batch_size": 1}), nil, 20)
				if got := ids(t, c.Records, "id"); !slices.Equal(got, []string{"1", "2"}) {
					t.Fatalf("cursor %s: read ids %v, want 1,2", cursor, got)
				}
				for i, want := range [2]string{"2024-01-02T03:04:05Z", "2024-07-02T03:04:05Z"} {
					if got := decode(t, c.Records[i].Data)["ts"]; got != want {
						t.Errorf("cursor %s: ts = %v, want the instant %s", cursor, got, want)
					}
					if got := decode(t, c.Records[i].Data)["dt"]; got != tc.dt[i] {
						t.Errorf("cursor %s: dt = %v, want %s", cursor, got, tc.dt[i])
					}
				}
			}
		})
	}

	// The DSN's time_zone is replaced, not silently.
	var logs bytes.Buffer
	ctx := connector.WithLogger(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)))
	cfg, err := mysql.ParseDSN(e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Params = map[string]string{"time_zone": "'+02:00'"}
	env := testEnv{driver: driverMySQL, dsn: cfg.FormatDSN(), db: e.db}
	if err := New().Check(ctx, env.config(t, map[string]any{"name": "s", "table": table, "primary_key": []string{"id"}})); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "WARN") || !strings.Contains(logs.String(), "time_zone") {
		t.Errorf("logs = %q, want a warning that the DSN's time_zone is replaced", logs.String())
	}
	// Every connection is in UTC, whatever the server's default.
	db, err := dialect{name: driverMySQL}.open(t.Context(), env.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var zone string
	if err := db.QueryRow("SELECT @@session.time_zone").Scan(&zone); err != nil || zone != "+00:00" {
		t.Errorf("session time_zone = %q, %v; want +00:00", zone, err)
	}
}

// TestPostgresRealDigits checks that a real (float4), which pgx hands over
// as a float64, is written with the shortest digits of a 32-bit float, as
// PostgreSQL prints it (1.1, not 1.100000023841858), and pages as a
// cursor.
func TestPostgresRealDigits(t *testing.T) {
	e := newTestEnv(t, driverPostgres, "DESILO_TEST_POSTGRES_DSN")
	table := e.table(t, "real")
	e.exec(t, "CREATE TABLE "+table+" (id int PRIMARY KEY, f real NOT NULL)",
		"INSERT INTO "+table+" VALUES (1, 1.1), (2, 1.1), (3, -0.1), (4, 3.4028235e38), (5, 1e-45), (6, 123456.78)")
	c := mustRead(t, e.config(t, map[string]any{"name": "s", "table": table, "primary_key": []string{"id"}, "cursor_field": "f", "batch_size": 1}), nil)
	var got []string
	for _, r := range c.Records {
		got = append(got, string(r.Data))
	}
	want := []string{`{"id":3,"f":-0.1}`, `{"id":5,"f":1e-45}`, `{"id":1,"f":1.1}`, `{"id":2,"f":1.1}`, `{"id":6,"f":123456.78}`, `{"id":4,"f":3.4028235e+38}`}
	if !slices.Equal(got, want) {
		t.Errorf("records\n got %v\nwant %v", got, want)
	}
}

// TestMySQLFloatSameOnEveryPage checks that a MySQL FLOAT is written alike
// on every page: the first page has no parameters, so the driver used the
// text protocol, where MariaDB writes FLOAT with 6 significant digits
// (123457), while later pages used the binary protocol (123456.78); as a
// cursor the rounded saved key skipped rows. interpolateParams=true in the
// DSN would put every page on the text protocol.
func TestMySQLFloatSameOnEveryPage(t *testing.T) {
	e := newTestEnv(t, driverMySQL, "DESILO_TEST_MYSQL_DSN")
	table := e.table(t, "float")
	e.exec(t, "CREATE TABLE "+table+" (id INT PRIMARY KEY, f FLOAT NOT NULL)",
		"INSERT INTO "+table+" VALUES (1, 123456.78), (2, 123456.78), (3, 123456.78), (4, 1.1)")
	want := []string{`{"id":4,"f":1.1}`, `{"id":1,"f":123456.78}`, `{"id":2,"f":123456.78}`, `{"id":3,"f":123456.78}`}
	for _, interpolate := range []bool{false, true} {
		for _, batch := range []int{1, 2, 10} {
			t.Run(fmt.Sprintf("interpolateParams=%v batch %d", interpolate, batch), func(t *testing.T) {
				cfg, err := mysql.ParseDSN(e.dsn)
				if err != nil {
					t.Fatal(err)
				}
				cfg.InterpolateParams = interpolate
				env := testEnv{driver: driverMySQL, dsn: cfg.FormatDSN(), db: e.db}
				for _, cursor := range []string{"", "f"} {
					c := readAtMost(t, env.config(t, map[string]any{"name": "s", "table": table, "primary_key": []string{"id"}, "cursor_field": cursor, "batch_size": batch}), nil, 20)
					var got []string
					for _, r := range c.Records {
						got = append(got, string(r.Data))
					}
					if cursor == "" {
						got = append(got[3:], got[:3]...) // by id: 4 last
					}
					if !slices.Equal(got, want) {
						t.Errorf("cursor %q: records\n got %v\nwant %v", cursor, got, want)
					}
				}
			})
		}
	}
}
