package stage

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/desilo/desilo/core/model"
	sink "github.com/desilo/desilo/core/sink/parquet"
)

// deletedColumn is the column a segment adds to its model table: true for
// a tombstone. The leading underscore keeps it apart from model columns,
// which are JSON Schema property names chosen by us.
const deletedColumn = "_desilo_deleted"

// BeginOptions tune an extraction session.
type BeginOptions struct {
	// FullRefresh starts from an empty state and, when the session
	// finishes, replaces everything staged for the source with what it
	// wrote. Until then, and if it never finishes, nothing changes.
	FullRefresh bool
}

// Extract is one extraction session of one source: the rows and rejects a
// connector's Read produces, and its checkpoints. It is not safe for
// concurrent use. Call Finish when the Read succeeded, Abort otherwise;
// Abort after Finish does nothing, so `defer x.Abort()` is fine.
type Extract struct {
	s      *Store
	src    *sourceState
	full   bool
	start  json.RawMessage
	ctx    context.Context
	cancel context.CancelFunc

	next     uint64                  // the next segment sequence number
	session  uint64                  // this session, in its segments (see segment.Session)
	open     map[string]*openSegment // by stream
	rejects  *openSegment            // nil until the first reject
	tables   map[string]*model.Table // per stream, the model table it was first written with
	closed   map[string][]segment    // full refresh: closed segments awaiting Finish, by stream
	rejDone  []segment               // full refresh: closed reject segments awaiting Finish
	unlisted []string                // closed segment files no manifest lists yet

	pending    json.RawMessage // the latest checkpoint not yet committed
	hasPending bool
	openRows   int       // rows in open segments
	dirtySince time.Time // first row or checkpoint since the last commit
	err        error     // sticky: the session failed
	done       bool      // finished or aborted
}

// openSegment is a segment being written.
type openSegment struct {
	stream string // "" for rejects
	seq    uint64
	path   string
	w      *sink.Writer
	cols   int   // columns of the model table
	buf    []any // the row plus the deleted flag, reused
	// positions of the columns Write checks in every row
	source, streamCol, key int
}

// Begin starts an extraction session for source. ctx bounds the session:
// once it is cancelled, writes fail and nothing more is committed.
func (s *Store) Begin(ctx context.Context, source string, opts BeginOptions) (*Extract, error) {
	src, err := s.claim(source, "an extraction")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	m := src.m
	s.mu.Unlock()
	x := &Extract{
		s: s, src: src, full: opts.FullRefresh,
		open: map[string]*openSegment{}, tables: map[string]*model.Table{}, closed: map[string][]segment{},
	}
	if m != nil {
		x.next = m.NextSeq
		if !x.full {
			x.start = compactJSON(m.State)
		}
	}
	x.session = x.next + 1 // unique: sequence numbers only grow, and 0 means unknown
	x.ctx, x.cancel = context.WithCancel(ctx)
	return x, nil
}

// StartState is the state the connector's Read starts from: the saved
// state, or nil for a full refresh or a source never read.
func (x *Extract) StartState() json.RawMessage { return slices.Clone(x.start) }

func (x *Extract) usable() error {
	switch {
	case x.err != nil:
		return x.err
	case x.done:
		return fmt.Errorf("source %s: extraction session already ended", x.src.name)
	}
	return nil
}

func (x *Extract) fail(err error) error {
	if x.err == nil {
		x.err = err
	}
	return x.err
}

// Write stages one row of model table t read from stream: a value per
// column, as core/model describes. deleted marks a tombstone: the record
// with this record_key was deleted at the source, and Scan no longer
// yields it; a tombstone row needs only the key and the table's required
// columns. The row is copied; the caller may reuse it. An error fails
// the session: Finish returns it and commits nothing more.
func (x *Extract) Write(stream string, t *model.Table, row []any, deleted bool) error {
	if err := x.usable(); err != nil {
		return err
	}
	if err := x.sameTable(stream, t); err != nil {
		return x.fail(err)
	}
	seg := x.open[stream]
	if seg == nil {
		var err error
		if seg, err = x.openStream(stream, t); err != nil {
			return x.fail(err)
		}
	}
	if err := seg.check(x.src.name, stream, row); err != nil {
		return x.fail(err)
	}
	seg.buf = append(append(seg.buf[:0], row...), deleted)
	if err := seg.w.Write(seg.buf); err != nil {
		return x.fail(fmt.Errorf("source %s stream %s: %w", x.src.name, stream, err))
	}
	return x.wrote()
}

