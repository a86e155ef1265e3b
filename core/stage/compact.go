package stage

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
	sink "github.com/desilo/desilo/core/sink/parquet"
)

// Compact merges the segments of source/stream into one when there are
// more than Options.CompactSegments, keeping only what Scan yields: the
// latest version of each record, without tombstones (with every older
// segment merged there is nothing left for a tombstone to hide). It
// reports whether it merged.
//
// It is atomic: the merged segment is written beside the old ones and
// takes their place in one manifest commit; a crash before that leaves
// the old segments in charge and the next Open removes the merged file.
func (s *Store) Compact(ctx context.Context, source, stream string) (bool, error) {
	src, err := s.claim(source, "a compaction")
	if err != nil {
		return false, err
	}
	defer s.release(src)
	s.mu.Lock()
	m := src.m
	s.mu.Unlock()
	e := m.stream(stream)
	if e == nil {
		return false, fmt.Errorf("source %s has no staged stream %q", source, stream)
	}
	if len(e.Segments) <= s.opts.CompactSegments {
		return false, nil
	}
	t, err := model.Load(e.Table)
	if err != nil {
		return false, fmt.Errorf("source %s stream %s: %w", source, stream, err)
	}
	d, _ := streamDir(stream)
	dir := filepath.Join(src.dir, d)
	merged := segment{Seq: m.NextSeq, Session: m.NextSeq + 1, Compacted: true}
	path := filepath.Join(dir, segmentName(merged.Seq))
	if merged.Rows, err = s.merge(ctx, path, segmentPaths(dir, e.Segments), rowsOf(e.Segments), t); err != nil {
		return false, fmt.Errorf("compacting source %s stream %s: %w", source, stream, err)
	}

	next := m.clone()
	next.NextSeq = merged.Seq + 1
	next.Streams[stream].Segments = []segment{merged}
	if err := s.commit(src, next); err != nil {
		// The manifest may have been replaced even so: the next Open keeps
		// or removes the merged segment by the manifest it finds.
		return false, fmt.Errorf("compacting source %s stream %s: %w", source, stream, err)
	}
	s.removeObsolete(src, segmentPaths(dir, e.Segments))
	s.log.Info("staging: compacted", "source", source, "stream", stream,
		"segments", len(e.Segments), "rows_before", rowsOf(e.Segments), "rows_after", merged.Rows)
	return true, nil
}

// merge writes the latest live rows of segments to path and returns how
// many it wrote. On error nothing is left at path.
func (s *Store) merge(ctx context.Context, path string, segments []string, hint int64, t *model.Table) (int64, error) {
	st := segmentTable(t)
	w, err := sink.NewWriter(ctx, path, st, segmentOptions())
	if err != nil {
		return 0, err
	}
	del := len(st.Columns) - 1
	err = eachLatest(ctx, segments, hint, 2, t, func(r *segmentFile, keep []bool) error {
		return r.chunks(ctx, keep, func(set *rowset.Set) error {
			for i := range set.Len() {
				w.SetBool(del, false)
				w.SetRow(set, i)
				if err := w.EndRow(); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		w.Abort() // removes its temporary file
		return 0, err
	}
	rows := w.Rows()
	return rows, w.Close()
}
