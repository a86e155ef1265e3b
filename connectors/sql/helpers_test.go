package sql

import (
	"bytes"
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// testEnv is one real database server the tests run against.
type testEnv struct {
	driver string
	dsn    string
	db     *stdsql.DB
}

var testServers = []struct{ driver, envVar string }{
	{driverPostgres, "DESILO_TEST_POSTGRES_DSN"},
	{driverMySQL, "DESILO_TEST_MYSQL_DSN"},
}

// forEachDriver runs f once per database server whose DSN is set.
func forEachDriver(t *testing.T, f func(t *testing.T, e *testEnv)) {
	t.Helper()
	for _, s := range testServers {
		t.Run(s.driver, func(t *testing.T) {
			f(t, newTestEnv(t, s.driver, s.envVar))
		})
	}
}

func newTestEnv(t *testing.T, driver, envVar string) *testEnv {
	t.Helper()
	dsn := os.Getenv(envVar)
	if dsn == "" {
		t.Skip(envVar + " not set; .ci/run sets it")
	}
	d := dialect{name: driver}
	db, err := stdsql.Open(d.sqlDriver(), dsn)
	if err != nil {
		t.Fatalf("open %s: %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("%s from %s is set but the server does not answer: %v", driver, envVar, err)
	}
	return &testEnv{driver: driver, dsn: dsn, db: db}
}

// table returns a new unique table name, dropped when the test ends.
func (e *testEnv) table(t *testing.T, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("desilo_%s_%08x", prefix, rand.Uint32())
	t.Cleanup(func() { e.db.Exec("DROP TABLE IF EXISTS " + name) })
	return name
}

func (e *testEnv) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := e.db.Exec(s); err != nil {
			t.Fatalf("exec %q: %v", s, err)
		}
	}
}

// pick returns the statement for the env's driver.
func (e *testEnv) pick(postgres, mysql string) string {
	if e.driver == driverPostgres {
		return postgres
	}
	return mysql
}

func (e *testEnv) config(t *testing.T, streams ...map[string]any) json.RawMessage {
	t.Helper()
	return mustJSON(t, map[string]any{"driver": e.driver, "dsn": e.dsn, "streams": streams})
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func read(t *testing.T, config, state json.RawMessage) (*sdktest.Collector, error) {
	t.Helper()
	c := &sdktest.Collector{}
	err := New().Read(context.Background(), connector.ReadRequest{Config: config, State: state}, c)
	return c, err
}

func mustRead(t *testing.T, config, state json.RawMessage) *sdktest.Collector {
	t.Helper()
	c, err := read(t, config, state)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return c
}

// decode unmarshals a record keeping numbers exact.
func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("record %s: %v", data, err)
	}
	return m
}

// ids returns the value of one field of each record, as text.
func ids(t *testing.T, recs []connector.Record, field string) []string {
	t.Helper()
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = fmt.Sprint(decode(t, r.Data)[field])
	}
	return out
}

func compileSchema(t *testing.T, schema json.RawMessage) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	if err := c.AddResource("mem://schema.json", bytes.NewReader(schema)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem://schema.json")
	if err != nil {
		t.Fatalf("compile schema %s: %v", schema, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, data []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("record %s does not validate: %v", data, err)
	}
}

func joinIDs(s []string) string { return strings.Join(s, ",") }

// readAtMost reads like mustRead but fails the test once more than max
// records are emitted: a saved key that compares below its own row reads
// the same page forever.
func readAtMost(t *testing.T, config, state json.RawMessage, max int) *sdktest.Collector {
	t.Helper()
	c := &sdktest.Collector{}
	c.OnEmit = func(connector.Record) error {
		if len(c.Records) >= max {
			return fmt.Errorf("more than %d records: the same rows are read again and again", max)
		}
		return nil
	}
	if err := New().Read(t.Context(), connector.ReadRequest{Config: config, State: state}, c); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return c
}
