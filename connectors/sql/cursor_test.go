package sql

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
	"github.com/go-sql-driver/mysql"
)

// cursorVariant is a cursor column type with four increasing values.
type cursorVariant struct {
	name           string
	pgType, myType string
	values         [4]string // SQL literals, increasing
	pkType         string    // "int" or "text"
}

var cursorVariants = []cursorVariant{
	{"timestamp", "timestamptz", "DATETIME(6)", [4]string{
		"'2024-01-01 00:00:00.000001'", "'2024-01-01 00:00:00.000002'", "'2024-01-01 00:00:01'", "'2024-06-01 12:00:00'"}, "int"},
	{"decimal", "numeric(20,6)", "DECIMAL(20,6)", [4]string{"1.000001", "1.000002", "2", "1000000.5"}, "text"},
	{"bigint", "bigint", "BIGINT", [4]string{"10", "20", "30", "9007199254740993"}, "int"},
	{"date", "date", "DATE", [4]string{"'2024-01-01'", "'2024-01-02'", "'2024-02-01'", "'2025-01-01'"}, "text"},
	{"varchar", "varchar(20)", "VARCHAR(20)", [4]string{"'a'", "'b'", "'c'", "'d'"}, "int"},
}

// pk formats a row id for the variant's key type; text keys are zero
// padded so their order is the numeric one.
func (v cursorVariant) pk(id int) string {
	if v.pkType == "text" {
		return fmt.Sprintf("'k%03d'", id)
	}
	return fmt.Sprint(id)
}

func (v cursorVariant) key(id int) string {
	return strings.Trim(v.pk(id), "'")
}

// TestTieSafeCursor checks keyset paging where many rows share a cursor
// value across page boundaries: a full read, an interrupted read resumed
// from its last checkpoint, and rows written after the checkpoint with the
// checkpoint's cursor value.
func TestTieSafeCursor(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *testEnv) {
		for _, v := range cursorVariants {
			t.Run(v.name, func(t *testing.T) { testTieSafeCursor(t, e, v) })
		}
	})
}

