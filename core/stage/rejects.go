package stage

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/sink/parquet"
	pgo "github.com/parquet-go/parquet-go"
)

// carryRejects keeps the source's earlier rejects that still stand: it
// writes them into a reject segment of this session and returns it, or
// nil when none stands, and the earlier reject segments it replaces. m
// is the manifest the session's final commit is building: m.Rejects are
// the earlier rejects (the last finished session's, with what it
// carried), m.PendingRejects this session's and those of interrupted
// sessions since, m.Streams every staged segment, this session's
// included.
//
// An earlier reject stands while its record has not been read again: no
// later reject names its stream and record_key (that one tells the
// news), and no segment staged by a later session holds the key (the
// record was staged, or deleted, after all). Without this, a row
// rejected once and never read again (an unchanged file, a cursor past
// it) left the reject table at the next sync, and the record was in no
// table at all. An interrupted session's rejects are earlier ones too:
// this session, resumed from its checkpoint, may have staged a record it
// rejected. Compacted segments are not evidence: they hold records of
// earlier sessions too. Rejects without a stream or record_key are not
// carried from a finished session: no later read could be matched to
// them; their own session's rejects show them. Those of an interrupted
// session are, once, as before.
func (x *Extract) carryRejects(m *manifest) (*segment, []segment, error) {
	type earlier struct {
		sg      segment
		pending bool // an interrupted session's: its keyless rows are kept
	}
	var from []earlier
	var replaced []segment
	for _, sg := range m.Rejects {
		from = append(from, earlier{sg, false})
		replaced = append(replaced, sg)
	}
	var own []segment
	for _, sg := range m.PendingRejects {
		if sg.Session == x.session {
			own = append(own, sg)
			continue
		}
		from = append(from, earlier{sg, true})
		replaced = append(replaced, sg)
	}
	if len(from) == 0 {
		return nil, nil, nil
	}
	t, err := model.Load("reject")
	if err != nil {
		return nil, nil, err
	}
	iStream, _ := t.Index("stream")
	iKey, _ := t.Index("record_key")
	dir := filepath.Join(x.src.dir, rejectsDir)
	// The rows are read twice, not held: a standing reject keeps up to
	// 64 KiB of raw payload, and they add up from sync to sync.
	keyless := false              // an interrupted session's keyless row, kept once
	stands := map[string]uint64{} // stream NUL record_key → its latest reject's session
	keyOf := func(row []any) string {
		stream, _ := row[iStream].(string)
		key, _ := row[iKey].(string)
		if stream == "" || key == "" {
			return ""
		}
		return stream + "\x00" + key
	}
	for _, e := range from {
		err := readRows(x.ctx, filepath.Join(dir, segmentName(e.sg.Seq)), t, func(row []any) error {
			switch k := keyOf(row); {
			case k != "":
				if s, ok := stands[k]; !ok || e.sg.Session > s {
					stands[k] = e.sg.Session
				}
			case e.pending:
				keyless = true
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	for _, sg := range own {
		err := readRows(x.ctx, filepath.Join(dir, segmentName(sg.Seq)), t, func(row []any) error {
			delete(stands, keyOf(row))
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	oldest := uint64(math.MaxUint64) // 0 is a session too: unknown, the oldest
	for _, s := range stands {
		oldest = min(oldest, s)
	}
	for name, e := range m.Streams {
		d, _ := streamDir(name)
		for _, sg := range e.Segments {
			if len(stands) == 0 {
				break
			}
			if sg.Compacted || sg.Session <= oldest {
				continue
			}
			err := readKeys(x.ctx, filepath.Join(x.src.dir, d, segmentName(sg.Seq)), e.Table, func(key []byte) {
				k := name + "\x00" + string(key)
				if s, ok := stands[k]; ok && sg.Session > s {
					delete(stands, k)
				}
			})
			if err != nil {
				return nil, nil, err
			}
		}
	}
	if len(stands) == 0 && !keyless {
		return nil, replaced, nil
	}
	standing := func(row []any, e earlier) bool {
		k := keyOf(row)
		if k == "" {
			return e.pending
		}
		s, ok := stands[k]
		return ok && s == e.sg.Session
	}
	seg, err := x.openSegment("", dir, t, t)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range from {
		err := readRows(x.ctx, filepath.Join(dir, segmentName(e.sg.Seq)), t, func(row []any) error {
			if standing(row, e) {
				return seg.w.Write(row)
			}
			return nil
		})
		if err != nil {
			seg.w.Abort()
			return nil, nil, err
		}
	}
	n := seg.w.Rows()
	if n == 0 {
		seg.w.Abort()
		return nil, replaced, nil
	}
	if err := seg.w.Close(); err != nil {
		return nil, nil, err
	}
	x.unlisted = append(x.unlisted, seg.path)
	return &segment{Seq: seg.seq, Rows: n, Session: x.session}, replaced, nil
}

// readRows calls fn with every row of a staged reject segment.
func readRows(ctx context.Context, path string, t *model.Table, fn func(row []any) error) error {
	r, err := openSegmentFile(path, t)
	if err != nil {
		return err
	}
	defer r.close()
	return r.chunks(ctx, nil, eachRow(fn))
}

// readKeys calls fn with the record_key of every row of a staged stream
// segment of model table table.
func readKeys(ctx context.Context, path, table string, fn func(key []byte)) error {
	t, err := model.Load(table)
	if err != nil {
		return err
	}
	r, err := openSegmentFile(path, t)
	if err != nil {
		return err
	}
	defer r.close()
	if r.key < 0 {
		return damaged(fmt.Errorf("staged segment %s has no record_key column", r.path))
	}
	return parquet.EachValue(ctx, r.pf, r.key, func(v pgo.Value) { fn(v.ByteArray()) })
}
