package stage

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"

	pgo "github.com/parquet-go/parquet-go"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
	"github.com/desilo/desilo/core/sink/parquet"
)

// Scan calls fn with every record staged for source/stream: one row per
// record_key, its latest version, in the row form of the stream's model
// table (see core/model). Records whose latest version is a tombstone are
// left out. fn may keep row. An error from fn stops the scan and is
// returned.
//
// Rows come newest segment first; within a segment in file order. fn
// must not finish an extraction of, or compact, the same source: those
// wait for the scan to end.
func (s *Store) Scan(ctx context.Context, source, stream string, fn func(row []any) error) error {
	return s.latest(ctx, source, stream, nil, func(r *segmentFile, keep []bool) error {
		return r.chunks(ctx, keep, eachRow(fn))
	})
}

// eachRow calls fn with every row of a set, each a new slice.
func eachRow(fn func(row []any) error) func(*rowset.Set) error {
	return func(set *rowset.Set) error {
		for i := range set.Len() {
			if err := fn(set.Row(i, nil)); err != nil {
				return err
			}
		}
		return nil
	}
}

// latest runs eachLatest over the staged segments of source/stream, read
// as rows of t, which must be the stream's staged table (nil: load it).
func (s *Store) latest(ctx context.Context, source, stream string, t *model.Table, read func(r *segmentFile, keep []bool) error) error {
	src, m, err := s.snapshot(source)
	if err != nil {
		return err
	}
	defer src.files.RUnlock()
	e := m.Streams[stream]
	if e == nil {
		return fmt.Errorf("source %s has no staged stream %q", source, stream)
	}
	if t == nil {
		if t, err = model.Load(e.Table); err != nil {
			return fmt.Errorf("source %s stream %s: %w", source, stream, err)
		}
	} else if t.Name != e.Table {
		return fmt.Errorf("source %s stream %s: staged as table %s, not %s", source, stream, e.Table, t.Name)
	}
	d, _ := streamDir(stream)
	err = eachLatest(ctx, segmentPaths(filepath.Join(src.dir, d), e.Segments), rowsOf(e.Segments), 1, t, read)
	return withCure(ctx, err, source)
}

// damagedError is an error reading a staged segment's content: the file
// is missing, cut short or corrupt, and fails every build the same way
// until its source is staged again.
type damagedError struct{ err error }

func (e *damagedError) Error() string { return e.err.Error() }
func (e *damagedError) Unwrap() error { return e.err }

func damaged(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &damagedError{err}
}

// withCure adds to an error of a damaged segment of source what cures it.
func withCure(ctx context.Context, err error, source string) error {
	var d *damagedError
	if ctx.Err() != nil || !errors.As(err, &d) {
		return err
	}
	return fmt.Errorf("%w: the staged file is missing or damaged; 'desilo sync --full-refresh --source %s' stages the source again from the silo", err, source)
}

// ScanRejects calls fn with the rejects of the source's latest finished
// extraction (what the last run of the source rejected, and the earlier
// rejects it did not read again), in the order they were staged.
func (s *Store) ScanRejects(ctx context.Context, source string, fn func(row []any) error) error {
	src, m, err := s.snapshot(source)
	if err != nil {
		return err
	}
	defer src.files.RUnlock()
	t, err := model.Load("reject")
	if err != nil {
		return err
	}
	for _, sg := range m.Rejects {
		if err := readRows(ctx, filepath.Join(src.dir, rejectsDir, segmentName(sg.Seq)), t, fn); err != nil {
			return withCure(ctx, err, source)
		}
	}
	return nil
}

func rowsOf(segs []segment) int64 {
	var n int64
	for _, sg := range segs {
		n += sg.Rows
	}
	return n
}

// eachLatest opens the segments (newest first) one at a time and calls
// read with each and, per row, whether it is the latest live version of
// its record. Deduplication holds hashes of the record keys in sets,
// never the keys. A scan (hashes 1) holds one 64-bit hash per distinct
// key: about 11 to 23 bytes a record (see keySet and BenchmarkWriteScan),
// plus 9 bytes per row of the segment being read. Two keys whose hashes
// collide would hide one of them; with n records the odds are about
// n²/2⁶⁵ (1e-8 for a million records, 3e-4 for a hundred million), and
// as the seed is random per scan, a collision would not repeat on the
// next run. A compaction writes what it keeps for good, so it takes
// hashes 2: two independent hashes per key, in two sets, and a row is a
// duplicate only when both have met theirs, which makes a loss about
// 2⁶⁴ times less likely for twice the memory.
func eachLatest(ctx context.Context, segments []string, hint int64, hashes int, t *model.Table, read func(r *segmentFile, keep []bool) error) error {
	d := dedup{sets: make([]*keySet, hashes), hash: make([]func([]byte) uint64, hashes)}
	for i := range hashes {
		d.sets[i] = newKeySet(hint)
		d.hash[i] = newKeyHash()
	}
	for _, path := range segments {
		r, err := openSegmentFile(path, t)
		if err != nil {
			return err
		}
		keep, err := r.winners(ctx, d)
		if err == nil {
			err = read(r, keep)
		}
		r.close()
		if err != nil {
			return err
		}
	}
	return nil
}

// segmentFile reads one segment as rows of a model table.
type segmentFile struct {
	path  string
	f     *os.File
	pf    *pgo.File
	table *model.Table
	dest  []parquet.Leaf // per leaf column of the file; Col -1 to skip
	key   int            // leaf index of record_key, -1 if none
	del   int            // leaf index of the deleted flag, -1 if none
}