func testTieSafeCursor(t *testing.T, e *testEnv, v cursorVariant) {
	table := e.table(t, "tie")
	pkType := e.pick("bigint", "BIGINT")
	if v.pkType == "text" {
		pkType = e.pick("varchar(10)", "VARCHAR(10)")
	}
	e.exec(t, fmt.Sprintf("CREATE TABLE %s (id %s PRIMARY KEY, changed %s NOT NULL, note varchar(20))",
		table, pkType, e.pick(v.pgType, v.myType)))
	// ids 41-45 have the smallest cursor, 6-40 share one (35 rows over four
	// pages of 10), 1-5 have the largest.
	var rows []string
	for id := 1; id <= 45; id++ {
		c := v.values[1]
		switch {
		case id > 40:
			c = v.values[0]
		case id <= 5:
			c = v.values[2]
		}
		rows = append(rows, fmt.Sprintf("(%s, %s, 'n%d')", v.pk(id), c, id))
	}
	e.exec(t, "INSERT INTO "+table+" (id, changed, note) VALUES "+strings.Join(rows, ", "))
	var order []string
	for _, r := range [][2]int{{41, 45}, {6, 40}, {1, 5}} {
		for id := r[0]; id <= r[1]; id++ {
			order = append(order, v.key(id))
		}
	}
	config := e.config(t, map[string]any{
		"name": "rows", "table": table, "primary_key": []string{"id"}, "cursor_field": "changed", "batch_size": 10,
	})

	full := mustRead(t, config, nil)
	if got := ids(t, full.Records, "id"); !slices.Equal(got, order) {
		t.Fatalf("full read order:\n got %v\nwant %v", got, order)
	}
	if len(full.Checkpoints) != 5 {
		t.Errorf("got %d checkpoints, want one per page (5)", len(full.Checkpoints))
	}

	// Interrupt after 23 records: the host saved the checkpoint after 20.
	failing := &sdktest.Collector{}
	errHost := errors.New("host went away")
	failing.OnEmit = func(connector.Record) error {
		if len(failing.Records) == 23 {
			return errHost
		}
		return nil
	}
	err := New().Read(t.Context(), connector.ReadRequest{Config: config}, failing)
	if !errors.Is(err, errHost) {
		t.Fatalf("interrupted Read error = %v, want the host's error", err)
	}
	if len(failing.Checkpoints) != 2 {
		t.Fatalf("got %d checkpoints before the interruption, want 2", len(failing.Checkpoints))
	}
	resumed := mustRead(t, config, failing.State())
	got := append(ids(t, failing.Records[:20], "id"), ids(t, resumed.Records, "id")...)
	if !slices.Equal(got, order) {
		t.Fatalf("delivered before the checkpoint + resumed:\n got %v\nwant %v", got, order)
	}

	// Rows written after the read: three with the checkpoint's own cursor
	// value (and larger keys) and one moved to a later value.
	e.exec(t,
		fmt.Sprintf("INSERT INTO %s (id, changed) VALUES (%s, %s), (%s, %s), (%s, %s)", table,
			v.pk(46), v.values[2], v.pk(47), v.values[2], v.pk(48), v.values[2]),
		fmt.Sprintf("UPDATE %s SET changed = %s WHERE id = %s", table, v.values[3], v.pk(6)),
	)
	next := mustRead(t, config, full.State())
	want := []string{v.key(46), v.key(47), v.key(48), v.key(6)}
	if got := ids(t, next.Records, "id"); !slices.Equal(got, want) {
		t.Fatalf("read after new writes = %v, want %v", got, want)
	}
	again := mustRead(t, config, next.State())
	if len(again.Records) != 0 || len(again.Checkpoints) != 0 {
		t.Errorf("read with nothing new emitted %d records and %d checkpoints", len(again.Records), len(again.Checkpoints))
	}
}

// TestNullCursorRowsAreReadEveryRun checks the rows whose cursor is NULL:
// read after the cursor's rows by primary key, again on every run (keyset
// paging by the cursor cannot place them), resumable when interrupted, and
// read by the cursor once they get a value.
func TestNullCursorRowsAreReadEveryRun(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *testEnv) {
		table := e.table(t, "nulls")
		e.exec(t, fmt.Sprintf("CREATE TABLE %s (id int PRIMARY KEY, changed %s NULL, note varchar(20))", table, e.pick("timestamptz", "DATETIME(6)")))
		// ids 1-5 have a cursor (5 first), 6-12 have none.
		var rows []string
		for id := 1; id <= 12; id++ {
			c := "NULL"
			if id <= 5 {
				c = fmt.Sprintf("'2024-01-%02d 00:00:00'", 10-id)
			}
			rows = append(rows, fmt.Sprintf("(%d, %s, 'n%d')", id, c, id))
		}
		e.exec(t, "INSERT INTO "+table+" (id, changed, note) VALUES "+strings.Join(rows, ", "))
		config := e.config(t, map[string]any{
			"name": "rows", "table": table, "primary_key": []string{"id"}, "cursor_field": "changed", "batch_size": 3,
		})
		withCursor := []string{"5", "4", "3", "2", "1"}
		nulls := []string{"6", "7", "8", "9", "10", "11", "12"}

		full := mustRead(t, config, nil)
		if got, want := ids(t, full.Records, "id"), append(slices.Clone(withCursor), nulls...); !slices.Equal(got, want) {
			t.Fatalf("full read:\n got %v\nwant %v", got, want)
		}
		var st state
		if err := json.Unmarshal(full.State(), &st); err != nil {
			t.Fatal(err)
		}
		if ss := st.Streams["rows"]; ss == nil || ss.Nulls != nil || len(ss.Last) != 2 {
			t.Fatalf("state after a complete read = %s, want the cursor's position and no pass over NULLs under way", full.State())
		}

		// Nothing changed: the NULL rows, and only they, are read again.
		again := mustRead(t, config, full.State())
		if got := ids(t, again.Records, "id"); !slices.Equal(got, nulls) {
			t.Fatalf("read with nothing new = %v, want the NULL-cursor rows %v", got, nulls)
		}

		// Interrupted in the pass over NULLs after 5 rows: the host saved
		// the checkpoint after 3 (ids 6-8).
		failing := &sdktest.Collector{}
		failing.OnEmit = func(connector.Record) error {
			if len(failing.Records) == 5 {
				return errors.New("stop")
			}
			return nil
		}
		if err := New().Read(t.Context(), connector.ReadRequest{Config: config, State: full.State()}, failing); err == nil {
			t.Fatal("interrupted Read returned nil")
		}
		resumed := mustRead(t, config, failing.State())
		if got := append(ids(t, failing.Records[:3], "id"), ids(t, resumed.Records, "id")...); !slices.Equal(got, nulls) {
			t.Fatalf("before the checkpoint + resumed = %v, want %v", got, nulls)
		}

		// A NULL row that gets a value is read by the cursor from then on.
		e.exec(t, "UPDATE "+table+" SET changed = '2024-03-01 00:00:00' WHERE id = 7")
		next := mustRead(t, config, resumed.State())
		want := []string{"7", "6", "8", "9", "10", "11", "12"}
		if got := ids(t, next.Records, "id"); !slices.Equal(got, want) {
			t.Fatalf("after id 7 got a cursor = %v, want %v", got, want)
		}
	})
}

