package parquet

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/schema"
)

// A snapshot is one run's complete set of tables:
//
//	<out>/snapshots/<run id>/manifest.json
//	<out>/snapshots/<run id>/<table>/part-00000.parquet
//	<out>/current -> snapshots/<run id>
//
// Readers follow current. Commit replaces current in one rename, so a
// reader sees the previous snapshot or the new one, never a mix, and a run
// that fails or is interrupted leaves current as it was. Publishing assumes
// one run at a time (desilo holds a lock on outDir, stage.LockOutput, as
// well as its state dir's run lock): after a commit, snapshot folders
// without a manifest are leftovers of interrupted runs and are removed.

// DefaultKeep is how many committed snapshots are kept.
const DefaultKeep = 3

const (
	manifestFile = "manifest.json"
	currentLink  = "current"
	snapshotsDir = "snapshots"
	partFile     = "part-00000.parquet"
)

// Manifest describes a committed snapshot; it is its manifest.json.
type Manifest struct {
	RunID     string    `json:"run_id"`
	CreatedAt time.Time `json:"created_at"`
	// SchemaVersion identifies the model schemas the tables were written
	// with: a hash of their files, which changes whenever a schema does.
	SchemaVersion string                   `json:"schema_version"`
	Tables        map[string]ManifestTable `json:"tables"`
	// Summary is the caller's own account of the run (sources, counts).
	Summary json.RawMessage `json:"summary,omitempty"`
}

// ManifestTable is one table of a snapshot.
type ManifestTable struct {
	Rows  int64    `json:"rows"`
	Files []string `json:"files"` // relative to the snapshot folder
}

// Snapshot is a snapshot being written.
type Snapshot struct {
	// Keep is how many committed snapshots remain after Commit prunes;
	// Begin sets it to DefaultKeep.
	Keep int
	// Options apply to the tables opened after they are set.
	Options Options
	// PruneErr is why Commit could not remove some old snapshots, once it
	// has published this one; nil when it could.
	PruneErr error

	ctx     context.Context
	out     string
	runID   string
	dir     string
	writers map[string]*Writer
	order   []string
	done    bool // committed or aborted
}

var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Begin starts the snapshot of run runID under outDir.
func Begin(ctx context.Context, outDir, runID string) (*Snapshot, error) {
	if !runIDPattern.MatchString(runID) {
		return nil, fmt.Errorf("snapshot: run id %q: want letters, digits, '.', '_' or '-'", runID)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", runID, err)
	}
	parent := filepath.Join(outDir, snapshotsDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", runID, err)
	}
	dir := filepath.Join(parent, runID)
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("snapshot %s: %s already exists (run ids must be unique)", runID, dir)
		}
		return nil, fmt.Errorf("snapshot %s: %w", runID, err)
	}
	// current will point at this folder: its entry must be durable first.
	if err := SyncDir(parent); err != nil {
		os.Remove(dir)
		return nil, fmt.Errorf("snapshot %s: %w", runID, err)
	}
	return &Snapshot{Keep: DefaultKeep, ctx: ctx, out: outDir, runID: runID, dir: dir, writers: map[string]*Writer{}}, nil
}

// Dir is the snapshot's folder.
func (s *Snapshot) Dir() string { return s.dir }

// Table opens the writer of a model table, <table>/part-00000.parquet.
// Commit closes it if the caller has not.
func (s *Snapshot) Table(name string) (*Writer, error) {
	if s.done {
		return nil, fmt.Errorf("snapshot %s: table %s: snapshot already committed or aborted", s.runID, name)
	}
	if _, dup := s.writers[name]; dup {
		return nil, fmt.Errorf("snapshot %s: table %s opened twice", s.runID, name)
	}
	t, err := model.Load(name)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", s.runID, err)
	}
	dir := filepath.Join(s.dir, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", s.runID, err)
	}
	w, err := NewWriter(s.ctx, filepath.Join(dir, partFile), t, s.Options)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", s.runID, err)
	}
	s.writers[name] = w
	s.order = append(s.order, name)
	return w, nil
}

