package sql

import (
	"bytes"
	"context"
	stdsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

// heapEmitter counts records and samples the heap, keeping nothing.
type heapEmitter struct {
	records, checkpoints int
	peak                 uint64
}

func (h *heapEmitter) Emit(ctx context.Context, r connector.Record) error {
	h.records++
	if h.records%2000 == 0 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		h.peak = max(h.peak, m.HeapAlloc)
	}
	return ctx.Err()
}
func (h *heapEmitter) Reject(context.Context, connector.Reject) error {
	return errors.New("unexpected reject")
}
func (h *heapEmitter) Checkpoint(context.Context, json.RawMessage) error {
	h.checkpoints++
	return nil
}

// TestBoundedMemory reads a 100,000-row table of about 60 MB and checks the
// heap never grows by more than 64 MiB: rows are streamed, not loaded.
func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 rows")
	}
	forEachDriver(t, func(t *testing.T, e *testEnv) {
		table := e.table(t, "big")
		e.exec(t, "CREATE TABLE "+table+" (id int PRIMARY KEY, changed date NOT NULL, payload varchar(600) NOT NULL)")
		digits := "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
		e.exec(t, fmt.Sprintf(`INSERT INTO %s (id, changed, payload)
			SELECT 1 + a.d + 10*b.d + 100*c.d + 1000*x.d + 10000*y.d, '2024-01-01', REPEAT('x', 600)
			FROM %s a, %s b, %s c, %s x, %s y`, table, digits, digits, digits, digits, digits))
		config := e.config(t, map[string]any{"name": "big", "table": table, "primary_key": []string{"id"}, "cursor_field": "changed"})

		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		h := &heapEmitter{}
		if err := New().Read(t.Context(), connector.ReadRequest{Config: config}, h); err != nil {
			t.Fatal(err)
		}
		if h.records != 100000 || h.checkpoints != 10 {
			t.Fatalf("read %d records with %d checkpoints, want 100000 with 10", h.records, h.checkpoints)
		}
		growth := int64(h.peak) - int64(before.HeapAlloc)
		t.Logf("heap growth at peak: %.1f MiB", float64(growth)/(1<<20))
		if growth > 64<<20 {
			t.Errorf("heap grew by %.1f MiB reading the table, want < 64 MiB", float64(growth)/(1<<20))
		}
	})
}

