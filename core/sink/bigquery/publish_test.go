package bigquery

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	bqv2 "google.golang.org/api/bigquery/v2"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/sink/bigquery/bqfake"
	"github.com/desilo/desilo/core/sink/parquet"
)

// sampleValue is a value of column c for row i; every third optional
// value is nil, lists alternate between one, two and no items.
func sampleValue(c model.Column, i int) any {
	if !c.Required && i%3 == 2 {
		return nil
	}
	at := time.Date(2024, 3, 1+i, 10, 30, 15, 123000, time.UTC)
	if c.List {
		l := []string{}
		for j := range i % 3 {
			l = append(l, fmt.Sprintf("%s-%d-%d", c.Name, i, j))
		}
		return l
	}
	switch c.Type {
	case model.Integer:
		return int64(i * 7)
	case model.Number:
		return float64(i) * 19.99
	case model.Boolean:
		return i%2 == 0
	case model.Timestamp:
		return at
	case model.Date:
		return time.Date(1980+i, 5, 17, 0, 0, 0, 0, time.UTC)
	}
	return fmt.Sprintf("%s %d ü", c.Name, i)
}

// writeSnapshot writes a snapshot of every output table with rows rows
// each (the reject table gets bigRaw bytes of random payload per row) and
// returns its folder and manifest.
func writeSnapshot(t *testing.T, out, runID string, rows, bigRaw int) (string, parquet.Manifest) {
	t.Helper()
	s, err := parquet.Begin(context.Background(), out, runID)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range model.Outputs {
		w, err := s.Table(name)
		if err != nil {
			t.Fatal(err)
		}
		tb := model.MustLoad(name)
		for i := range rows {
			row := make([]any, len(tb.Columns))
			for j, c := range tb.Columns {
				row[j] = sampleValue(c, i+len(runID))
				if name == "reject" && c.Name == "raw" && bigRaw > 0 {
					var b strings.Builder
					for b.Len() < bigRaw {
						b.WriteString(rand.Text()) // random: it does not compress
					}
					row[j] = b.String()
				}
			}
			if err := w.Write(row); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, err := s.Commit(parquet.Manifest{})
	if err != nil {
		t.Fatal(err)
	}
	dir, cur, err := parquet.Current(out)
	if err != nil || cur.RunID != m.RunID {
		t.Fatalf("current: %v %v", err, cur.RunID)
	}
	return dir, cur
}

// snapshotRows reads a snapshot table as BigQuery rows: by column name,
// lists as []any (a null list is empty: BigQuery has no null arrays).
func snapshotRows(t *testing.T, dir string, m parquet.Manifest, name string) []map[string]any {
	t.Helper()
	tb := model.MustLoad(name)
	var rows []map[string]any
	err := parquet.ReadTable(dir, m, tb, func(row []any) error {
		r := map[string]any{}
		for i, c := range tb.Columns {
			v := row[i]
			if c.List {
				l := []any{}
				if v != nil {
					for _, s := range v.([]string) {
						l = append(l, s)
					}
				}
				v = l
			}
			r[c.Name] = v
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

type sleeps struct{ d []time.Duration }

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.d = append(s.d, d)
	return ctx.Err()
}

func testConfig(f *bqfake.Server) config.BigQuery {
	return config.BigQuery{Project: "p", Dataset: "crm360", Location: "EU", TablePrefix: "d_", Endpoint: f.URL()}
}

func publish(t *testing.T, f *bqfake.Server, cfg config.BigQuery, dir string, m parquet.Manifest, s *sleeps) (*Result, error) {
	t.Helper()
	if s == nil {
		s = &sleeps{}
	}
	return Publish(context.Background(), cfg, dir, m, Options{RunID: "Run 2024-03-01T10:00:00.5Z", Sleep: s.sleep})
}

var labelRE = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)

// checkTargets checks that every target holds exactly the snapshot's rows
// and no staging table is left.
func checkTargets(t *testing.T, f *bqfake.Server, dir string, m parquet.Manifest) {
	t.Helper()
	for _, name := range model.Outputs {
		tb := f.Table("crm360", "d_"+name)
		if tb == nil {
			t.Fatalf("table d_%s missing", name)
		}
		if want := snapshotRows(t, dir, m, name); !reflect.DeepEqual(tb.Rows, want) {
			t.Errorf("table d_%s: %d rows differ from the snapshot's %d", name, len(tb.Rows), len(want))
		}
	}
	for _, id := range f.TableIDs("crm360") {
		if strings.Contains(id, "__staging_") {
			t.Errorf("staging table %s left behind", id)
		}
	}
}

func TestPublishCreatesWhatIsMissing(t *testing.T) {
	f := bqfake.New(t)
	dir, m := writeSnapshot(t, t.TempDir(), "run1", 5, 0)
	res, err := publish(t, f, testConfig(f), dir, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ds := f.Dataset("crm360"); ds == nil || ds.Location != "EU" || !res.DatasetCreated {
		t.Fatalf("dataset = %+v, created %v", ds, res.DatasetCreated)
	}
	if len(res.Tables) != len(model.Outputs) {
		t.Fatalf("%d table results", len(res.Tables))
	}
	for i, tr := range res.Tables {
		if tr.Table != model.Outputs[i] || tr.Target != "d_"+tr.Table || !tr.Created || !tr.Replaced || tr.Rows != 5 {
			t.Errorf("result %+v", tr)
		}
		meta := f.Table("crm360", tr.Target).Meta
		want := Schema(model.MustLoad(tr.Table))
		if len(meta.Schema.Fields) != len(want) {
			t.Fatalf("%s: %d fields, want %d", tr.Target, len(meta.Schema.Fields), len(want))
		}
		for j, fs := range meta.Schema.Fields {
			w := want[j]
			m := fs.Mode
			if m == "" {
				m = "NULLABLE" // the API's default
			}
			if fs.Name != w.Name || fs.Type != string(w.Type) || m != mode(w) || fs.Description != w.Description {
				t.Errorf("%s field %d = %s %s %s %q, want %s %s %s %q", tr.Target, j, fs.Name, fs.Type, m, fs.Description, w.Name, w.Type, mode(w), w.Description)
			}
		}
	}
	ev := f.Table("crm360", "d_event").Meta
	if ev.TimePartitioning == nil || ev.TimePartitioning.Field != "occurred_at" || ev.TimePartitioning.Type != "MONTH" ||
		ev.Clustering == nil || !slices.Equal(ev.Clustering.Fields, []string{"customer_id"}) {
		t.Errorf("event layout: %+v %+v", ev.TimePartitioning, ev.Clustering)
	}
	if cu := f.Table("crm360", "d_customer").Meta; cu.TimePartitioning != nil || cu.Clustering == nil || cu.Clustering.Fields[0] != "customer_id" {
		t.Errorf("customer layout: %+v %+v", cu.TimePartitioning, cu.Clustering)
	}
	if f.Table("crm360", "d_order").Meta.Clustering != nil {
		t.Error("order is clustered by default")
	}

	// Every upload is a snapshot file, read back by parquet-go: columns
	// as derived, rows as in the snapshot; into staging, then copied.
	loads := f.Loads()
	if len(loads) != len(model.Outputs) {
		t.Fatalf("%d loads", len(loads))
	}
	for i, l := range loads {
		name := model.Outputs[i]
		if l.Table != "d_"+name+"__staging_run_2024_03_01t10_00_00_5z" || l.Type != "multipart" {
			t.Errorf("load %d into %s (%s)", i, l.Table, l.Type)
		}
		want := Schema(model.MustLoad(name))
		for j, c := range l.Cols {
			if c.Name != want[j].Name || c.Type != string(want[j].Type) || (c.Mode != mode(want[j]) && !(c.Mode == "REQUIRED" && mode(want[j]) == "REPEATED")) {
				t.Errorf("%s: file column %+v, table wants %s %s", name, c, want[j].Type, mode(want[j]))
			}
		}
		if !reflect.DeepEqual(l.Rows, snapshotRows(t, dir, m, name)) {
			t.Errorf("%s: uploaded rows differ from the snapshot", name)
		}
		lc := l.Job.Configuration.Load
		if lc.WriteDisposition != "WRITE_APPEND" || lc.CreateDisposition != "CREATE_NEVER" || !lc.ParquetOptions.EnableListInference {
			t.Errorf("%s: load config: write %s, create %s, parquet options %+v", name, lc.WriteDisposition, lc.CreateDisposition, lc.ParquetOptions)
		}
		for k, v := range l.Job.Configuration.Labels {
			if !labelRE.MatchString(k) || !labelRE.MatchString(v) {
				t.Errorf("label %q=%q breaks BigQuery's label rules", k, v)
			}
		}
		if lb := l.Job.Configuration.Labels; lb["desilo_run_id"] != "run-2024-03-01t10-00-00-5z" || lb["desilo_snapshot"] != "run1" || lb["desilo_table"] != name {
			t.Errorf("labels %v", l.Job.Configuration.Labels)
		}
	}
	checkTargets(t, f, dir, m)

	// Order: every load before the first copy, so a failed load replaces nothing.
	calls := f.Calls()
	lastLoad, firstCopy := -1, len(calls)
	for i, c := range calls {
		if strings.HasPrefix(c, "jobs.insert:load") {
			lastLoad = i
		}
		if strings.HasPrefix(c, "jobs.insert:copy") && i < firstCopy {
			firstCopy = i
		}
	}
	if lastLoad > firstCopy {
		t.Errorf("a copy ran before the last load:\n%s", strings.Join(calls, "\n"))
	}

	// A second publish of a new snapshot replaces the rows, creates nothing.
	dir2, m2 := writeSnapshot(t, t.TempDir(), "run22", 3, 0)
	res, err = publish(t, f, testConfig(f), dir2, m2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range res.Tables {
		if tr.Created || len(tr.Added) > 0 || !tr.Replaced || tr.Rows != 3 {
			t.Errorf("second publish: %+v", tr)
		}
	}
	checkTargets(t, f, dir2, m2)
}

func field(name, typ, mode string) *bqv2.TableFieldSchema {
	return &bqv2.TableFieldSchema{Name: name, Type: typ, Mode: mode}
}

// derivedFields is the derived schema of a table as the API has it.
func derivedFields(name string, edit func(fs []*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema {
	var fs []*bqv2.TableFieldSchema
	for _, f := range Schema(model.MustLoad(name)) {
		fs = append(fs, field(f.Name, string(f.Type), mode(f)))
	}
	return edit(fs)
}

func without(fs []*bqv2.TableFieldSchema, names ...string) []*bqv2.TableFieldSchema {
	return slices.DeleteFunc(fs, func(f *bqv2.TableFieldSchema) bool { return slices.Contains(names, f.Name) })
}

func TestPublishAddsNullableColumns(t *testing.T) {
	f := bqfake.New(t)
	// An older customer table: no rfm_score, no channels, a REQUIRED
	// column the model now allows to be null, and a column of its own.
	f.PutTable("crm360", "d_customer", derivedFields("customer", func(fs []*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema {
		fs = without(fs, "rfm_score", "channels")
		fs[slices.IndexFunc(fs, func(f *bqv2.TableFieldSchema) bool { return f.Name == "first_name" })].Mode = "REQUIRED"
		return append(fs, field("legacy_segment", "STRING", "NULLABLE"))
	}), nil, []string{"customer_id"})
	dir, m := writeSnapshot(t, t.TempDir(), "run1", 4, 0)
	res, err := publish(t, f, testConfig(f), dir, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	cu := res.Tables[0]
	if cu.Table != "customer" || cu.Created || !slices.Equal(cu.Added, []string{"channels", "rfm_score"}) ||
		!slices.Equal(cu.Relaxed, []string{"first_name"}) || !slices.Equal(cu.Kept, []string{"legacy_segment"}) || !cu.Replaced {
		t.Fatalf("customer: %+v", cu)
	}
	if !slices.Contains(f.Calls(), "tables.patch d_customer") {
		t.Error("no tables.patch of d_customer")
	}
	tb := f.Table("crm360", "d_customer")
	var names []string
	for _, fs := range tb.Meta.Schema.Fields {
		names = append(names, fs.Name)
	}
	if len(names) != len(model.MustLoad("customer").Columns)+1 || names[len(names)-3] != "legacy_segment" {
		t.Errorf("customer fields after the update: %v", names)
	}
	want := snapshotRows(t, dir, m, "customer")
	for i, r := range tb.Rows {
		if v, ok := r["legacy_segment"]; ok && v != nil {
			t.Errorf("row %d: legacy_segment = %v", i, v)
		}
		delete(r, "legacy_segment")
		if !reflect.DeepEqual(r, want[i]) {
			t.Errorf("row %d differs from the snapshot", i)
		}
	}
}

// The copy from staging replaces the target's schema with staging's
// (WRITE_TRUNCATE), and a WRITE_TRUNCATE load would have replaced
// staging's with the file's: the columns the model dropped and the column
// descriptions must survive both, publish after publish.
func TestPublishKeepsDroppedColumnsAndDescriptions(t *testing.T) {
	f := bqfake.New(t)
	// Without descriptions, with a column the model no longer has.
	f.PutTable("crm360", "d_customer", derivedFields("customer", func(fs []*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema {
		return append(fs, field("legacy_segment", "STRING", "NULLABLE"))
	}), nil, []string{"customer_id"})
	check := func(table string, kept ...string) {
		t.Helper()
		got := map[string]string{}
		for _, fs := range f.Table("crm360", "d_"+table).Meta.Schema.Fields {
			got[fs.Name] = fs.Description
		}
		for _, c := range model.MustLoad(table).Columns {
			if d, ok := got[c.Name]; !ok || d != c.Description {
				t.Errorf("d_%s column %s: description %q (present %v), want %q", table, c.Name, d, ok, c.Description)
			}
		}
		for _, k := range kept {
			if _, ok := got[k]; !ok {
				t.Errorf("d_%s lost column %s, which the model dropped", table, k)
			}
		}
	}
	for i, run := range []string{"run1", "run22"} {
		dir, m := writeSnapshot(t, t.TempDir(), run, 4, 0)
		res, err := publish(t, f, testConfig(f), dir, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && !slices.Equal(res.Tables[0].Kept, []string{"legacy_segment"}) {
			t.Errorf("kept = %v", res.Tables[0].Kept)
		}
		check("customer", "legacy_segment")
		check("event") // created by the first publish
		checkTargets(t, f, dir, m)
	}
}

// A schema patch that BigQuery applied although its answer was lost: the
// client library retries it with the old ETag in If-Match and gets 412.
// Read again, the table needs nothing more, so the publish goes on.
func TestPublishUpdateSchemaAnswerLost(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault bqfake.Fault
	}{
		// The lost patch and the client's retry of it (412).
		{"answer lost", bqfake.Fault{Op: "tables.patch", Table: "d_customer", N: 1, Code: 503, Reason: "backendError", Message: "Backend error", After: true}},
		// Someone else changed the table: patched again with the new ETag.
		{"table changed", bqfake.Fault{Op: "tables.patch", Table: "d_customer", N: 1, Code: 412, Reason: "conditionNotMet", Message: "Precondition check failed."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := bqfake.New(t)
			f.PutTable("crm360", "d_customer", derivedFields("customer", func(fs []*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema {
				return without(fs, "rfm_score")
			}), nil, []string{"customer_id"})
			f.Fail(tc.fault)
			dir, m := writeSnapshot(t, t.TempDir(), "run1", 2, 0)
			res, err := publish(t, f, testConfig(f), dir, m, nil)
			if err != nil {
				t.Fatalf("publish failed on a retried schema update: %v", err)
			}
			if cu := res.Tables[0]; !slices.Equal(cu.Added, []string{"rfm_score"}) || !cu.Replaced {
				t.Errorf("customer: %+v", cu)
			}
			var patches int
			for _, c := range f.Calls() {
				if c == "tables.patch d_customer" {
					patches++
				}
			}
			if patches != 2 {
				t.Errorf("%d patches of d_customer, want 2", patches)
			}
			fs := f.Table("crm360", "d_customer").Meta.Schema.Fields
			if i := slices.IndexFunc(fs, func(f *bqv2.TableFieldSchema) bool { return f.Name == "rfm_score" }); i < 0 || fs[i].Description == "" {
				t.Errorf("d_customer has no rfm_score with its description")
			}
			checkTargets(t, f, dir, m)
		})
	}
}

func TestPublishStopsOnIncompatibleChange(t *testing.T) {
	customer := func(edit func(fs []*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema) func(*bqfake.Server) {
		return func(f *bqfake.Server) {
			f.PutTable("crm360", "d_customer", derivedFields("customer", edit), nil, []string{"customer_id"})
		}
	}
	set := func(name string, fn func(*bqv2.TableFieldSchema)) func([]*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema {
		return func(fs []*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema {
			fn(fs[slices.IndexFunc(fs, func(f *bqv2.TableFieldSchema) bool { return f.Name == name })])
			return fs
		}
	}
	for _, tc := range []struct {
		name  string
		setup func(*bqfake.Server)
		want  string
	}{
		{"type change", customer(set("record_count", func(f *bqv2.TableFieldSchema) { f.Type = "STRING" })),
			"column record_count: type changes from STRING to INTEGER"},
		{"removed required column", customer(func(fs []*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema {
			return append(fs, field("crm_id", "STRING", "REQUIRED"))
		}), "column crm_id: REQUIRED in BigQuery but no longer in the model"},
		{"nullable to required", customer(set("customer_id", func(f *bqv2.TableFieldSchema) { f.Mode = "NULLABLE" })),
			"column customer_id: mode changes from NULLABLE to REQUIRED"},
		{"scalar to repeated", customer(set("emails", func(f *bqv2.TableFieldSchema) { f.Mode = "NULLABLE" })),
			"column emails: mode changes from NULLABLE to REPEATED"},
		{"new required column", customer(func(fs []*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema {
			return without(fs, "record_count")
		}), "column record_count: new and REQUIRED"},
		{"partitioning", func(f *bqfake.Server) {
			f.PutTable("crm360", "d_event", derivedFields("event", func(fs []*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema { return fs }),
				&bqv2.TimePartitioning{Type: "MONTH", Field: "created_at"}, []string{"customer_id"})
		}, "partitioning is MONTH(created_at) in BigQuery, the config wants MONTH(occurred_at)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := bqfake.New(t)
			tc.setup(f)
			before := f.TableIDs("crm360")
			dir, m := writeSnapshot(t, t.TempDir(), "run1", 2, 0)
			_, err := publish(t, f, testConfig(f), dir, m, nil)
			if !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "table p.crm360.d_") {
				t.Fatalf("err = %v\nwant it to say %q", err, tc.want)
			}
			for _, c := range f.Calls() {
				if !strings.HasPrefix(c, "datasets.get") && !strings.HasPrefix(c, "tables.get") {
					t.Errorf("%s after an incompatible change: nothing may change", c)
				}
			}
			if after := f.TableIDs("crm360"); !slices.Equal(before, after) {
				t.Errorf("tables %v became %v", before, after)
			}
		})
	}
}

func TestPublishFailedLoadTouchesNoTarget(t *testing.T) {
	f := bqfake.New(t)
	dir1, m1 := writeSnapshot(t, t.TempDir(), "run1", 4, 0)
	if _, err := publish(t, f, testConfig(f), dir1, m1, nil); err != nil {
		t.Fatal(err)
	}
	f.Fail(bqfake.Fault{Op: "jobs.insert:load", Table: "d_ticket", N: 1, Reason: "invalid",
		Message: "Error while reading data, error message: Parquet column 'subject' has type INT32"})
	dir2, m2 := writeSnapshot(t, t.TempDir(), "run22", 2, 0)
	s := &sleeps{}
	res, err := publish(t, f, testConfig(f), dir2, m2, s)
	if err == nil || !strings.Contains(err.Error(), "bigquery table d_ticket") ||
		!strings.Contains(err.Error(), "Parquet column 'subject' has type INT32 (reason invalid)") ||
		!strings.Contains(err.Error(), "no table was replaced") {
		t.Fatalf("err = %v", err)
	}
	if len(s.d) != 0 {
		t.Errorf("an invalid load was retried: %v", s.d)
	}
	for _, tr := range res.Tables {
		if tr.Replaced {
			t.Errorf("%s replaced", tr.Target)
		}
	}
	checkTargets(t, f, dir1, m1) // the first snapshot's rows everywhere, no staging left
	for _, c := range f.Calls()[len(model.Outputs):] {
		if strings.HasPrefix(c, "jobs.insert:copy") && strings.Contains(c, "run22") {
			t.Errorf("copy after a failed load: %s", c)
		}
	}
}

func TestPublishRetriesTransientErrors(t *testing.T) {
	f := bqfake.New(t)
	f.Fail(bqfake.Fault{Op: "jobs.insert:load", Table: "d_customer_", N: 2, Code: 503, Reason: "backendError", Message: "Backend error"})
	f.Fail(bqfake.Fault{Op: "jobs.insert:load", Table: "d_order_", N: 1, Code: 429, Reason: "rateLimitExceeded", Message: "Exceeded rate limits"})
	f.Fail(bqfake.Fault{Op: "jobs.insert:load", Table: "d_event_", N: 1, Reason: "internalError", Message: "An internal error occurred"})
	f.Fail(bqfake.Fault{Op: "jobs.insert:copy", Table: "d_merge", N: 1, Reason: "backendError", Message: "Backend error"})
	// The load job of message is created, but its answer is lost: the
	// retry must find it (409) and not load twice.
	f.Fail(bqfake.Fault{Op: "jobs.insert:load", Table: "d_message_", N: 1, Code: 503, Reason: "backendError", Message: "Backend error", After: true})
	dir, m := writeSnapshot(t, t.TempDir(), "run1", 3, 0)
	s := &sleeps{}
	res, err := publish(t, f, testConfig(f), dir, m, s)
	if err != nil {
		t.Fatal(err)
	}
	sec := time.Second
	if want := []time.Duration{sec, 2 * sec, sec, sec, sec, sec}; !slices.Equal(s.d, want) {
		t.Errorf("sleeps %v, want %v", s.d, want)
	}
	for _, tr := range res.Tables {
		if !tr.Replaced || tr.Rows != 3 {
			t.Errorf("%+v", tr)
		}
	}
	checkTargets(t, f, dir, m)
	var messageLoads int
	for _, l := range f.Loads() {
		if strings.HasPrefix(l.Table, "d_message_") {
			messageLoads++
		}
	}
	if messageLoads != 1 {
		t.Errorf("message loaded %d times", messageLoads)
	}

	// A fault that does not pass gives up after Attempts, naming the table.
	f.Fail(bqfake.Fault{Op: "jobs.insert:load", Table: "d_identity_link_", N: 99, Code: 503, Reason: "backendError", Message: "Backend error"})
	s = &sleeps{}
	_, err = publish(t, f, testConfig(f), dir, m, s)
	if err == nil || !strings.Contains(err.Error(), "bigquery table d_identity_link") || !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Fatalf("err = %v", err)
	}
	if want := []time.Duration{sec, 2 * sec, 4 * sec, 8 * sec}; !slices.Equal(s.d, want) {
		t.Errorf("sleeps %v, want %v", s.d, want)
	}
	checkTargets(t, f, dir, m)
}

// The client library retries a copy job's insert and every poll of a job
// (jobs.get) on 5xx for as long as ctx lasts, and a nightly run's ctx has
// no deadline: each attempt has its own deadline, and running out of it
// counts as a transient failure, so the publish gives up after Attempts.
func TestPublishGivesUpOnJobCallsThatNeverAnswer(t *testing.T) {
	for _, ft := range []bqfake.Fault{
		{Op: "jobs.insert:copy", Table: "d_customer", N: 1 << 20, Code: 503, Reason: "backendError", Message: "Backend error"},
		{Op: "jobs.get", N: 1 << 20, Code: 503, Reason: "backendError", Message: "Backend error"},
	} {
		t.Run(ft.Op, func(t *testing.T) {
			f := bqfake.New(t)
			dir, m := writeSnapshot(t, t.TempDir(), "run1", 1, 0)
			f.Fail(ft)
			// A guard only: without a bound per call, Publish ends here.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s := &sleeps{}
			_, err := Publish(ctx, testConfig(f), dir, m, Options{Sleep: s.sleep, CallTimeout: 200 * time.Millisecond})
			if ctx.Err() != nil {
				t.Fatalf("still trying after the 30 s guard: %v", err)
			}
			if err == nil || !strings.Contains(err.Error(), "bigquery table d_customer") ||
				!strings.Contains(err.Error(), "no answer within 200ms") || !strings.Contains(err.Error(), "gave up after 5 attempts") {
				t.Fatalf("err = %v", err)
			}
			sec := time.Second
			if want := []time.Duration{sec, 2 * sec, 4 * sec, 8 * sec}; !slices.Equal(s.d, want) {
				t.Errorf("sleeps %v, want %v", s.d, want)
			}
			var loads int
			for _, c := range f.Calls() {
				if strings.HasPrefix(c, "jobs.insert:load d_customer_") {
					loads++
				}
			}
			if loads != 1 {
				t.Errorf("customer's load job started %d times; a failed poll polls the same job again", loads)
			}
		})
	}
}

// A target's tables.insert that BigQuery carried out although its answer
// was lost: the client library retries it and gets 409 Already Exists.
// The table is the one desilo was creating, so the publish goes on.
func TestPublishCreateTargetAnswerLost(t *testing.T) {
	f := bqfake.New(t)
	f.Fail(bqfake.Fault{Op: "tables.insert", Table: "d_customer", N: 1, Code: 503, Reason: "backendError", Message: "Backend error", After: true})
	dir, m := writeSnapshot(t, t.TempDir(), "run1", 2, 0)
	res, err := publish(t, f, testConfig(f), dir, m, nil)
	if err != nil {
		t.Fatalf("publish failed on its own retried create: %v", err)
	}
	if cu := res.Tables[0]; cu.Target != "d_customer" || !cu.Created || !cu.Replaced {
		t.Errorf("customer: %+v", cu)
	}
	var inserts int
	for _, c := range f.Calls() {
		if c == "tables.insert d_customer" {
			inserts++
		}
	}
	if inserts != 2 {
		t.Errorf("%d inserts of d_customer, want the lost one and its retry", inserts)
	}
	checkTargets(t, f, dir, m)
}

// A target that was missing when the publish checked, but exists in
// another shape when it creates it: a clear error, nothing loaded.
func TestPublishCreateTargetFindsAnotherTable(t *testing.T) {
	f := bqfake.New(t)
	f.PutTable("crm360", "d_customer", derivedFields("customer", func(fs []*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema {
		return without(fs, "rfm_score")
	}), nil, nil)
	f.Fail(bqfake.Fault{Op: "tables.get", Table: "d_customer", N: 1, Code: 404, Reason: "notFound", Message: "Not found: Table p:crm360.d_customer"})
	dir, m := writeSnapshot(t, t.TempDir(), "run1", 2, 0)
	_, err := publish(t, f, testConfig(f), dir, m, nil)
	if err == nil || !strings.Contains(err.Error(), "bigquery table d_customer: create: the table appeared while desilo created it (409 Already Exists)") ||
		!strings.Contains(err.Error(), "its schema is not the model's") || !strings.Contains(err.Error(), "clustered by [], the config wants [customer_id]") {
		t.Fatalf("err = %v", err)
	}
	for _, c := range f.Calls() {
		if strings.HasPrefix(c, "jobs.insert") {
			t.Errorf("%s after a failed create", c)
		}
	}
}

// Without output.bigquery.location, a job whose insert answer was lost is
// looked up (after the retry's 409) in the dataset's location: jobs.get
// finds a job in a single region only with its location.
func TestPublishFindsLostJobInDatasetsRegion(t *testing.T) {
	f := bqfake.New(t)
	f.PutDataset("crm360", "europe-west3")
	f.Fail(bqfake.Fault{Op: "jobs.insert:load", Table: "d_message_", N: 1, Code: 503, Reason: "backendError", Message: "Backend error", After: true})
	f.Fail(bqfake.Fault{Op: "jobs.insert:copy", Table: "d_order", N: 1, Code: 503, Reason: "backendError", Message: "Backend error", After: true})
	dir, m := writeSnapshot(t, t.TempDir(), "run1", 3, 0)
	cfg := testConfig(f)
	cfg.Location = ""
	if _, err := publish(t, f, cfg, dir, m, nil); err != nil {
		t.Fatal(err)
	}
	checkTargets(t, f, dir, m)
	var messageLoads int
	for _, l := range f.Loads() {
		if loc := l.Job.JobReference.Location; loc != "europe-west3" {
			t.Errorf("load job of %s ran in %q", l.Table, loc)
		}
		if strings.HasPrefix(l.Table, "d_message_") {
			messageLoads++
		}
	}
	if messageLoads != 1 {
		t.Errorf("message loaded %d times", messageLoads)
	}
}

func TestPublishResumableUpload(t *testing.T) {
	f := bqfake.New(t)
	dir, m := writeSnapshot(t, t.TempDir(), "run1", 12, 64<<10) // reject: ~768 KiB of random payload
	res, err := Publish(context.Background(), testConfig(f), dir, m, Options{UploadChunkSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tables[len(res.Tables)-1].Rows != 12 {
		t.Fatalf("%+v", res.Tables)
	}
	var types []string
	for _, l := range f.Loads() {
		types = append(types, l.Table[:strings.Index(l.Table, "__")]+":"+l.Type)
	}
	if !slices.Contains(types, "d_reject:resumable") || !slices.Contains(types, "d_customer:multipart") {
		t.Errorf("uploads %v", types)
	}
	checkTargets(t, f, dir, m)
}

func TestPublishChecksBeforeCalling(t *testing.T) {
	dir, m := writeSnapshot(t, t.TempDir(), "run1", 1, 0)
	for _, tc := range []struct {
		name string
		cfg  config.BigQuery
		m    func(parquet.Manifest) parquet.Manifest
		want string
	}{
		{"partition on a string", config.BigQuery{Tables: map[string]config.Table{"order": {PartitionField: "status", PartitionType: "DAY"}}},
			nil, "output.bigquery.tables.order.partition_field: column status is a string, want a timestamp or date"},
		{"unknown cluster column", config.BigQuery{Tables: map[string]config.Table{"customer": {Clustering: []string{"segment"}}}},
			nil, `output.bigquery.tables.customer.clustering: table customer has no column "segment"`},
		{"cluster by a list", config.BigQuery{Tables: map[string]config.Table{"customer": {Clustering: []string{"emails"}}}},
			nil, "column emails is a list of string, which BigQuery cannot cluster by"},
		{"hourly dates", config.BigQuery{Tables: map[string]config.Table{"customer": {PartitionField: "birth_date", PartitionType: "HOUR"}}},
			nil, "HOUR needs a timestamp column, birth_date is a date"},
		{"missing file", config.BigQuery{}, func(m parquet.Manifest) parquet.Manifest {
			m.Tables = map[string]parquet.ManifestTable{"customer": {Rows: 1, Files: []string{"customer/gone.parquet"}}}
			return m
		}, "table customer: stat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := bqfake.New(t)
			cfg := tc.cfg
			cfg.Project, cfg.Dataset, cfg.Endpoint = "p", "crm360", f.URL()
			mm := m
			if tc.m != nil {
				mm = tc.m(m)
			}
			_, err := Publish(context.Background(), cfg, dir, mm, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if calls := f.Calls(); len(calls) > 0 {
				t.Errorf("calls before the check: %v", calls)
			}
		})
	}
}

func TestDatasetInAnotherLocation(t *testing.T) {
	f := bqfake.New(t)
	f.PutTable("crm360", "unrelated", []*bqv2.TableFieldSchema{field("x", "STRING", "NULLABLE")}, nil, nil) // dataset in EU
	dir, m := writeSnapshot(t, t.TempDir(), "run1", 1, 0)
	cfg := testConfig(f)
	cfg.Location = "US"
	_, err := publish(t, f, cfg, dir, m, nil)
	if err == nil || !strings.Contains(err.Error(), "dataset p.crm360 is in location EU, output.bigquery.location says US") {
		t.Fatalf("err = %v", err)
	}
}

// A dataset insert that BigQuery carried out although its answer was
// lost: the retry gets 409 Already Exists, which means the dataset is there.
func TestPublishDatasetCreatedAnswerLost(t *testing.T) {
	f := bqfake.New(t)
	f.Fail(bqfake.Fault{Op: "datasets.insert", N: 1, Code: 503, Reason: "backendError", Message: "Backend error", After: true})
	dir, m := writeSnapshot(t, t.TempDir(), "run1", 2, 0)
	if _, err := publish(t, f, testConfig(f), dir, m, nil); err != nil {
		t.Fatal(err)
	}
	var inserts int
	for _, c := range f.Calls() {
		if strings.HasPrefix(c, "datasets.insert") {
			inserts++
		}
	}
	if ds := f.Dataset("crm360"); ds == nil || ds.Location != "EU" {
		t.Errorf("dataset %+v, want it in EU", ds)
	}
	if inserts != 2 {
		t.Errorf("%d dataset inserts, want the lost one and its retry", inserts)
	}
	checkTargets(t, f, dir, m)
}

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:9050":                "http://127.0.0.1:9050/bigquery/v2/",
		"http://127.0.0.1:9050/":               "http://127.0.0.1:9050/bigquery/v2/",
		"https://bq.example.com/bigquery/v2":   "https://bq.example.com/bigquery/v2/",
		"https://bq.example.com/bigquery/v2/":  "https://bq.example.com/bigquery/v2/",
		"http://proxy.internal:8080/custom/v2": "http://proxy.internal:8080/custom/v2/",
	} {
		if got, err := endpoint(in); err != nil || got != want {
			t.Errorf("endpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := endpoint("not a url"); err == nil {
		t.Error("endpoint accepted a non-URL")
	}
}

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&bq.Error{Reason: "backendError"}, true},
		{fmt.Errorf("wrapped: %w", &bq.Error{Reason: "rateLimitExceeded"}), true},
		{&bq.Error{Reason: "internalError"}, true},
		{&bq.Error{Reason: "invalid"}, false},
		{&bq.Error{Reason: "notFound"}, false},
		{errors.New("plain"), false},
	} {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%v) = %v", tc.err, got)
		}
	}
}

func FuzzNames(f *testing.F) {
	for _, s := range []string{"20240301T100000.000000Z", "run 1", "ÜBER-lauf_ß", "", strings.Repeat("x", 200)} {
		f.Add(s)
	}
	idRE := regexp.MustCompile(`^[a-z0-9_]{0,64}$`)
	f.Fuzz(func(t *testing.T, s string) {
		if v := labelValue(s); !labelRE.MatchString(v) {
			t.Errorf("labelValue(%q) = %q", s, v)
		}
		if v := idPart(s); !idRE.MatchString(v) {
			t.Errorf("idPart(%q) = %q", s, v)
		}
	})
}

// An event table partitioned by day, the default of earlier versions,
// keeps its partitioning with a warning, as BigQuery cannot change it in
// place; a partitioning the config sets is not bent that way.
func TestPublishKeepsAnOlderDefaultPartitioning(t *testing.T) {
	dayTable := func(f *bqfake.Server) {
		f.PutTable("crm360", "d_event", derivedFields("event", func(fs []*bqv2.TableFieldSchema) []*bqv2.TableFieldSchema { return fs }),
			&bqv2.TimePartitioning{Type: "DAY", Field: "occurred_at"}, []string{"customer_id"})
	}
	f := bqfake.New(t)
	dayTable(f)
	dir, m := writeSnapshot(t, t.TempDir(), "run1", 2, 0)
	var logs bytes.Buffer
	_, err := Publish(context.Background(), testConfig(f), dir, m, Options{RunID: "run1", Sleep: (&sleeps{}).sleep,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	checkTargets(t, f, dir, m)
	if p := f.Table("crm360", "d_event").Meta.TimePartitioning; p == nil || p.Type != "DAY" {
		t.Errorf("event partitioning after publish: %+v, want DAY kept", p)
	}
	if !strings.Contains(logs.String(), "keeps its partitioning") || !strings.Contains(logs.String(), "partitioning=DAY default=MONTH") {
		t.Errorf("no warning about the kept partitioning:\n%s", logs.String())
	}

	// A partition_field without partition_type leaves the type as it is.
	f = bqfake.New(t)
	dayTable(f)
	cfg := testConfig(f)
	cfg.Tables = map[string]config.Table{"event": {PartitionField: "occurred_at"}}
	if _, err := publish(t, f, cfg, dir, m, nil); err != nil {
		t.Errorf("partition_field alone over a DAY table: %v", err)
	}

	f = bqfake.New(t)
	dayTable(f)
	cfg = testConfig(f)
	cfg.Tables = map[string]config.Table{"event": {PartitionField: "occurred_at", PartitionType: "MONTH"}}
	if _, err := publish(t, f, cfg, dir, m, nil); !errors.Is(err, ErrIncompatible) {
		t.Errorf("a configured MONTH over a DAY table: err = %v, want ErrIncompatible", err)
	}
}