// TestCursorLookbackReadsLateCommits checks cursor_lookback: a row whose
// transaction commits after a later row was read carries an older cursor
// value; the look-back reads it next run, the rows delivered in the window
// are not emitted again, and without a look-back the row is lost.
func TestCursorLookbackReadsLateCommits(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *testEnv) {
		for _, tc := range []struct {
			name, lookback string
			late           []string
		}{
			{"look-back 10m", "10m", []string{"6"}},
			{"no look-back", "", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				table := e.table(t, "late")
				e.exec(t, fmt.Sprintf("CREATE TABLE %s (id int PRIMARY KEY, changed %s NOT NULL, note varchar(20))", table, e.pick("timestamptz", "DATETIME(6)")))
				var rows []string
				for id := 1; id <= 5; id++ {
					rows = append(rows, fmt.Sprintf("(%d, '2024-01-01 10:0%d:00', 'n%d')", id, id, id))
				}
				e.exec(t, "INSERT INTO "+table+" (id, changed, note) VALUES "+strings.Join(rows, ", "))
				stream := map[string]any{"name": "rows", "table": table, "primary_key": []string{"id"}, "cursor_field": "changed", "batch_size": 2}
				if tc.lookback != "" {
					stream["cursor_lookback"] = tc.lookback
				}
				config := e.config(t, stream)
				first := mustRead(t, config, nil)
				if got := ids(t, first.Records, "id"); !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
					t.Fatalf("first read = %v", got)
				}
				// Row 6 commits late, at 10:03; row 7 later still, outside
				// the window (09:00).
				e.exec(t, "INSERT INTO "+table+" (id, changed, note) VALUES (6, '2024-01-01 10:03:00', 'late'), (7, '2024-01-01 09:00:00', 'too late')")
				next := mustRead(t, config, first.State())
				if got := ids(t, next.Records, "id"); !slices.Equal(got, tc.late) {
					t.Fatalf("next read = %v, want %v", got, tc.late)
				}
				state := next.State()
				if state == nil { // nothing new: no checkpoint
					state = first.State()
				}
				if again := mustRead(t, config, state); len(again.Records) != 0 {
					t.Errorf("the read after = %v, want nothing", ids(t, again.Records, "id"))
				}
			})
		}
	})
}