// TestSecretsNeverInErrorsOrLogs checks that neither the DSN nor its
// password reaches an error or a log line, for failures at every step.
func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	const password = "Sup3r-Secret-PW"
	cases := []struct{ name, driver, dsn string }{
		{"postgres unreachable", driverPostgres, "postgres://alice:" + password + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=5"},
		{"postgres malformed", driverPostgres, "postgres://alice:" + password + "@127.0.0.1:notaport/db"},
		{"postgres keyword form", driverPostgres, "host=127.0.0.1 port=1 user=alice password=" + password + " connect_timeout=5"},
		{"mysql unreachable", driverMySQL, "alice:" + password + "@tcp(127.0.0.1:1)/db?timeout=5s"},
		{"mysql malformed", driverMySQL, "alice:" + password + "@tcp(127.0.0.1:1)/db?parseTime=maybe"},
		{"mysql no slash", driverMySQL, "alice:" + password + "@tcp(127.0.0.1:1)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			ctx := connector.WithLogger(t.Context(), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			config := mustJSON(t, map[string]any{"driver": tc.driver, "dsn": tc.dsn,
				"streams": []map[string]any{{"name": "s", "table": "t", "primary_key": []string{"id"}}}})
			errs := map[string]error{"Check": New().Check(ctx, config)}
			_, errs["Discover"] = New().Discover(ctx, config)
			errs["Read"] = New().Read(ctx, connector.ReadRequest{Config: config}, &sdktest.Collector{})
			for call, err := range errs {
				if err == nil {
					t.Fatalf("%s succeeded against a bad DSN", call)
				}
				if strings.Contains(err.Error(), password) {
					t.Errorf("%s error leaks the password: %v", call, err)
				}
				if !strings.Contains(err.Error(), tc.driver) {
					t.Errorf("%s error %q does not name the driver", call, err)
				}
			}
			if strings.Contains(logs.String(), password) {
				t.Errorf("logs leak the password:\n%s", logs.String())
			}
		})
	}

	// A working read logs nothing secret either. PostgreSQL's trust
	// authentication ignores the password, so the DSN can carry one.
	e := newTestEnv(t, driverPostgres, "DESILO_TEST_POSTGRES_DSN")
	table := e.table(t, "secret")
	e.exec(t, "CREATE TABLE "+table+" (id int PRIMARY KEY)", "INSERT INTO "+table+" VALUES (1)")
	dsn := strings.Replace(e.dsn, "postgres://postgres@", "postgres://postgres:"+password+"@", 1)
	if dsn == e.dsn {
		t.Skip("DESILO_TEST_POSTGRES_DSN is not of the form postgres://postgres@...; cannot add a password")
	}
	var logs bytes.Buffer
	ctx := connector.WithLogger(t.Context(), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	config := mustJSON(t, map[string]any{"driver": "postgres", "dsn": dsn,
		"streams": []map[string]any{{"name": "s", "table": table, "primary_key": []string{"id"}}, {"name": "bad", "table": table + "_missing", "primary_key": []string{"id"}}}})
	err := New().Read(ctx, connector.ReadRequest{Config: config}, &sdktest.Collector{})
	if err == nil || !strings.Contains(err.Error(), "stream bad") {
		t.Fatalf("Read error = %v, want one naming stream bad", err)
	}
	if strings.Contains(err.Error(), password) || strings.Contains(logs.String(), password) {
		t.Errorf("secret leaked: error %v; logs:\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "stream=s") {
		t.Errorf("logs = %q, want the read of stream s logged", logs.String())
	}
}

func TestRedact(t *testing.T) {
	base := errors.New(`connect "user:pw@host": pw rejected`)
	err := redact(fmt.Errorf("wrapped: %w", base), []string{"user:pw@host", "pw"})
	if got, want := err.Error(), `wrapped: connect "[redacted]": [redacted] rejected`; got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
	if !errors.Is(err, base) {
		t.Error("redacted error does not unwrap to the original")
	}
	if clean := errors.New("no secret"); redact(clean, []string{"pw"}) != clean {
		t.Error("an error without secrets was rewrapped")
	}
	if redact(nil, []string{"pw"}) != nil {
		t.Error("redact(nil) != nil")
	}
}

func TestConformance(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *testEnv) {
		people, events := e.table(t, "people"), e.table(t, "events")
		e.exec(t,
			"CREATE TABLE "+people+" (id int PRIMARY KEY, email varchar(50), updated_at "+e.pick("timestamptz", "DATETIME(6)")+" NOT NULL)",
			"INSERT INTO "+people+" VALUES (1, 'a@example.com', '2024-01-01 00:00:00'), (2, 'b@example.com', '2024-01-01 00:00:00'), (3, NULL, '2024-01-02 00:00:00')",
			"CREATE TABLE "+events+" (id int PRIMARY KEY, kind varchar(10))",
			"INSERT INTO "+events+" VALUES (1, 'x'), (2, 'y')",
		)
		config := e.config(t,
			map[string]any{"name": "people", "table": people, "primary_key": []string{"id"}, "cursor_field": "updated_at", "batch_size": 2},
			map[string]any{"name": "events", "table": events, "primary_key": []string{"id"}},
		)
		sdktest.Run(t, New(), sdktest.Options{
			Config: config,
			BadConfigs: []json.RawMessage{
				json.RawMessage(`{}`),
				mustJSON(t, map[string]any{"driver": e.driver, "dsn": e.dsn}),
				e.config(t, map[string]any{"name": "people", "table": people + "_missing", "primary_key": []string{"id"}}),
				e.config(t, map[string]any{"name": "people", "table": people, "primary_key": []string{"nope"}}),
			},
		})
	})
}

