package parquet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/core/model"
)

// publish writes a snapshot with n rows of customer and merge, and commits it.
func publish(t *testing.T, out, runID string, n int, at time.Time) Manifest {
	t.Helper()
	s, err := Begin(context.Background(), out, runID)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	s.Keep = 2
	for _, name := range []string{"customer", "merge"} {
		w, err := s.Table(name)
		if err != nil {
			t.Fatal(err)
		}
		tb := model.MustLoad(name)
		for i := 0; i < n; i++ {
			if err := w.Write(sampleRow(tb, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, err := s.Commit(Manifest{CreatedAt: at, Summary: json.RawMessage(`{"sources":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func snapshotDirs(t *testing.T, out string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(out, snapshotsDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestSnapshotCommit(t *testing.T) {
	out := t.TempDir()
	if _, _, err := Current(out); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Current before any commit: %v, want fs.ErrNotExist", err)
	}
	at := time.Date(2024, 5, 1, 3, 0, 0, 0, time.FixedZone("x", 3600))
	m := publish(t, out, "run-1", 5, at)

	dir, got, err := Current(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(out, snapshotsDir, "run-1"); dir != want {
		t.Errorf("Current dir = %s, want %s", dir, want)
	}
	// manifest.json is indented, and so is the summary inside it.
	var compact bytes.Buffer
	if err := json.Compact(&compact, got.Summary); err != nil {
		t.Fatal(err)
	}
	got.Summary = compact.Bytes()
	if !reflect.DeepEqual(got, m) {
		t.Errorf("manifest on disk %+v, Commit returned %+v", got, m)
	}
	if got.RunID != "run-1" || !got.CreatedAt.Equal(at) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("manifest run %q at %v", got.RunID, got.CreatedAt)
	}
	if !strings.HasPrefix(got.SchemaVersion, "sha256:") || len(got.SchemaVersion) != len("sha256:")+16 {
		t.Errorf("schema version %q", got.SchemaVersion)
	}
	want := map[string]ManifestTable{
		"customer": {Rows: 5, Files: []string{"customer/part-00000.parquet"}},
		"merge":    {Rows: 5, Files: []string{"merge/part-00000.parquet"}},
	}
	if !reflect.DeepEqual(got.Tables, want) {
		t.Errorf("manifest tables %+v, want %+v", got.Tables, want)
	}
	if string(got.Summary) != `{"sources":2}` {
		t.Errorf("summary %s", got.Summary)
	}
	// Readable by the analysts' tools, whoever runs them (os.CreateTemp
	// alone gives 0600).
	for _, f := range []string{manifestFile, "customer/part-00000.parquet"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v (%v), want -rw-r--r--", f, fi.Mode().Perm(), err)
		}
	}
	for name, mt := range got.Tables {
		tb := model.MustLoad(name)
		rows := readBack(t, filepath.Join(dir, mt.Files[0]), tb)
		if int64(len(rows)) != mt.Rows {
			t.Errorf("%s: %d rows in the file, manifest says %d", name, len(rows), mt.Rows)
		}
	}
	// The link is relative, so the output folder can move.
	if target, err := os.Readlink(filepath.Join(out, currentLink)); err != nil || target != filepath.Join(snapshotsDir, "run-1") {
		t.Errorf("current -> %q, %v", target, err)
	}
}

// A run that does not commit leaves the published snapshot as it was.
func TestSnapshotInterrupted(t *testing.T) {
	out := t.TempDir()
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	publish(t, out, "run-1", 3, at)

	ctx, cancel := context.WithCancel(context.Background())
	s, err := Begin(ctx, out, "run-2")
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Table("customer")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sampleRow(model.MustLoad("customer"), 1)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := s.Commit(Manifest{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit after cancel: %v, want context.Canceled", err)
	}
	if dir, m, err := Current(out); err != nil || m.RunID != "run-1" || filepath.Base(dir) != "run-1" {
		t.Errorf("current after an interrupted run: %s %q %v", dir, m.RunID, err)
	}
	// A crash before Abort leaves the folder; the next commit prunes it.
	if got := snapshotDirs(t, out); !reflect.DeepEqual(got, []string{"run-1", "run-2"}) {
		t.Errorf("snapshots %v", got)
	}
	publish(t, out, "run-3", 1, at.Add(time.Hour))
	if got := snapshotDirs(t, out); !reflect.DeepEqual(got, []string{"run-1", "run-3"}) {
		t.Errorf("snapshots after the next commit %v, want the interrupted run-2 pruned", got)
	}
	if err := s.Abort(); err != nil {
		t.Errorf("Abort of an already pruned snapshot: %v", err)
	}
}

func TestSnapshotAbort(t *testing.T) {
	out := t.TempDir()
	s, err := Begin(context.Background(), out, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Table("customer"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Table("customer"); err == nil {
		t.Error("a table opened twice")
	}
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := snapshotDirs(t, out); len(got) != 0 {
		t.Errorf("snapshots after Abort: %v", got)
	}
	if _, err := os.Lstat(filepath.Join(out, currentLink)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("current exists after an aborted first run: %v", err)
	}
	if _, err := s.Commit(Manifest{}); err == nil {
		t.Error("Commit after Abort succeeded")
	}
}

// Commits switch current each time and keep the newest Keep snapshots.
func TestSnapshotPrune(t *testing.T) {
	out := t.TempDir()
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b", "c", "d"} {
		publish(t, out, id, i+1, base.Add(time.Duration(i)*time.Hour))
		if _, m, err := Current(out); err != nil || m.RunID != id || m.Tables["customer"].Rows != int64(i+1) {
			t.Fatalf("after commit %s current is %q (%v)", id, m.RunID, err)
		}
	}
	if got := snapshotDirs(t, out); !reflect.DeepEqual(got, []string{"c", "d"}) {
		t.Errorf("snapshots kept %v, want the newest two", got)
	}
	leftovers, _ := filepath.Glob(filepath.Join(out, ".current-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary links left: %v", leftovers)
	}
}

func TestBeginErrors(t *testing.T) {
	out := t.TempDir()
	for _, id := range []string{"", "../x", "a/b", ".hidden", "current now"} {
		if _, err := Begin(context.Background(), out, id); err == nil {
			t.Errorf("Begin accepted run id %q", id)
		}
	}
	if _, err := Begin(context.Background(), out, "r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := Begin(context.Background(), out, "r1"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second Begin of r1: %v", err)
	}
	s, err := Begin(context.Background(), out, "r2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Table("no_such_table"); err == nil {
		t.Error("Table of an unknown table succeeded")
	}
	if _, err := s.Commit(Manifest{RunID: "other"}); err == nil {
		t.Error("Commit with another run's manifest succeeded")
	}
}

// A snapshot that current points to stays, even when Commit fails after
// the switch (syncing the folder) and the caller then aborts.
func TestCommitFailingAfterTheSwitch(t *testing.T) {
	out := t.TempDir()
	at := time.Date(2024, 5, 1, 3, 0, 0, 0, time.UTC)
	publish(t, out, "run-1", 3, at)
	s, err := Begin(context.Background(), out, "run-2")
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Table("customer")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sampleRow(model.MustLoad("customer"), 0)); err != nil {
		t.Fatal(err)
	}
	defer func(f func(string) error) { syncOut = f }(syncOut)
	syncOut = func(string) error { return errors.New("EIO") }
	_, cerr := s.Commit(Manifest{CreatedAt: at.Add(time.Hour)})
	if aerr := s.Abort(); cerr == nil || aerr != nil {
		t.Fatalf("Commit = %v, Abort = %v; want Commit to fail, Abort to do nothing", cerr, aerr)
	}
	dir, m, err := Current(out)
	if err != nil || filepath.Base(dir) != "run-2" || m.Tables["customer"].Rows != 1 {
		t.Errorf("current = %s, %+v, %v; want run-2, whole", dir, m, err)
	}
}

// A snapshot folder whose manifest cannot be read is kept and reported,
// and does not fail the publish or stop the pruning of the others.
func TestPruneSkipsUnreadableManifests(t *testing.T) {
	out := t.TempDir()
	at := time.Date(2024, 5, 1, 3, 0, 0, 0, time.UTC)
	junk := filepath.Join(out, snapshotsDir, "old-copy")
	if err := os.MkdirAll(junk, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(junk, manifestFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		publish(t, out, fmt.Sprintf("run-%d", i), 1, at.Add(time.Duration(i)*time.Hour)) // Keep 2
	}
	entries, err := os.ReadDir(filepath.Join(out, snapshotsDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"old-copy", "run-2", "run-3"}; !slices.Equal(names, want) {
		t.Errorf("snapshots %v, want %v", names, want)
	}
}