// Reject stages one row of the reject table.
func (x *Extract) Reject(row []any) error {
	if err := x.usable(); err != nil {
		return err
	}
	if x.rejects == nil {
		t, err := model.Load("reject")
		if err != nil {
			return x.fail(err)
		}
		if x.rejects, err = x.openSegment("", filepath.Join(x.src.dir, rejectsDir), t, t); err != nil {
			return x.fail(err)
		}
	}
	seg := x.rejects
	if len(row) != seg.cols {
		return x.fail(fmt.Errorf("source %s: reject row has %d values for %d columns", x.src.name, len(row), seg.cols))
	}
	if v, _ := row[seg.source].(string); v != x.src.name {
		return x.fail(fmt.Errorf("source %s: reject row of source %q", x.src.name, v))
	}
	if err := seg.w.Write(row); err != nil {
		return x.fail(fmt.Errorf("source %s: %w", x.src.name, err))
	}
	return x.wrote()
}

// Checkpoint records state as the point up to which every row written so
// far counts as delivered. It is saved once those rows are durable: at
// once if the open segments are due to be closed, otherwise when they
// are, or at Finish.
func (x *Extract) Checkpoint(state json.RawMessage) error {
	if err := x.usable(); err != nil {
		return err
	}
	if !json.Valid(state) {
		return x.fail(fmt.Errorf("source %s: the connector's checkpoint is not valid JSON", x.src.name))
	}
	x.pending, x.hasPending = slices.Clone(state), true
	x.touch()
	return x.maybeFlush()
}

func (x *Extract) wrote() error {
	x.openRows++
	x.touch()
	return x.maybeFlush()
}

func (x *Extract) touch() {
	if x.dirtySince.IsZero() {
		x.dirtySince = time.Now()
	}
}

// maybeFlush closes the open segments and commits when they are full, or
// when a checkpoint has waited for CommitAge. A full refresh commits
// nothing before Finish, so a checkpoint's age does not close its
// segments: it would close them at every row from then on.
func (x *Extract) maybeFlush() error {
	o := x.s.opts
	if x.openRows >= o.SegmentRows || !x.full && x.hasPending && time.Since(x.dirtySince) >= o.CommitAge {
		if err := x.flush(false); err != nil {
			return x.fail(err)
		}
	}
	return nil
}

// Finish makes everything written durable and commits the last
// checkpoint; for a full refresh it then replaces what was staged before.
// On error the session is aborted and the last committed state stays.
func (x *Extract) Finish() error {
	if err := x.usable(); err != nil {
		x.Abort()
		return err
	}
	if err := x.flush(true); err != nil {
		x.fail(err)
		x.Abort()
		return err
	}
	x.done = true
	x.cancel()
	x.s.release(x.src)
	return nil
}

// Abort ends the session without committing anything more: the open
// segments are discarded and the saved state stays the last committed
// one. It is what a crash does, minus the files the next Open removes.
func (x *Extract) Abort() {
	if x.done {
		return
	}
	x.done = true
	x.cancel()
	for _, seg := range x.openSegments() {
		seg.w.Abort() // publishes nothing
	}
	for _, p := range x.unlisted {
		os.Remove(p)
	}
	x.s.release(x.src)
}

// sameTable makes sure a stream's rows are all of one table.
func (x *Extract) sameTable(stream string, t *model.Table) error {
	if t == nil {
		return fmt.Errorf("source %s stream %s: no table", x.src.name, stream)
	}
	if prev := x.tables[stream]; prev != nil && prev != t && !sameColumns(prev, t) {
		return fmt.Errorf("source %s stream %s: rows of table %s after rows of table %s", x.src.name, stream, t.Name, prev.Name)
	}
	return nil
}