// BenchmarkRead reads a 50,000-row table of mixed column types in pages of
// 10,000, per driver.
func BenchmarkRead(b *testing.B) {
	for _, s := range testServers {
		b.Run(s.driver, func(b *testing.B) {
			dsn := os.Getenv(s.envVar)
			if dsn == "" {
				b.Skip(s.envVar + " not set")
			}
			d := dialect{name: s.driver}
			db, err := stdsql.Open(d.sqlDriver(), dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			table := fmt.Sprintf("desilo_bench_%08x", rand.Uint32())
			defer db.Exec("DROP TABLE IF EXISTS " + table)
			e := testEnv{driver: s.driver, dsn: dsn, db: db}
			digits := "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
			for _, q := range []string{
				fmt.Sprintf("CREATE TABLE %s (id int PRIMARY KEY, changed %s NOT NULL, f %s, amount %s, name varchar(40), n bigint)",
					table, e.pick("timestamptz", "DATETIME(6)"), e.pick("real", "FLOAT"), e.pick("numeric(12,2)", "DECIMAL(12,2)")),
				fmt.Sprintf(`INSERT INTO %s (id, changed, f, amount, name, n)
					SELECT i, '2024-01-01', i / 7.0, i / 3.0, 'customer name', i * 1000
					FROM (SELECT 1 + a.d + 10*b.d + 100*c.d + 1000*x.d + 10000*(y.d %% 5) AS i FROM %s a, %s b, %s c, %s x, %s y WHERE y.d < 5) AS n`,
					table, digits, digits, digits, digits, digits),
			} {
				if _, err := db.Exec(q); err != nil {
					b.Fatalf("%s: %v", q, err)
				}
			}
			config, _ := json.Marshal(map[string]any{"driver": s.driver, "dsn": dsn, "streams": []map[string]any{
				{"name": "s", "table": table, "primary_key": []string{"id"}, "cursor_field": "changed"}}})
			ctx := connector.WithLogger(context.Background(), slog.New(slog.DiscardHandler))
			b.ResetTimer()
			for b.Loop() {
				h := &heapEmitter{}
				if err := New().Read(ctx, connector.ReadRequest{Config: config}, h); err != nil {
					b.Fatal(err)
				}
				if h.records != 50000 {
					b.Fatalf("read %d records, want 50000", h.records)
				}
			}
		})
	}
}

// What the config names and the database does not know is the config's
// fault (connector.ErrConfig: exit code 3); a database that cannot be
// reached is not.
func TestConfigFaultsAreErrConfig(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *testEnv) {
		table := e.table(t, "cfg")
		e.exec(t, "CREATE TABLE "+table+" (id int PRIMARY KEY, name varchar(20))")
		check := func(dsn string, stream map[string]any) error {
			return New().Check(t.Context(), mustJSON(t, map[string]any{"driver": e.driver, "dsn": dsn, "streams": []map[string]any{stream}}))
		}
		faults := map[string]error{
			"no such table":      check(e.dsn, map[string]any{"name": "s", "table": table + "_missing", "primary_key": []string{"id"}}),
			"query syntax":       check(e.dsn, map[string]any{"name": "s", "query": "SELEC id FROM " + table, "primary_key": []string{"id"}}),
			"no such key column": check(e.dsn, map[string]any{"name": "s", "table": table, "primary_key": []string{"nr"}}),
		}
		switch e.driver {
		case driverPostgres:
			faults["no such database"] = check(strings.Replace(e.dsn, "/test?", "/desilo_no_such_db?", 1), map[string]any{"name": "s", "table": table, "primary_key": []string{"id"}})
		case driverMySQL:
			faults["password refused"] = check(strings.Replace(e.dsn, "root@", "root:not-the-password@", 1), map[string]any{"name": "s", "table": table, "primary_key": []string{"id"}})
		}
		for name, err := range faults {
			if !errors.Is(err, connector.ErrConfig) {
				t.Errorf("%s: %v, want a connector.ErrConfig", name, err)
			}
		}
		unreachable := map[string]string{driverPostgres: "postgres://u@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", driverMySQL: "u@tcp(127.0.0.1:1)/db?timeout=5s"}[e.driver]
		if err := check(unreachable, map[string]any{"name": "s", "table": table, "primary_key": []string{"id"}}); err == nil || errors.Is(err, connector.ErrConfig) {
			t.Errorf("unreachable database: %v, want an error that is not connector.ErrConfig", err)
		}
	})
}