// TestFullReadWithoutCursor checks a stream without cursor_field: keyset
// paging by a composite primary key, resumable when interrupted, and read
// in full again once complete.
func TestFullReadWithoutCursor(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *testEnv) {
		table := e.table(t, "full")
		e.exec(t, "CREATE TABLE "+table+" (a int NOT NULL, b varchar(5) NOT NULL, v int, PRIMARY KEY (a, b))")
		var rows, order []string
		for a := 1; a <= 4; a++ {
			for _, b := range []string{"x", "y", "z"} {
				rows = append(rows, fmt.Sprintf("(%d, '%s', %d)", a, b, a*10))
				order = append(order, fmt.Sprintf("%d%s", a, b))
			}
		}
		e.exec(t, "INSERT INTO "+table+" (a, b, v) VALUES "+strings.Join(rows, ", "))
		config := e.config(t, map[string]any{"name": "pairs", "table": table, "primary_key": []string{"a", "b"}, "batch_size": 5})
		key := func(c *sdktest.Collector) []string {
			var out []string
			for _, r := range c.Records {
				m := decode(t, r.Data)
				out = append(out, fmt.Sprint(m["a"], m["b"]))
			}
			return out
		}

		first := mustRead(t, config, nil)
		if got := key(first); !slices.Equal(got, order) {
			t.Fatalf("full read = %v, want %v", got, order)
		}
		var st state
		if err := json.Unmarshal(first.State(), &st); err != nil {
			t.Fatal(err)
		}
		if len(st.Streams) != 0 {
			t.Errorf("state after a complete full read = %s, want no position (the next read starts over)", first.State())
		}

		failing := &sdktest.Collector{}
		failing.OnEmit = func(connector.Record) error {
			if len(failing.Records) == 7 {
				return errors.New("stop")
			}
			return nil
		}
		if err := New().Read(t.Context(), connector.ReadRequest{Config: config}, failing); err == nil {
			t.Fatal("interrupted Read returned nil")
		}
		resumed := mustRead(t, config, failing.State())
		if got := append(key(failing)[:5], key(resumed)...); !slices.Equal(got, order) {
			t.Fatalf("before checkpoint + resumed = %v, want %v", got, order)
		}
		if again := mustRead(t, config, first.State()); !slices.Equal(key(again), order) {
			t.Errorf("second full read = %v, want everything again", key(again))
		}
	})
}

// TestQueryStream checks a query stream: wrapped as a subquery, paged by
// a computed cursor column.
func TestQueryStream(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *testEnv) {
		people, orders := e.table(t, "people"), e.table(t, "orders")
		e.exec(t,
			"CREATE TABLE "+people+" (id int PRIMARY KEY, email varchar(50))",
			"CREATE TABLE "+orders+" (id int PRIMARY KEY, person int, created date NOT NULL, updated date)",
			"INSERT INTO "+people+" VALUES (1, 'a@example.com'), (2, 'b@example.com')",
			"INSERT INTO "+orders+" VALUES (10, 1, '2024-01-01', NULL), (11, 2, '2024-01-01', '2024-03-01'), (12, 1, '2024-02-01', NULL)",
		)
		query := "SELECT o.id, p.email, COALESCE(o.updated, o.created) AS changed FROM " + orders + " o JOIN " + people + " p ON p.id = o.person"
		config := e.config(t, map[string]any{"name": "order_emails", "query": query, "primary_key": []string{"id"}, "cursor_field": "changed", "batch_size": 2})
		if err := New().Check(t.Context(), config); err != nil {
			t.Fatalf("Check: %v", err)
		}
		c := mustRead(t, config, nil)
		if got := joinIDs(ids(t, c.Records, "id")); got != "10,12,11" {
			t.Fatalf("ids = %s, want 10,12,11 (by changed, then id)", got)
		}
		if m := decode(t, c.Records[2].Data); m["email"] != "b@example.com" || m["changed"] != "2024-03-01" {
			t.Errorf("record = %v", m)
		}
		e.exec(t, "UPDATE "+orders+" SET updated = '2024-04-01' WHERE id = 10")
		if got := joinIDs(ids(t, mustRead(t, config, c.State()).Records, "id")); got != "10" {
			t.Errorf("incremental read = %s, want 10", got)
		}
	})
}