// openStream validates a stream's first row's table and opens its segment.
func (x *Extract) openStream(stream string, t *model.Table) (*openSegment, error) {
	dir, err := streamDir(stream)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", x.src.name, err)
	}
	if x.tables[stream] == nil {
		if err := checkTable(t); err != nil {
			return nil, fmt.Errorf("source %s stream %s: %w", x.src.name, stream, err)
		}
		if !x.full {
			x.s.mu.Lock()
			m := x.src.m
			x.s.mu.Unlock()
			if e := m.stream(stream); e != nil && e.Table != t.Name {
				return nil, fmt.Errorf("source %s stream %s is staged as %s but is now mapped to %s: run a full refresh of source %s",
					x.src.name, stream, e.Table, t.Name, x.src.name)
			}
		}
		x.tables[stream] = t
	}
	seg, err := x.openSegment(stream, filepath.Join(x.src.dir, dir), t, segmentTable(t))
	if err != nil {
		return nil, err
	}
	x.open[stream] = seg
	return seg, nil
}

// segmentTable is the table of a stream's segment files: t plus the
// deleted flag.
func segmentTable(t *model.Table) *model.Table {
	return &model.Table{Name: t.Name, Columns: append(slices.Clone(t.Columns),
		model.Column{Name: deletedColumn, Type: model.Boolean, Required: true})}
}

func (m *manifest) stream(name string) *streamEntry {
	if m == nil {
		return nil
	}
	return m.Streams[name]
}

// checkTable accepts the model's own tables: Scan reads rows back as the
// model table of the recorded name, so a table of our own making could
// not be read back faithfully.
func checkTable(t *model.Table) error {
	mt, err := model.Load(t.Name)
	if err != nil {
		return err
	}
	if mt != t && !sameColumns(mt, t) {
		return fmt.Errorf("table %s differs from the model's table of that name", t.Name)
	}
	for _, c := range []string{"source", "stream", "record_key"} {
		i, ok := t.Index(c)
		if !ok || t.Columns[i].Type != model.String || t.Columns[i].List {
			return fmt.Errorf("table %s has no string column %s, so it cannot be staged", t.Name, c)
		}
	}
	return nil
}

func sameColumns(a, b *model.Table) bool {
	if a == nil || b == nil || a.Name != b.Name || len(a.Columns) != len(b.Columns) {
		return false
	}
	for i, c := range a.Columns {
		d := b.Columns[i]
		if c.Name != d.Name || c.Type != d.Type || c.List != d.List || c.Required != d.Required {
			return false
		}
	}
	return true
}

// openSegment starts the next segment file in dir with file table st
// (t plus, for a stream, the deleted column).
func (x *Extract) openSegment(stream, dir string, t, st *model.Table) (*openSegment, error) {
	if err := ensureDir(filepath.Dir(x.s.root), dir); err != nil {
		return nil, fmt.Errorf("source %s: %w", x.src.name, err)
	}
	seg := &openSegment{stream: stream, seq: x.next, cols: len(t.Columns), buf: make([]any, 0, len(st.Columns))}
	seg.path = filepath.Join(dir, segmentName(seg.seq))
	seg.source, _ = t.Index("source")
	seg.streamCol, _ = t.Index("stream")
	seg.key, _ = t.Index("record_key")
	w, err := sink.NewWriter(x.ctx, seg.path, st, segmentOptions())
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", x.src.name, err)
	}
	seg.w = w
	x.next++
	return seg, nil
}

// check makes sure a row belongs where it is staged.
func (seg *openSegment) check(source, stream string, row []any) error {
	if len(row) != seg.cols {
		return fmt.Errorf("source %s stream %s: row has %d values for %d columns", source, stream, len(row), seg.cols)
	}
	key, _ := row[seg.key].(string)
	if key == "" {
		return fmt.Errorf("source %s stream %s: row without a record_key", source, stream)
	}
	if v, _ := row[seg.source].(string); v != source {
		return fmt.Errorf("source %s stream %s, record %s: row says source %q", source, stream, key, v)
	}
	if v, _ := row[seg.streamCol].(string); v != stream {
		return fmt.Errorf("source %s stream %s, record %s: row says stream %q", source, stream, key, v)
	}
	return nil
}

// openSegments returns the open segments in a stable order, rejects last.
func (x *Extract) openSegments() []*openSegment {
	segs := make([]*openSegment, 0, len(x.open)+1)
	for _, seg := range x.open {
		segs = append(segs, seg)
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].seq < segs[j].seq })
	if x.rejects != nil {
		segs = append(segs, x.rejects)
	}
	return segs
}