func openSegmentFile(path string, t *model.Table) (*segmentFile, error) {
	f, pf, err := parquet.Open(path, pgo.SkipPageIndex(true), pgo.SkipBloomFilters(true))
	if err != nil {
		return nil, damaged(fmt.Errorf("staged segment: %w", err))
	}
	r := &segmentFile{path: path, f: f, pf: pf, table: t, key: -1, del: -1}
	if err := r.mapColumns(); err != nil {
		f.Close()
		return nil, fmt.Errorf("staged segment %s: %w", path, err)
	}
	return r, nil
}

func (r *segmentFile) close() { r.f.Close() }

// mapColumns matches the file's columns to the model table's by name, so
// a segment staged before a column was added to the model still reads
// (the new column is nil). A column whose type changed is an error.
func (r *segmentFile) mapColumns() error {
	sch := r.pf.Schema()
	r.dest = make([]parquet.Leaf, len(sch.Columns()))
	for i := range r.dest {
		r.dest[i].Col = -1
	}
	for i, c := range r.table.Columns {
		path := []string{c.Name}
		if c.List {
			path = []string{c.Name, "list", "element"}
		}
		leaf, ok := sch.Lookup(path...)
		if !ok {
			if _, other := sch.Lookup(c.Name, "list", "element"); other || hasLeaf(sch, c.Name) {
				return fmt.Errorf("column %s is not a %s any more: run a full refresh of the source", c.Name, describe(c))
			}
			if c.Required {
				return fmt.Errorf("required column %s is missing: run a full refresh of the source", c.Name)
			}
			continue
		}
		typ, ok := parquet.LeafType(leaf.Node)
		if !ok || typ != c.Type || (leaf.MaxRepetitionLevel > 0) != c.List {
			return fmt.Errorf("column %s is not a %s any more: run a full refresh of the source", c.Name, describe(c))
		}
		nested := 0
		if c.List {
			nested = 1
		}
		r.dest[leaf.ColumnIndex] = parquet.Leaf{Col: i, Type: c.Type, List: c.List,
			Nullable: leaf.MaxDefinitionLevel > nested, MaxDef: leaf.MaxDefinitionLevel}
		if c.Name == "record_key" {
			r.key = leaf.ColumnIndex
		}
	}
	if leaf, ok := sch.Lookup(deletedColumn); ok {
		r.del = leaf.ColumnIndex
	}
	return nil
}

func hasLeaf(sch *pgo.Schema, name string) bool {
	_, ok := sch.Lookup(name)
	return ok
}

func describe(c model.Column) string {
	if c.List {
		return "list of " + c.Type.String()
	}
	return c.Type.String()
}

// winners reads the segment's keys and returns, per row, whether it is
// the latest live version of its record: the last row of its key in this
// segment, its key not seen in a newer segment, and not a tombstone.
// Every key it meets goes into seen.
func (r *segmentFile) winners(ctx context.Context, d dedup) ([]bool, error) {
	if r.key < 0 {
		return nil, fmt.Errorf("staged segment %s has no record_key column", r.path)
	}
	n := r.pf.NumRows()
	k := len(d.hash)
	hashes := make([]uint64, 0, n*int64(k))
	err := parquet.EachValue(ctx, r.pf, r.key, func(v pgo.Value) {
		for _, h := range d.hash {
			hashes = append(hashes, h(v.ByteArray()))
		}
	})
	if err != nil {
		return nil, damaged(fmt.Errorf("staged segment %s: %w", r.path, err))
	}
	keep := make([]bool, len(hashes)/k)
	if r.del >= 0 {
		i := 0
		err := parquet.EachValue(ctx, r.pf, r.del, func(v pgo.Value) {
			if i < len(keep) {
				keep[i] = !v.Boolean() // live; winners are decided below
			}
			i++
		})
		if err != nil {
			return nil, err
		}
		if i != len(keep) {
			return nil, damaged(fmt.Errorf("staged segment %s: %d keys but %d deleted flags", r.path, len(keep), i))
		}
	} else {
		for i := range keep {
			keep[i] = true
		}
	}
	if int64(len(hashes)) != n*int64(k) {
		return nil, damaged(fmt.Errorf("staged segment %s: %d keys in %d rows", r.path, len(hashes)/k, n))
	}
	if k == 1 {
		seen := d.sets[0]
		for i := len(hashes) - 1; i >= 0; i-- { // the last version in the file wins
			if !seen.add(hashes[i]) {
				keep[i] = false
			}
		}
		return keep, nil
	}
	for i := len(keep) - 1; i >= 0; i-- {
		met := true
		for j, seen := range d.sets {
			if seen.add(hashes[i*k+j]) { // every set learns the key
				met = false
			}
		}
		if met {
			keep[i] = false
		}
	}
	return keep, nil
}

// dedup is eachLatest's memory of the keys met: per hash function, a set
// of the keys' hashes.
type dedup struct {
	sets []*keySet
	hash []func([]byte) uint64
}

// newKeyHash returns a hash of record keys with a fresh random seed (a
// var for tests, which force collisions).
var newKeyHash = func() func([]byte) uint64 {
	seed := maphash.MakeSeed()
	return func(b []byte) uint64 { return maphash.Bytes(seed, b) }
}
