package stage

import (
	"context"
	"fmt"
	"math"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
	"github.com/desilo/desilo/core/sink/parquet"
)

// ScanChunks reads the records Scan yields, in the same order, a row
// group of a segment at a time: fn gets a new set of rows of t, the
// stream's model table, per row group that holds records. It reads the
// segments column by column straight into the sets' typed columns,
// without a row of boxed values per record, which makes it several
// times faster than Scan; and a caller that needs the rows only for a
// while holds one row group's worth, not the stream's (staging writes
// row groups of SegmentRowGroup rows).
func (s *Store) ScanChunks(ctx context.Context, source, stream string, t *model.Table, fn func(*rowset.Set) error) error {
	return s.latest(ctx, source, stream, t, func(r *segmentFile, keep []bool) error {
		return r.chunks(ctx, keep, fn)
	})
}

// chunks calls fn with a new set per row group that holds rows whose
// keep entry is true (every row when keep is nil).
func (r *segmentFile) chunks(ctx context.Context, keep []bool, fn func(*rowset.Set) error) error {
	if keep == nil {
		keep = make([]bool, r.pf.NumRows())
		for i := range keep {
			keep[i] = true
		}
	}
	for g := range r.pf.RowGroups() {
		dst := rowset.New(r.table)
		if err := r.into(ctx, g, keep, dst); err != nil {
			return err
		}
		if dst.Len() == 0 {
			continue
		}
		if err := fn(dst); err != nil {
			return err
		}
	}
	return nil
}

// into appends the rows of row group g whose keep entry (one per row of
// the file) is true to dst, column by column.
func (r *segmentFile) into(ctx context.Context, g int, keep []bool, dst *rowset.Set) error {
	rgs := r.pf.RowGroups()
	first := int64(0)
	for _, rg := range rgs[:g] {
		first += rg.NumRows()
	}
	n := rgs[g].NumRows()
	if first+n > int64(len(keep)) {
		return damaged(fmt.Errorf("staged segment %s: row group %d ends past the file's %d rows", r.path, g, len(keep)))
	}
	keep = keep[first : first+n]
	// at[row] is the kept row's index in dst, or -1.
	at := make([]int32, len(keep))
	kept := 0
	for i, k := range keep {
		at[i] = -1
		if k {
			kept++
		}
	}
	if kept == 0 {
		return nil
	}
	if dst.Len()+kept > math.MaxInt32 {
		return fmt.Errorf("staged segment %s: more than %d rows", r.path, math.MaxInt32)
	}
	next := int32(dst.Extend(kept))
	for i, k := range keep {
		if k {
			at[i] = next
			next++
		}
	}
	for leaf, d := range r.dest {
		if d.Col < 0 {
			continue
		}
		if err := parquet.FillColumn(ctx, rgs[g], leaf, d, at, dst); err != nil {
			return damaged(fmt.Errorf("staged segment %s, column %s: %w", r.path, r.table.Columns[d.Col].Name, err))
		}
	}
	return nil
}

// LiveRows counts the records Scan would yield for source/stream: one per
// record_key whose latest version is live. It reads only the segments'
// keys and deleted flags.
func (s *Store) LiveRows(ctx context.Context, source, stream string) (int64, error) {
	var n int64
	err := s.latest(ctx, source, stream, nil, func(_ *segmentFile, keep []bool) error {
		for _, k := range keep {
			if k {
				n++
			}
		}
		return nil
	})
	return n, err
}
