package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/sink/bigquery/bqfake"
	"github.com/desilo/desilo/core/stage"
)

// withBigQuery adds an output.bigquery section to the example's config.
func withBigQuery(t *testing.T, dir, section string) {
	t.Helper()
	path := filepath.Join(dir, "desilo.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "  parquet: {path: out}\n", "  parquet: {path: out}\n"+section, 1)
	if s == string(b) {
		t.Fatal("the example's output section has changed; adapt withBigQuery")
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPublishToBigQuery(t *testing.T) {
	dir := copyExample(t)
	cfg := filepath.Join(dir, "desilo.yaml")

	// Before any output.bigquery: a config error.
	if code, _, errOut := desilo(t, "publish", "-c", cfg); code != exitConfig || !strings.Contains(errOut, "output.bigquery is not set") {
		t.Fatalf("publish without output.bigquery: exit %d\n%s", code, errOut)
	}
	// Before any snapshot: a clear failure.
	f := bqfake.New(t)
	withBigQuery(t, dir, "  bigquery: {project: acme, dataset: customer360, location: EU, endpoint: \""+f.URL()+"\"}\n")
	if code, _, errOut := desilo(t, "publish", "-c", cfg); code != exitFailure || !strings.Contains(errOut, "run 'desilo sync' or 'desilo build' first") {
		t.Fatalf("publish before sync: exit %d\n%s", code, errOut)
	}
	if len(f.Calls()) != 0 {
		t.Fatalf("BigQuery called without a snapshot: %v", f.Calls())
	}

	// sync writes the snapshot and loads it into BigQuery.
	code, _, errOut := desilo(t, "sync", "-c", cfg)
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "BigQuery acme.customer360") || !strings.Contains(errOut, "customer                 22 rows (created)") {
		t.Errorf("sync output:\n%s", errOut)
	}
	// publish loads the same snapshot again, without a rebuild.
	calls := len(f.Calls())
	code, _, errOut = desilo(t, "publish", "-c", cfg)
	if code != 0 {
		t.Fatalf("publish: exit %d\n%s", code, errOut)
	}
	if len(f.Calls()) == calls {
		t.Fatal("publish made no BigQuery call")
	}
	_, tables := snapshotTables(t, filepath.Join(dir, "out"))
	for _, name := range model.Outputs {
		bt := f.Table("customer360", name)
		if bt == nil {
			t.Fatalf("no BigQuery table %s", name)
		}
		if len(bt.Rows) != len(tables[name]) {
			t.Errorf("table %s: %d rows in BigQuery, %d in the snapshot", name, len(bt.Rows), len(tables[name]))
			continue
		}
		tb := model.MustLoad(name)
		for i, row := range tables[name] {
			for j, c := range tb.Columns {
				want, got := row[j], bt.Rows[i][c.Name]
				if c.List {
					l := []any{}
					if want != nil {
						for _, s := range want.([]string) {
							l = append(l, s)
						}
					}
					want = l
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("table %s row %d column %s: BigQuery has %#v, the snapshot %#v", name, i, c.Name, got, want)
				}
			}
		}
	}
	for _, id := range f.TableIDs("customer360") {
		if strings.Contains(id, "staging") {
			t.Errorf("staging table %s left", id)
		}
	}

	// A failing load: exit 6, the error names the table.
	f.Fail(bqfake.Fault{Op: "jobs.insert:load", Table: "order__staging", N: 1, Reason: "invalid", Message: "Error while reading data"})
	code, _, errOut = desilo(t, "publish", "-c", cfg)
	if code != exitOutput || !strings.Contains(errOut, "bigquery table order:") || !strings.Contains(errOut, "Error while reading data") {
		t.Fatalf("failing publish: exit %d\n%s", code, errOut)
	}

	// The same failure during a sync: exit 6, and the snapshot on disk stands.
	f.Fail(bqfake.Fault{Op: "jobs.insert:load", Table: "ticket__staging", N: 1, Reason: "invalid", Message: "Error while reading data"})
	code, _, errOut = desilo(t, "sync", "-c", cfg, "--summary-json", filepath.Join(dir, "summary.json"))
	if code != exitOutput || !strings.Contains(errOut, "the Parquet snapshot") || !strings.Contains(errOut, "output FAILED") {
		t.Fatalf("sync with a failing BigQuery load: exit %d\n%s", code, errOut)
	}
	if _, tables := snapshotTables(t, filepath.Join(dir, "out")); len(tables["customer"]) != 22 {
		t.Fatal("the snapshot did not stand after the BigQuery failure")
	}

	// Another run holds the lock: exit 5, nothing published.
	lock, err := stage.Lock(filepath.Join(dir, ".desilo"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	calls = len(f.Calls())
	if code, _, errOut := desilo(t, "publish", "-c", cfg); code != exitLocked {
		t.Fatalf("publish while locked: exit %d\n%s", code, errOut)
	}
	if len(f.Calls()) != calls {
		t.Error("publish called BigQuery without the lock")
	}
}