// TestCheck checks that a misconfigured stream fails Check, Discover and
// Read with an error naming the stream and what is wrong.
func TestCheck(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *testEnv) {
		table := e.table(t, "check")
		e.exec(t, "CREATE TABLE "+table+" (id int PRIMARY KEY, updated_at date, doc "+e.pick("jsonb", "JSON")+")")
		ok := e.config(t, map[string]any{"name": "good", "table": table, "primary_key": []string{"id"}, "cursor_field": "updated_at"})
		if err := New().Check(t.Context(), ok); err != nil {
			t.Fatalf("Check of a good config: %v", err)
		}
		cases := []struct {
			name   string
			stream map[string]any
			want   []string
		}{
			{"missing table", map[string]any{"name": "s", "table": table + "_nope", "primary_key": []string{"id"}}, []string{"stream s", table + "_nope"}},
			{"missing key", map[string]any{"name": "s", "table": table, "primary_key": []string{"ident"}}, []string{"stream s", "primary_key column ident not found", "id, updated_at, doc"}},
			{"missing cursor", map[string]any{"name": "s", "table": table, "primary_key": []string{"id"}, "cursor_field": "modified"}, []string{"cursor_field column modified not found"}},
			{"bad query", map[string]any{"name": "s", "query": "SELEC 1", "primary_key": []string{"id"}}, []string{"stream s (query)"}},
			{"duplicate columns", map[string]any{"name": "s", "query": "SELECT id, id FROM " + table, "primary_key": []string{"id"}}, []string{"stream s (query)", e.pick("column id appears twice", "Duplicate column name 'id'")}},
		}
		if e.driver == driverPostgres { // MariaDB's JSON is text, a valid key
			cases = append(cases, struct {
				name   string
				stream map[string]any
				want   []string
			}{"json key", map[string]any{"name": "s", "table": table, "primary_key": []string{"doc"}}, []string{"doc is JSON"}})
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				config := e.config(t, tc.stream)
				errs := map[string]error{"Check": New().Check(t.Context(), config)}
				_, errs["Discover"] = New().Discover(t.Context(), config)
				_, errs["Read"] = read(t, config, nil)
				for call, err := range errs {
					if err == nil {
						t.Fatalf("%s succeeded", call)
					}
					for _, w := range tc.want {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("%s error %q does not contain %q", call, err, w)
						}
					}
				}
			})
		}
	})
}

// TestMySQLTimeKeysWithLoc checks date and date-time cursors with loc in
// the MySQL DSN: the saved key must compare as the value that was read,
// not as midnight UTC moved to loc (for a DATE that was 01:00 of the day
// in Europe/Berlin, after every row of the day, so the rest of the day
// was skipped for good).
func TestMySQLTimeKeysWithLoc(t *testing.T) {
	e := newTestEnv(t, driverMySQL, "DESILO_TEST_MYSQL_DSN")
	for _, tc := range []struct{ name, typ, value string }{
		{"date", "DATE", "'2024-01-01'"},
		{"datetime", "DATETIME(6)", "'2024-01-01 10:00:00.5'"},
	} {
		for _, parseTime := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s parseTime=%v", tc.name, parseTime), func(t *testing.T) {
				table := e.table(t, "dateloc")
				e.exec(t, "CREATE TABLE "+table+" (id INT PRIMARY KEY, d "+tc.typ+" NOT NULL)",
					fmt.Sprintf("INSERT INTO %s VALUES (1,%[2]s),(2,%[2]s),(3,%[2]s),(4,%[2]s)", table, tc.value))
				cfg, err := mysql.ParseDSN(e.dsn)
				if err != nil {
					t.Fatal(err)
				}
				cfg.ParseTime = parseTime
				cfg.Loc, err = time.LoadLocation("Europe/Berlin")
				if err != nil {
					t.Fatal(err)
				}
				env := testEnv{driver: driverMySQL, dsn: cfg.FormatDSN(), db: e.db}
				c := readAtMost(t, env.config(t, map[string]any{"name": "s", "table": table, "primary_key": []string{"id"}, "cursor_field": "d", "batch_size": 2}), nil, 20)
				if got := ids(t, c.Records, "id"); !slices.Equal(got, []string{"1", "2", "3", "4"}) {
					t.Fatalf("read ids %v, want 1,2,3,4", got)
				}
			})
		}
	}
}

