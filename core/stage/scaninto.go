package stage

import (
	"context"
	"fmt"
	"math"

	"github.com/desilo/desilo/core/rowset"
	"github.com/desilo/desilo/core/sink/parquet"
)

// ScanInto appends every record staged for source/stream to dst, which
// must hold rows of the stream's model table: the same records, in the
// same order, as Scan yields. It reads the segments column by column
// straight into dst's typed columns, without making a row of boxed
// values per record, which makes it several times faster than Scan.
func (s *Store) ScanInto(ctx context.Context, source, stream string, dst *rowset.Set) error {
	return s.latest(ctx, source, stream, dst.Table(), func(r *segmentFile, keep []bool) error {
		return r.into(ctx, keep, dst)
	})
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
		if d.Col < 0 {
			continue
		}
		if err := parquet.FillColumn(ctx, r.pf, leaf, d, at, dst); err != nil {
			return fmt.Errorf("staged segment %s, column %s: %w", r.path, r.table.Columns[d.Col].Name, err)
		}
	}
	return nil
}
