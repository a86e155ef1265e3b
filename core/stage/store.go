package stage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultSegmentRows     = 200_000
	DefaultCommitAge       = 30 * time.Second
	DefaultCompactSegments = 8
)

// Options tune a Store. The zero value uses the defaults.
type Options struct {
	// SegmentRows is how many rows a session holds in open (not yet
	// durable) segments before it closes them and commits its pending
	// checkpoint. It bounds the work a crash throws away.
	SegmentRows int
	// CommitAge is how long a pending checkpoint may wait for the open
	// segments to fill before they are closed and it is committed anyway.
	CommitAge time.Duration
	// CompactSegments is the number of segments a stream may have before
	// Compact merges them.
	CompactSegments int
	// Logger receives what the store does on its own (cleaning up after an
	// interrupted run, compacting). Nil means slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.SegmentRows <= 0 {
		o.SegmentRows = DefaultSegmentRows
	}
	if o.CommitAge <= 0 {
		o.CommitAge = DefaultCommitAge
	}
	if o.CompactSegments <= 0 {
		o.CompactSegments = DefaultCompactSegments
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Store is the staging store of one state dir. Its methods are safe for
// concurrent use; at most one extraction or compaction runs per source at
// a time.
type Store struct {
	state string // state_dir
	root  string // state_dir/staging
	opts  Options
	log   *slog.Logger

	mu      sync.Mutex
	sources map[string]*sourceState
}

// sourceState is what the store knows of one source.
type sourceState struct {
	name string
	dir  string
	// m is the committed manifest, nil before the source's first commit.
	// A manifest is never changed once committed: a commit swaps in a
	// new one (under Store.mu), so a reader may keep the one it got.
	m *manifest
	// busy names the session that may change the source ("extraction",
	// "compaction"), empty when none runs.
	busy string
	// files is held for reading while segments are read, and for writing
	// while files a commit made obsolete are removed.
	files sync.RWMutex
}

// manifest is a source's committed staging state, the one file whose
// atomic replacement commits everything: the segments that count, the
// saved connector state, and the rejects. A segment file the manifest
// does not list is not part of the store.
type manifest struct {
	Version int             `json:"version"`
	NextSeq uint64          `json:"next_seq"`
	State   json.RawMessage `json:"state,omitempty"`
	// Streams are the staged streams, by name.
	Streams map[string]*streamEntry `json:"streams,omitempty"`
	// Rejects are the reject segments of the latest finished session
	// (together with those of interrupted sessions before it whose
	// checkpoints were committed).
	Rejects []segment `json:"rejects,omitempty"`
	// PendingRejects are the reject segments of sessions that committed a
	// checkpoint but have not finished. The connector will not read those
	// rows again, so the next finished session reports them.
	PendingRejects []segment  `json:"pending_rejects,omitempty"`
	CommittedAt    time.Time  `json:"committed_at"`
	FinishedAt     *time.Time `json:"finished_at,omitempty"`
}

type streamEntry struct {
	Table    string    `json:"table"`
	Segments []segment `json:"segments"` // in sequence order
}

type segment struct {
	Seq  uint64 `json:"seq"`
	Rows int64  `json:"rows"`
	// Session tells the extraction sessions (and compactions) apart:
	// only a stream with segments of several can hold versions of a
	// record in more than one. 0 (manifests before it): unknown, a
	// session of its own.
	Session uint64 `json:"session,omitempty"`
	// Compacted marks a compaction's segment: it holds records of many
	// sessions, so it tells nothing of when a record was last read.
	Compacted bool `json:"compacted,omitempty"`
}

const manifestVersion = 1

// clone returns a deep copy to build the next manifest from; a nil
// manifest clones to an empty one.
func (m *manifest) clone() *manifest {
	if m == nil {
		return &manifest{Version: manifestVersion, Streams: map[string]*streamEntry{}}
	}
	c := *m
	c.State = slices.Clone(m.State)
	c.Streams = make(map[string]*streamEntry, len(m.Streams))
	for name, e := range m.Streams {
		c.Streams[name] = &streamEntry{Table: e.Table, Segments: slices.Clone(e.Segments)}
	}
	c.Rejects = slices.Clone(m.Rejects)
	c.PendingRejects = slices.Clone(m.PendingRejects)
	return &c
}

// check validates a manifest read from disk.
func (m *manifest) check() error {
	if m.Version != manifestVersion {
		return fmt.Errorf("version %d, this desilo reads version %d", m.Version, manifestVersion)
	}
	seen := map[uint64]bool{}
	checkSegs := func(what string, segs []segment) error {
		for _, s := range segs {
			if s.Seq >= m.NextSeq || seen[s.Seq] {
				return fmt.Errorf("%s: segment %d is duplicated or beyond next_seq %d", what, s.Seq, m.NextSeq)
			}
			seen[s.Seq] = true
		}
		return nil
	}
	for name, e := range m.Streams {
		if _, err := streamDir(name); err != nil {
			return err
		}
		if e == nil || e.Table == "" {
			return fmt.Errorf("stream %q has no table", name)
		}
		if err := checkSegs("stream "+name, e.Segments); err != nil {
			return err
		}
	}
	if err := checkSegs("rejects", m.Rejects); err != nil {
		return err
	}
	return checkSegs("pending rejects", m.PendingRejects)
}

// parseManifest decodes and validates a manifest file's content.
func parseManifest(b []byte) (*manifest, error) {
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Open opens the staging store of the state dir lock holds, creating it
// if needed. Holding the lock is what makes Open's cleanup safe: it
// removes every file a crashed or killed run left uncommitted (temporary
// files, segments no manifest lists, segments a finished full refresh or
// compaction made obsolete).
func Open(lock *RunLock, opts Options) (*Store, error) {
	if lock == nil || lock.f == nil {
		return nil, errors.New("stage: Open needs a held run lock")
	}
	opts = opts.withDefaults()
	s := &Store{
		state:   lock.dir,
		root:    filepath.Join(lock.dir, stagingDir),
		opts:    opts,
		log:     opts.Logger,
		sources: map[string]*sourceState{},
	}
	if err := ensureDir(lock.dir, s.root); err != nil {
		return nil, fmt.Errorf("staging store %s: %w", s.root, err)
	}
	// A killed build may have left its temporary files.
	if err := os.RemoveAll(filepath.Join(lock.dir, scratchDir)); err != nil {
		return nil, fmt.Errorf("state dir %s: %w", lock.dir, err)
	}
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("staging store %s: %w", s.root, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if checkSource(e.Name()) != nil {
			s.log.Warn("staging: ignoring a directory that is not a source's", "dir", filepath.Join(s.root, e.Name()))
			continue
		}
		src := &sourceState{name: e.Name(), dir: filepath.Join(s.root, e.Name())}
		if src.m, err = readManifest(src.dir); err != nil {
			return nil, err
		}
		if err := s.clean(src); err != nil {
			return nil, err
		}
		s.sources[src.name] = src
	}
	return s, nil
}

// Scratch returns an empty directory under the state dir for a build's
// temporary files, removing what an earlier run left there. The state
// dir's run lock makes it the caller's alone; the caller removes it.
func (s *Store) Scratch() (string, error) {
	dir := filepath.Join(s.state, scratchDir)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.Mkdir(dir, 0o700); err != nil { // temporary: no fsync
		return "", fmt.Errorf("scratch directory: %w", err)
	}
	return dir, nil
}

func readManifest(dir string) (*manifest, error) {
	path := filepath.Join(dir, manifestName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("staging manifest %s: %w", path, err)
	}
	m, err := parseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("staging manifest %s is damaged: %w (move %s away and run a full refresh of source %s)",
			path, err, dir, filepath.Base(dir))
	}
	return m, nil
}

// clean removes what the committed manifest does not list: temporary
// files and uncommitted or obsolete segments. Files that are not ours are
// left alone.
func (s *Store) clean(src *sourceState) error {
	keep := map[string]map[uint64]bool{} // directory name → listed segments
	listed := func(dir string, segs []segment) {
		if keep[dir] == nil {
			keep[dir] = map[uint64]bool{}
		}
		for _, sg := range segs {
			keep[dir][sg.Seq] = true
		}
	}
	if m := src.m; m != nil {
		for name, e := range m.Streams {
			d, _ := streamDir(name) // checked when the manifest was read
			listed(d, e.Segments)
		}
		listed(rejectsDir, m.Rejects)
		listed(rejectsDir, m.PendingRejects)
	}
	entries, err := os.ReadDir(src.dir)
	if err != nil {
		return fmt.Errorf("staging %s: %w", src.dir, err)
	}
	removed := 0
	for _, e := range entries {
		path := filepath.Join(src.dir, e.Name())
		if !e.IsDir() {
			if isTemp(e.Name()) {
				if err := os.Remove(path); err != nil {
					return fmt.Errorf("staging cleanup: %w", err)
				}
				removed++
			}
			continue
		}
		n, err := cleanDir(path, keep[e.Name()])
		removed += n
		if err != nil {
			return err
		}
		if _, ok := keep[e.Name()]; !ok {
			os.Remove(path) // only succeeds when empty: a dir of a stream no longer staged
		}
	}
	if removed > 0 {
		s.log.Info("staging: removed files an interrupted run left uncommitted", "source", src.name, "files", removed)
	}
	return nil
}

// cleanDir removes the temporary files and the segments not in keep.
func cleanDir(dir string, keep map[uint64]bool) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("staging %s: %w", dir, err)
	}
	removed := 0
	for _, e := range entries {
		seq, isSeg := parseSegmentName(e.Name())
		if e.IsDir() || !(isTemp(e.Name()) || isSeg && !keep[seq]) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return removed, fmt.Errorf("staging cleanup: %w", err)
		}
		removed++
	}
	return removed, nil
}