// TestMySQLEnumSetKeyPaging checks ENUM and SET key columns: MySQL orders
// them by their position in the type but compares them with a string
// parameter as text, so keyset paging skipped every row whose label sorts
// below the last page's label.
func TestMySQLEnumSetKeyPaging(t *testing.T) {
	e := newTestEnv(t, driverMySQL, "DESILO_TEST_MYSQL_DSN")
	table := e.table(t, "enum")
	e.exec(t, "CREATE TABLE "+table+" (kind ENUM('person','company') NOT NULL, id INT NOT NULL, tags SET('z','a') NULL, PRIMARY KEY (kind, id))",
		"INSERT INTO "+table+" VALUES ('person',1,'z'),('person',2,'z'),('company',3,'a'),('company',4,'z,a'),('company',5,NULL)")
	for _, tc := range []struct {
		name   string
		stream map[string]any
		want   []string
	}{
		{"enum primary key", map[string]any{"table": table, "primary_key": []string{"kind", "id"}}, []string{"3", "4", "5", "1", "2"}},
		{"enum primary key, query", map[string]any{"query": "SELECT kind, id FROM " + table, "primary_key": []string{"kind", "id"}}, []string{"3", "4", "5", "1", "2"}},
		{"set cursor", map[string]any{"table": table, "primary_key": []string{"id"}, "cursor_field": "tags"}, []string{"3", "1", "2", "4", "5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.stream["name"], tc.stream["batch_size"] = "s", 2
			config := e.config(t, tc.stream)
			c := mustRead(t, config, nil)
			if got := ids(t, c.Records, "id"); !slices.Equal(got, tc.want) {
				t.Fatalf("read ids %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMySQLZeroDateCursor checks MySQL zero dates in a cursor column: NOT
// NULL, so they used to stay in the cursor's pass (sorting first), where a
// page ending on one checkpointed a null key that no later page could be
// built from, on every run after. Like NULL they have no place in the
// cursor's order: they are read in the pass over rows without a cursor
// value, every run.
func TestMySQLZeroDateCursor(t *testing.T) {
	e := newTestEnv(t, driverMySQL, "DESILO_TEST_MYSQL_DSN")
	for _, typ := range []string{"DATETIME", "DATE", "TIMESTAMP"} {
		t.Run(typ, func(t *testing.T) {
			table := e.table(t, "zerodate")
			conn, err := e.db.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, s := range []string{"SET SESSION sql_mode = ''",
				"CREATE TABLE " + table + " (id INT PRIMARY KEY, changed " + typ + " NOT NULL)",
				"INSERT INTO " + table + " VALUES (1,'0000-00-00'),(2,'0000-00-00'),(3,'0000-00-00'),(4,'2024-01-01'),(5,'2023-01-01')"} {
				if _, err := conn.ExecContext(t.Context(), s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			config := e.config(t, map[string]any{"name": "s", "table": table, "primary_key": []string{"id"}, "cursor_field": "changed", "batch_size": 2})
			c, err := read(t, config, nil)
			if err != nil {
				t.Fatalf("Read: %v (after %d records, last checkpoint %s)", err, len(c.Records), c.State())
			}
			if got := ids(t, c.Records, "id"); !slices.Equal(got, []string{"5", "4", "1", "2", "3"}) {
				t.Fatalf("read ids %v, want 5,4 by the cursor, then the zero dates 1,2,3", got)
			}
			checkNoNullKey(t, c.Checkpoints)
			if got := ids(t, mustRead(t, config, c.State()).Records, "id"); !slices.Equal(got, []string{"1", "2", "3"}) {
				t.Errorf("next read = %v, want the zero dates again", got)
			}
		})
	}

	// A zero date in a primary key column is a key like any other: a page
	// ending on it saves it as MySQL's text, never as null.
	table := e.table(t, "zerokey")
	conn, err := e.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range []string{"SET SESSION sql_mode = ''",
		"CREATE TABLE " + table + " (d DATE NOT NULL, ts DATETIME NOT NULL, id INT NOT NULL, PRIMARY KEY (d, ts, id))",
		"INSERT INTO " + table + " VALUES ('0000-00-00','0000-00-00',1),('0000-00-00','0000-00-00',2),('2024-01-01','0000-00-00',3),('2024-01-01','2024-01-01',4)"} {
		if _, err := conn.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	c, err := read(t, e.config(t, map[string]any{"name": "s", "table": table, "primary_key": []string{"d", "ts", "id"}, "batch_size": 1}), nil)
	if err != nil {
		t.Fatalf("Read: %v (after %d records, last checkpoint %s)", err, len(c.Records), c.State())
	}
	if got := ids(t, c.Records, "id"); !slices.Equal(got, []string{"1", "2", "3", "4"}) {
		t.Errorf("read ids %v, want 1,2,3,4", got)
	}
	checkNoNullKey(t, c.Checkpoints)
}

// checkNoNullKey fails the test if a checkpoint saves a null key value,
// from which no later page could be built.
func checkNoNullKey(t *testing.T, checkpoints []json.RawMessage) {
	t.Helper()
	for _, cp := range checkpoints {
		var st state
		if err := json.Unmarshal(cp, &st); err != nil {
			t.Fatal(err)
		}
		for _, ss := range st.Streams {
			for _, v := range ss.Last {
				if string(v) == "null" {
					t.Errorf("checkpoint %s holds a null key", cp)
				}
			}
		}
	}
}

// TestPostgresNonFiniteCursor checks NaN and ±Infinity in a float or
// numeric cursor column: they have no JSON number, so the row is a reject
// (as for any other column) instead of failing the read on every run, and
// like NULL they have no place in the cursor's order.
func TestPostgresNonFiniteCursor(t *testing.T) {
	e := newTestEnv(t, driverPostgres, "DESILO_TEST_POSTGRES_DSN")
	for _, tc := range []struct{ typ, values string }{
		{"float8", "(1, 1.5), (2, 'NaN'), (3, 'Infinity'), (4, '-Infinity'), (5, 0.5)"},
		{"real", "(1, 1.5), (2, 'NaN'), (3, 'Infinity'), (4, '-Infinity'), (5, 0.5)"},
		{"numeric", "(1, 1.5), (2, 'NaN'), (5, 0.5)"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			table := e.table(t, "nan")
			e.exec(t, "CREATE TABLE "+table+" (id int PRIMARY KEY, f "+tc.typ+" NOT NULL)", "INSERT INTO "+table+" VALUES "+tc.values)
			config := e.config(t, map[string]any{"name": "s", "table": table, "primary_key": []string{"id"}, "cursor_field": "f", "batch_size": 1})
			c, err := read(t, config, nil)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := ids(t, c.Records, "id"); !slices.Equal(got, []string{"5", "1"}) {
				t.Errorf("read ids %v, want 5,1", got)
			}
			if want := strings.Count(tc.values, "'"); len(c.Rejects) != want/2 {
				t.Errorf("got rejects %+v, want %d", c.Rejects, want/2)
			}
			if got := ids(t, mustRead(t, config, c.State()).Records, "id"); len(got) != 0 {
				t.Errorf("next read = %v, want nothing", got)
			}
		})
	}
}