// flush closes the open segments, each durable once closed, and then
// commits: the segments and the pending checkpoint of an incremental
// session at once; those of a full refresh only when final.
func (x *Extract) flush(final bool) error {
	if err := x.ctx.Err(); err != nil {
		return fmt.Errorf("source %s: %w", x.src.name, err)
	}
	streams := map[string][]segment{}
	var rejects []segment
	for _, seg := range x.openSegments() {
		rows := seg.w.Rows()
		if err := seg.w.Close(); err != nil {
			return fmt.Errorf("source %s: %w", x.src.name, err)
		}
		x.unlisted = append(x.unlisted, seg.path)
		if seg.stream == "" {
			x.rejects = nil
			rejects = append(rejects, segment{Seq: seg.seq, Rows: rows, Session: x.session})
		} else {
			delete(x.open, seg.stream)
			streams[seg.stream] = append(streams[seg.stream], segment{Seq: seg.seq, Rows: rows, Session: x.session})
		}
	}
	x.openRows = 0
	if x.full {
		for name, segs := range streams {
			x.closed[name] = append(x.closed[name], segs...)
		}
		x.rejDone = append(x.rejDone, rejects...)
		if !final {
			return nil
		}
		return x.commitRefresh()
	}
	return x.commitIncremental(streams, rejects, final)
}

func (x *Extract) commitIncremental(streams map[string][]segment, rejects []segment, final bool) error {
	x.s.mu.Lock()
	m := x.src.m.clone()
	x.s.mu.Unlock()
	for name, segs := range streams {
		e := m.Streams[name]
		if e == nil {
			e = &streamEntry{Table: x.tables[name].Name}
			m.Streams[name] = e
		}
		e.Segments = append(e.Segments, segs...)
	}
	m.PendingRejects = append(m.PendingRejects, rejects...)
	if x.hasPending {
		m.State = x.pending
	}
	var obsolete []string
	if final {
		carried, replaced, err := x.carryRejects(m)
		if err != nil {
			return fmt.Errorf("source %s: earlier rejects: %w", x.src.name, withCure(x.ctx, err, x.src.name))
		}
		var kept []segment // what the session carried, then its own rejects: in the order staged
		if carried != nil {
			kept = append(kept, *carried)
		}
		for _, sg := range m.PendingRejects {
			if sg.Session == x.session {
				kept = append(kept, sg)
			}
		}
		for _, sg := range replaced {
			obsolete = append(obsolete, filepath.Join(x.src.dir, rejectsDir, segmentName(sg.Seq)))
		}
		m.Rejects, m.PendingRejects = kept, nil
		now := time.Now().UTC()
		m.FinishedAt = &now
	}
	m.NextSeq = x.next // after carryRejects, which may take a sequence number
	if err := x.commit(m); err != nil {
		return err
	}
	x.s.removeObsolete(x.src, obsolete)
	return nil
}

// commitRefresh replaces the source's staging with the session's.
func (x *Extract) commitRefresh() error {
	x.s.mu.Lock()
	old := x.src.m
	x.s.mu.Unlock()
	now := time.Now().UTC()
	m := &manifest{Version: manifestVersion, NextSeq: x.next, Streams: map[string]*streamEntry{},
		Rejects: x.rejDone, FinishedAt: &now}
	if x.hasPending {
		m.State = x.pending
	}
	for name, segs := range x.closed {
		m.Streams[name] = &streamEntry{Table: x.tables[name].Name, Segments: segs}
	}
	if err := x.commit(m); err != nil {
		return err
	}
	x.s.removeObsolete(x.src, old.files(x.src.dir))
	return nil
}

// commit commits m and resets what it made durable. A failed commit may
// still have replaced the manifest (say, the rename succeeded but the
// directory sync failed), so the closed segments are then left in place
// for the next Open to keep or remove by the manifest it finds.
func (x *Extract) commit(m *manifest) error {
	err := x.s.commit(x.src, m)
	x.unlisted = nil
	if err != nil {
		return err
	}
	x.hasPending = false
	x.pending = nil
	x.dirtySince = time.Time{}
	return nil
}

// files lists every segment file m lists.
func (m *manifest) files(dir string) []string {
	if m == nil {
		return nil
	}
	var out []string
	for name, e := range m.Streams {
		d, _ := streamDir(name)
		out = append(out, segmentPaths(filepath.Join(dir, d), e.Segments)...)
	}
	out = append(out, segmentPaths(filepath.Join(dir, rejectsDir), m.Rejects)...)
	return append(out, segmentPaths(filepath.Join(dir, rejectsDir), m.PendingRejects)...)
}