// source returns the state of a source, creating it for a new one.
// Callers hold s.mu.
func (s *Store) source(name string) *sourceState {
	src := s.sources[name]
	if src == nil {
		src = &sourceState{name: name, dir: filepath.Join(s.root, name)}
		s.sources[name] = src
	}
	return src
}

// commit makes m the source's committed manifest.
func (s *Store) commit(src *sourceState, m *manifest) error {
	m.CommittedAt = time.Now().UTC()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("staging manifest of source %s: %w", src.name, err)
	}
	if err := ensureDir(filepath.Dir(s.root), src.dir); err != nil {
		return fmt.Errorf("staging %s: %w", src.dir, err)
	}
	if err := writeFileAtomic(src.dir, manifestName, append(b, '\n')); err != nil {
		return fmt.Errorf("staging manifest of source %s: %w", src.name, err)
	}
	s.mu.Lock()
	src.m = m
	s.mu.Unlock()
	return nil
}

// removeObsolete removes files a commit no longer lists. It waits for
// readers of the source to finish. A failure only leaves files the next
// Open removes, so it is logged, not returned.
func (s *Store) removeObsolete(src *sourceState, paths []string) {
	if len(paths) == 0 {
		return
	}
	src.files.Lock()
	defer src.files.Unlock()
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("staging: could not remove an obsolete segment; the next run will", "source", src.name, "err", err)
		}
		if dir := filepath.Dir(p); dir != src.dir {
			os.Remove(dir) // succeeds only for an emptied directory
		}
	}
}

