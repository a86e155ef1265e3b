package stage

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"path/filepath"

	pgo "github.com/parquet-go/parquet-go"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// ScanInto appends every record staged for source/stream to dst, which
// must hold rows of the stream's model table: the same records, in the
// same order, as Scan yields. It reads the segments column by column
// straight into dst's typed columns, without making a row of boxed
// values per record, which makes it several times faster than Scan.
func (s *Store) ScanInto(ctx context.Context, source, stream string, dst *rowset.Set) error {
	src, m, err := s.snapshot(source)
	if err != nil {
		return err
	}
	defer src.files.RUnlock()
	e := m.Streams[stream]
	if e == nil {
		return fmt.Errorf("source %s has no staged stream %q", source, stream)
	}
	if dst.Table().Name != e.Table {
		return fmt.Errorf("source %s stream %s: staged as table %s, not %s", source, stream, e.Table, dst.Table().Name)
	}
	t := dst.Table()
	d, _ := streamDir(stream)
	seen := newKeySet(rowsOf(e.Segments))
	seed := maphash.MakeSeed()
	for _, path := range segmentPaths(filepath.Join(src.dir, d), e.Segments) {
		r, err := openSegmentFile(path, t)
		if err != nil {
			return err
		}
		keep, err := r.winners(ctx, seen, seed)
		if err == nil {
			err = r.into(ctx, keep, dst)
		}
		r.close()
		if err != nil {
			return err
		}
	}
	return nil
}

// into appends the rows whose keep entry is true to dst, column by column.
func (r *segmentFile) into(ctx context.Context, keep []bool, dst *rowset.Set) error {
	// at[row] is the kept row's index in dst, or -1.
	at := make([]int32, len(keep))
	kept := 0
	for i, k := range keep {
		at[i] = -1
		if k {
			kept++
		}
	}
	if dst.Len()+kept > math.MaxInt32 {
		return fmt.Errorf("staged segment %s: more than %d rows", r.path, math.MaxInt32)
	}
	first := dst.Extend(kept)
	n := int32(first)
	for i, k := range keep {
		if k {
			at[i] = n
			n++
		}
	}
	if kept == 0 {
		return nil
	}
	for leaf, d := range r.dest {
		if d.col < 0 {
			continue
		}
		row := -1
		var bad error
		err := r.eachValue(ctx, leaf, func(v pgo.Value) {
			if v.RepetitionLevel() == 0 {
				row++
			}
			if row >= len(at) {
				bad = fmt.Errorf("staged segment %s: column %s has more rows than the file", r.path, r.table.Columns[d.col].Name)
				return
			}
			i := at[row]
			if i < 0 || bad != nil {
				return
			}
			if !d.list {
				if !v.IsNull() {
					d.put(dst, int(i), v)
				}
				return
			}
			switch def := v.DefinitionLevel(); {
			case def == 0 && d.nullable:
				// a null list
			case def < d.maxDef:
				dst.PutEmptyList(int(i), d.col)
			default:
				d.addItem(dst, int(i), v)
			}
		})
		if err == nil {
			err = bad
		}
		if err == nil && row != len(at)-1 {
			err = fmt.Errorf("staged segment %s: column %s has %d rows, the file %d", r.path, r.table.Columns[d.col].Name, row+1, len(at))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// word encodes a Parquet value of the leaf's type as rowset stores it.
func (d leafDest) word(v pgo.Value) uint64 {
	switch d.typ {
	case model.Number:
		return math.Float64bits(v.Double())
	case model.Boolean:
		if v.Boolean() {
			return 1
		}
		return 0
	case model.Date:
		return uint64(int64(v.Int32()))
	default: // Integer; Timestamp in Unix microseconds, as staged
		return uint64(v.Int64())
	}
}

func (d leafDest) put(dst *rowset.Set, i int, v pgo.Value) {
	if d.typ == model.String {
		dst.PutString(i, d.col, v.ByteArray())
		return
	}
	dst.PutWord(i, d.col, d.word(v))
}

func (d leafDest) addItem(dst *rowset.Set, i int, v pgo.Value) {
	if d.typ == model.String {
		dst.AddStringItem(i, d.col, v.ByteArray())
		return
	}
	dst.AddItem(i, d.col, d.word(v))
}
