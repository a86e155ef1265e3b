package stage

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// open takes the run lock of dir and opens its store; the lock is released
// when the test ends, unless the test does it first (a simulated crash).
func open(t testing.TB, dir string, opts Options) (*Store, *RunLock) {
	t.Helper()
	l, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := Open(l, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, l
}

// reopen simulates a crash and a restart: the lock is released without
// ending any session, and the store is opened anew.
func reopen(t testing.TB, dir string, l *RunLock, opts Options) (*Store, *RunLock) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return open(t, dir, opts)
}

var customerRecord = model.MustLoad("customer_record")

// rec is a customer_record row of source crm, stream contacts.
func rec(key, email string) []any {
	return recOf("crm", "contacts", key, email)
}

func recOf(source, stream, key, email string) []any {
	row := make([]any, len(customerRecord.Columns))
	set(customerRecord, row, "source", source)
	set(customerRecord, row, "stream", stream)
	set(customerRecord, row, "record_key", key)
	set(customerRecord, row, "email", email)
	return row
}

func set(t *model.Table, row []any, col string, v any) {
	i, ok := t.Index(col)
	if !ok {
		panic("no column " + col)
	}
	row[i] = v
}

func get(t *model.Table, row []any, col string) any {
	i, ok := t.Index(col)
	if !ok {
		panic("no column " + col)
	}
	return row[i]
}

// write stages rows into stream contacts, failing the test on error.
func write(t testing.TB, x *Extract, rows ...[]any) {
	t.Helper()
	for _, r := range rows {
		if err := x.Write("contacts", customerRecord, r, false); err != nil {
			t.Fatal(err)
		}
	}
}

func tombstone(t testing.TB, x *Extract, key string) {
	t.Helper()
	if err := x.Write("contacts", customerRecord, rec(key, ""), true); err != nil {
		t.Fatal(err)
	}
}

func checkpoint(t testing.TB, x *Extract, state string) {
	t.Helper()
	if err := x.Checkpoint(json.RawMessage(state)); err != nil {
		t.Fatal(err)
	}
}

func begin(t testing.TB, s *Store, opts BeginOptions) *Extract {
	t.Helper()
	x, err := s.Begin(context.Background(), "crm", opts)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func finish(t testing.TB, x *Extract) {
	t.Helper()
	if err := x.Finish(); err != nil {
		t.Fatal(err)
	}
}

// emails scans crm/contacts and returns "key=email" per record, sorted.
// Every test that looks at the staged records this way also checks that
// ScanChunks reads the same rows as Scan.
func emails(t testing.TB, s *Store) []string {
	t.Helper()
	var out []string
	err := s.Scan(context.Background(), "crm", "contacts", func(row []any) error {
		e, _ := get(customerRecord, row, "email").(string)
		out = append(out, get(customerRecord, row, "record_key").(string)+"="+e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	scanChunksMatch(t, s, "crm", "contacts", customerRecord)
	return out
}

// scanChunksMatch checks that ScanChunks reads the rows Scan yields, in
// the same order, a row group at a time.
func scanChunksMatch(t testing.TB, s *Store, source, stream string, tb *model.Table) {
	t.Helper()
	var want [][]any
	err := s.Scan(context.Background(), source, stream, func(row []any) error {
		want = append(want, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = s.ScanChunks(context.Background(), source, stream, tb, func(set *rowset.Set) error {
		if set.Len() == 0 || set.Len() > SegmentRowGroup {
			t.Fatalf("ScanChunks: a chunk of %d rows, row groups hold %d", set.Len(), SegmentRowGroup)
		}
		for i := range set.Len() {
			if got := set.Row(i, nil); !reflect.DeepEqual(got, want[n]) {
				t.Fatalf("ScanChunks row %d:\n got %#v\nwant %#v", n, got, want[n])
			}
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ScanChunks: %v", err)
	}
	if n != len(want) {
		t.Fatalf("ScanChunks: %d rows, Scan %d", n, len(want))
	}
}

// Staged segments in tests have row groups of a few rows, so that every
// test reads and compacts segments of many row groups.
func init() { SegmentRowGroup = 7 }

func state(t testing.TB, s *Store) string {
	t.Helper()
	st, err := s.LoadState("crm")
	if err != nil {
		t.Fatal(err)
	}
	return string(st)
}

// files lists the files under dir/staging, relative to it, sorted.
func files(t testing.TB, dir string) []string {
	t.Helper()
	root := filepath.Join(dir, stagingDir)
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func temps(fs []string) []string {
	var out []string
	for _, f := range fs {
		if strings.HasSuffix(f, ".tmp") {
			out = append(out, f)
		}
	}
	return out
}

var rejectTable = model.MustLoad("reject")

func rejectRow(reason string) []any {
	row := make([]any, len(rejectTable.Columns))
	set(rejectTable, row, "source", "crm")
	set(rejectTable, row, "stream", "contacts")
	set(rejectTable, row, "reason", reason)
	set(rejectTable, row, "run_id", "run-1")
	set(rejectTable, row, "rejected_at", time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC))
	return row
}

// rejectKey stages a reject of record key of crm/contacts.
func rejectKey(t testing.TB, x *Extract, key, reason string) {
	t.Helper()
	row := rejectRow(reason)
	set(rejectTable, row, "record_key", key)
	if err := x.Reject(row); err != nil {
		t.Fatal(err)
	}
}

func rejects(t testing.TB, s *Store) []string {
	t.Helper()
	var out []string
	err := s.ScanRejects(context.Background(), "crm", func(row []any) error {
		out = append(out, get(rejectTable, row, "reason").(string))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var orderTable = model.MustLoad("order")

func orderRow(stream, key string) []any {
	row := make([]any, len(orderTable.Columns))
	set(orderTable, row, "source", "crm")
	set(orderTable, row, "stream", stream)
	set(orderTable, row, "record_key", key)
	return row
}

// writeFile creates dir/staging/name with some content.
func writeFile(t testing.TB, dir, name string) {
	t.Helper()
	writeFileContent(t, dir, name, "x")
}

func writeFileContent(t testing.TB, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, stagingDir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// scanLatest yields the latest live rows of segments (newest first), as
// Scan yields a stream's.
func scanLatest(ctx context.Context, segments []string, hint int64, t *model.Table, fn func(row []any) error) error {
	return eachLatest(ctx, segments, hint, 1, t, func(r *segmentFile, keep []bool) error {
		return r.chunks(ctx, keep, eachRow(fn))
	})
}