// snapshot returns a source's committed manifest with its files held for
// reading; the caller calls src.files.RUnlock.
func (s *Store) snapshot(source string) (*sourceState, *manifest, error) {
	s.mu.Lock()
	src := s.sources[source]
	s.mu.Unlock()
	if src == nil {
		return nil, nil, fmt.Errorf("source %s has nothing staged", source)
	}
	src.files.RLock()
	s.mu.Lock()
	m := src.m
	s.mu.Unlock()
	if m == nil {
		src.files.RUnlock()
		return nil, nil, fmt.Errorf("source %s has nothing staged", source)
	}
	return src, m, nil
}

// LoadState returns the source's saved state: the last checkpoint that
// was committed, or nil when there is none.
func (s *Store) LoadState(source string) (json.RawMessage, error) {
	if err := checkSource(source); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.sources[source]
	if src == nil || src.m == nil {
		return nil, nil
	}
	return compactJSON(src.m.State), nil
}

// compactJSON returns a copy of a valid JSON value without insignificant
// space: the manifest is indented for people, so the state read back
// from it is equal to the connector's checkpoint as JSON, not as bytes.
func compactJSON(v json.RawMessage) json.RawMessage {
	if v == nil {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return slices.Clone(v) // cannot happen: a manifest holds valid JSON
	}
	return b.Bytes()
}

// StreamRef names a staged stream and the table its rows belong to.
type StreamRef struct {
	Source, Stream string
	Table          string // the model table, e.g. customer_record
	Segments       int
	// Rows counts the staged rows, superseded versions and tombstones
	// included; Scan yields at most this many.
	Rows int64
	// Sessions counts the extraction sessions (or compactions) the
	// segments come from. With one, versions of a record can only have
	// come from that session's own repeats, and Rows is about the
	// records; with several, LiveRows counts them.
	Sessions int
}

// Streams lists what is staged, sorted by source and stream.
func (s *Store) Streams() []StreamRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []StreamRef
	for _, src := range s.sources {
		if src.m == nil {
			continue
		}
		for name, e := range src.m.Streams {
			ref := StreamRef{Source: src.name, Stream: name, Table: e.Table, Segments: len(e.Segments)}
			for k, sg := range e.Segments {
				ref.Rows += sg.Rows
				if k == 0 || sg.Session == 0 || sg.Session != e.Segments[k-1].Session {
					ref.Sessions++ // a session's segments are consecutive
				}
			}
			out = append(out, ref)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Stream < out[j].Stream
	})
	return out
}

// Sources lists the sources with a committed staging state, sorted.
func (s *Store) Sources() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name, src := range s.sources {
		if src.m != nil {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// claim marks a source busy with what; it fails when something else is.
func (s *Store) claim(source, what string) (*sourceState, error) {
	if err := checkSource(source); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.source(source)
	if src.busy != "" {
		return nil, fmt.Errorf("source %s: cannot start %s, %s is in progress", source, what, src.busy)
	}
	src.busy = what
	return src, nil
}

func (s *Store) release(src *sourceState) {
	s.mu.Lock()
	src.busy = ""
	s.mu.Unlock()
}

// segmentPaths returns the files of segs under dir, newest first.
func segmentPaths(dir string, segs []segment) []string {
	paths := make([]string, len(segs))
	for i, sg := range segs {
		paths[len(segs)-1-i] = filepath.Join(dir, segmentName(sg.Seq))
	}
	return paths
}