// Commit closes the tables, writes manifest.json and makes the snapshot
// current, then prunes old snapshots. m.Summary and m.CreatedAt (default:
// now) are the caller's; Commit fills in the rest. After a failed Commit,
// call Abort (a deferred Abort after a successful Commit does nothing).
func (s *Snapshot) Commit(m Manifest) (Manifest, error) {
	if s.done {
		return Manifest{}, fmt.Errorf("snapshot %s: already committed or aborted", s.runID)
	}
	if m.RunID != "" && m.RunID != s.runID {
		return Manifest{}, fmt.Errorf("snapshot %s: manifest names run %s", s.runID, m.RunID)
	}
	m.RunID = s.runID
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	m.CreatedAt = m.CreatedAt.UTC()
	m.Tables = make(map[string]ManifestTable, len(s.writers))
	for _, name := range s.order {
		w := s.writers[name]
		if err := w.Close(); err != nil {
			return Manifest{}, fmt.Errorf("snapshot %s: %w", s.runID, err)
		}
		m.Tables[name] = ManifestTable{Rows: w.Rows(), Files: []string{filepath.ToSlash(filepath.Join(name, partFile))}}
	}
	v, err := schemaVersion(s.order)
	if err != nil {
		return Manifest{}, fmt.Errorf("snapshot %s: %w", s.runID, err)
	}
	m.SchemaVersion = v
	if err := s.ctx.Err(); err != nil {
		return Manifest{}, fmt.Errorf("snapshot %s: %w", s.runID, err)
	}
	if err := writeManifest(s.dir, m); err != nil {
		return Manifest{}, fmt.Errorf("snapshot %s: %w", s.runID, err)
	}
	switched, err := switchCurrent(s.out, s.runID)
	if switched {
		s.done = true // current points here now: Abort must not remove it
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("snapshot %s: %w", s.runID, err)
	}
	// The snapshot is published; leftovers only cost disk space, so a
	// failed prune is the caller's to report, not a failed publish.
	s.PruneErr = prune(s.out, s.Keep)
	return m, nil
}

// Abort discards an uncommitted snapshot; current stays as it was.
func (s *Snapshot) Abort() error {
	if s.done {
		return nil
	}
	s.done = true
	for _, w := range s.writers {
		w.Abort()
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("snapshot %s: abort: %w", s.runID, err)
	}
	return nil
}

// Current returns the folder and manifest of the current snapshot. It
// wraps fs.ErrNotExist when nothing has been published under outDir.
func Current(outDir string) (string, Manifest, error) {
	link := filepath.Join(outDir, currentLink)
	target, err := os.Readlink(link)
	if err != nil {
		return "", Manifest{}, fmt.Errorf("current snapshot in %s: %w", outDir, err)
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(outDir, target)
	}
	m, err := readManifest(target)
	if err != nil {
		return "", Manifest{}, fmt.Errorf("current snapshot in %s: %w", outDir, err)
	}
	return target, m, nil
}

func writeManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+manifestFile+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	if err := f.Chmod(FileMode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, manifestFile)); err != nil {
		return err
	}
	return SyncDir(dir)
}

func readManifest(dir string) (Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return Manifest{}, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("%s: %w", filepath.Join(dir, manifestFile), err)
	}
	return m, nil
}

// switchCurrent points outDir/current at the run's snapshot: a new symlink
// under a temporary name renamed over the old one, which is atomic.
// switchCurrent points current at the run's snapshot. It reports whether
// current was switched, which it can be even when it fails: when syncing
// the folder after the switch fails.
func switchCurrent(outDir, runID string) (bool, error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(outDir, ".current-"+hex.EncodeToString(rnd[:]))
	if err := os.Symlink(filepath.Join(snapshotsDir, runID), tmp); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, filepath.Join(outDir, currentLink)); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("switch %s: %w", filepath.Join(outDir, currentLink), err)
	}
	if err := syncOut(outDir); err != nil {
		return true, fmt.Errorf("current switched, but syncing %s failed: %w", outDir, err)
	}
	return true, nil
}

// syncOut syncs the output folder after current switched (a var for
// tests).
var syncOut = SyncDir

// prune keeps the keep newest committed snapshots (by manifest time, then
// run id) and the current one, and removes the rest and every folder
// without a manifest.
func prune(outDir string, keep int) error {
	cur, _, err := Current(outDir)
	if err != nil {
		return err
	}
	parent := filepath.Join(outDir, snapshotsDir)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return err
	}
	type snap struct {
		dir string
		at  time.Time
	}
	var committed []snap
	var remove []string
	var unreadable []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		if dir == filepath.Clean(cur) {
			continue
		}
		m, err := readManifest(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			remove = append(remove, dir)
		case err != nil:
			// Not ours to judge: keep it, say so, and prune the rest.
			unreadable = append(unreadable, err)
		default:
			committed = append(committed, snap{dir, m.CreatedAt})
		}
	}
	sort.Slice(committed, func(i, j int) bool {
		if !committed[i].at.Equal(committed[j].at) {
			return committed[i].at.After(committed[j].at)
		}
		return committed[i].dir > committed[j].dir
	})
	if keep < 1 {
		keep = 1
	}
	for i, c := range committed {
		if i >= keep-1 { // the current snapshot is the first kept
			remove = append(remove, c.dir)
		}
	}
	errs := unreadable
	for _, dir := range remove {
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// schemaVersion hashes the schema files of the given tables.
func schemaVersion(tables []string) (string, error) {
	names := append([]string(nil), tables...)
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := schema.Read(n + ".schema.json")
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16], nil
}
