package sql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/desilo/desilo/connectors/internal/incremental"
	"github.com/desilo/desilo/plugins/connector"
)

// state is what the connector checkpoints: per stream, where keyset paging
// stands. Streams not read in a run keep their saved state unchanged.
type state struct {
	Streams map[string]*streamState `json:"streams"`
}

// streamState is the position after the last row emitted: the values of
// the key columns (the cursor first, then the primary key) of that row. A
// stream without a cursor has a state only while a full read is under way,
// so an interrupted full read resumes where it stopped and the next one
// starts from the beginning.
type streamState struct {
	Keys []string          `json:"keys"`
	Last []json.RawMessage `json:"last"`
	// Seen holds the rows delivered within cursor_lookback of Last's
	// cursor: primary key (JSON) → cursor (Unix µs), so a read that starts
	// that far back skips them while they are unchanged.
	Seen incremental.Seen `json:"seen,omitempty"`
	// Nulls is set while the pass over the rows whose cursor is NULL is
	// under way: the primary key of the last of them emitted (empty before
	// the first), so an interrupted pass resumes there.
	Nulls *[]json.RawMessage `json:"nulls,omitempty"`
}

func decodeState(raw json.RawMessage) (*state, error) {
	st := &state{Streams: map[string]*streamState{}}
	if len(raw) == 0 || string(raw) == "null" {
		return st, nil
	}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("sql: saved state is not valid: %w", err)
	}
	if st.Streams == nil {
		st.Streams = map[string]*streamState{}
	}
	for name, ss := range st.Streams {
		if ss == nil {
			return nil, fmt.Errorf("sql: saved state of stream %s is null", name)
		}
		if len(ss.Keys) != len(ss.Last) {
			return nil, fmt.Errorf("sql: saved state of stream %s is not valid: %d key columns, %d values", name, len(ss.Keys), len(ss.Last))
		}
	}
	return st, nil
}

// streamReader reads one stream page by page.
type streamReader struct {
	s   *session
	rs  *resolvedStream
	st  *state
	out connector.Emitter
	// seen is the look-back window's delivered rows (see streamState.Seen);
	// nil without cursor_lookback.
	seen *incremental.Seen
}

// scan is one keyset pass over a stream: the columns it orders and pages
// by, their positions in the result, and a condition on the rows.
type scan struct {
	keys   []string
	idx    []int
	filter string // "" for none; its arguments are $1, $2, ...
	args   []any
}

func (r *streamReader) read(ctx context.Context) error {
	sc := r.rs.cfg
	log := connector.Log(ctx).With("stream", sc.Name)
	keys := sc.keyColumns()
	saved := r.saved(ctx, keys)
	var last, after []json.RawMessage
	var nulls *[]json.RawMessage // a pass over NULL cursors under way
	var seen incremental.Seen
	if saved != nil {
		last, nulls, seen = saved.Last, saved.Nulls, saved.Seen
	}
	main := scan{keys: keys, idx: r.rs.keyIdx}
	if sc.CursorField != "" {
		main.filter, _, _ = r.s.d.cursorConditions(r.rs.cols[r.rs.keyIdx[0]])
	}
	if sc.lookback > 0 && r.rs.cols[r.rs.keyIdx[0]].kind != kindTimestamp {
		log.Warn("sql: cursor_lookback applies to timestamp cursors only; ignored", "cursor_field", sc.CursorField)
	}
	if sc.lookback > 0 && r.rs.cols[r.rs.keyIdx[0]].kind == kindTimestamp {
		r.seen = &seen
		if at, ok := cursorTime(last); ok {
			// Start the look-back before the saved position; the rows
			// delivered there are skipped while unchanged.
			main.filter += " AND desilo_t." + r.s.d.quoteColumn(sc.CursorField) + " >= " + r.s.d.placeholder(1)
			main.args = []any{r.s.d.keyParam(r.rs.cols[r.rs.keyIdx[0]], at.Add(-sc.lookback))}
			last = nil
		}
	}
	total, err := r.pass(ctx, main, &last, func() *streamState {
		if r.seen != nil {
			if at, ok := cursorTime(last); ok {
				seen.Prune(at.Add(-sc.lookback).UnixMicro(), at.UnixMicro())
			}
		}
		return &streamState{Keys: keys, Last: last, Nulls: nulls, Seen: seen}
	})
	if err != nil {
		return err
	}
	if sc.CursorField == "" && r.st.Streams[sc.Name] != nil {
		// The full read is complete: the next one starts from the beginning.
		delete(r.st.Streams, sc.Name)
		if err := r.checkpoint(ctx); err != nil {
			return err
		}
	}
	if r.nullableCursor() {
		if nulls != nil {
			after = *nulls
		}
		n, err := r.readNulls(ctx, keys, last, after)
		if err != nil {
			return err
		}
		if n > 0 {
			log.Info("sql: rows whose cursor_field is NULL (or a MySQL zero date, or NaN) cannot be read incrementally and were read again; give them a value to read them only when they change",
				"cursor_field", sc.CursorField, "rows", n)
		}
		total += n
	}
	log.Info("sql: stream read", "rows", total)
	return nil
}

// nullableCursor says whether the stream has a cursor that may be NULL
// (or hold another value without a place in its order, see
// cursorConditions) and a primary key besides it to page such rows by.
func (r *streamReader) nullableCursor() bool {
	if r.rs.cfg.CursorField == "" || len(r.rs.keyIdx) < 2 {
		return false
	}
	c := r.rs.cols[r.rs.keyIdx[0]]
	_, _, others := r.s.d.cursorConditions(c)
	return c.nullable || others
}

// readNulls reads the rows whose cursor is NULL, by primary key from
// after (nil: from the first). Keyset paging by the cursor cannot place
// them, so every run reads them all again; staging keeps one version per
// key, so nothing is duplicated. last is the cursor pass's position, kept
// in every checkpoint.
func (r *streamReader) readNulls(ctx context.Context, keys []string, last, after []json.RawMessage) (int, error) {
	name := r.rs.cfg.Name
	_, unplaced, _ := r.s.d.cursorConditions(r.rs.cols[r.rs.keyIdx[0]])
	nulls := scan{keys: keys[1:], idx: r.rs.keyIdx[1:], filter: unplaced}
	n, err := r.pass(ctx, nulls, &after, func() *streamState {
		pos := after
		return &streamState{Keys: keys, Last: last, Nulls: &pos, Seen: r.seenNow()}
	})
	if err != nil {
		return n, err
	}
	if ss := r.st.Streams[name]; ss != nil && ss.Nulls != nil {
		// The pass is complete: the next run's starts from the first row
		// again.
		if last == nil {
			delete(r.st.Streams, name)
		} else {
			r.st.Streams[name] = &streamState{Keys: keys, Last: last, Seen: r.seenNow()}
		}
		if err := r.checkpoint(ctx); err != nil {
			return n, err
		}
	}
	return n, nil
}

// pass pages through sc from *last to the end, checkpointing the state
// position() returns after every page that emitted rows.
func (r *streamReader) pass(ctx context.Context, sc scan, last *[]json.RawMessage, position func() *streamState) (int, error) {
	cfg := r.rs.cfg
	total := 0
	for {
		n, err := r.page(ctx, sc, last)
		if err != nil {
			return total, fmt.Errorf("stream %s (%s): %w", cfg.Name, cfg.what(), err)
		}
		total += n
		if n > 0 {
			r.st.Streams[cfg.Name] = position()
			if err := r.checkpoint(ctx); err != nil {
				return total, err
			}
		}
		if n < cfg.BatchSize {
			return total, nil
		}
	}
}

// seenNow is the look-back window's delivered rows, nil without one.
func (r *streamReader) seenNow() incremental.Seen {
	if r.seen == nil {
		return nil
	}
	return *r.seen
}

// cursorTime is the timestamp cursor of a saved position.
func cursorTime(last []json.RawMessage) (time.Time, bool) {
	if len(last) == 0 {
		return time.Time{}, false
	}
	var v string
	if json.Unmarshal(last[0], &v) != nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

// saved returns the saved position of the stream, or nil to start from
// the beginning.
func (r *streamReader) saved(ctx context.Context, keys []string) *streamState {
	ss := r.st.Streams[r.rs.cfg.Name]
	if ss == nil {
		return nil
	}
	if !slices.Equal(ss.Keys, keys) {
		connector.Log(ctx).Warn("sql: the stream's cursor_field or primary_key changed since the saved state; reading it from the beginning",
			"stream", r.rs.cfg.Name, "saved", strings.Join(ss.Keys, ","), "now", strings.Join(keys, ","))
		return nil
	}
	return ss
}

func (r *streamReader) checkpoint(ctx context.Context) error {
	b, err := json.Marshal(r.st)
	if err != nil {
		return err
	}
	return r.out.Checkpoint(ctx, b)
}

// pageQuery builds the keyset query of the page after last (nil: the first
// page): WHERE filter AND (k1, k2, ...) > (p1, p2, ...) ORDER BY k1, k2,
// ... LIMIT n. Row-value comparison orders ties on the cursor by the
// primary key, so rows sharing the last cursor value are neither skipped
// nor repeated.
func (r *streamReader) pageQuery(sc scan, last []json.RawMessage) (string, []any, error) {
	d := r.s.d
	keys := sc.keys
	quoted := make([]string, len(keys))
	for i := range keys {
		quoted[i] = d.keyExpr(r.rs.cols[sc.idx[i]])
	}
	var where []string
	if sc.filter != "" {
		where = append(where, sc.filter)
	}
	args := slices.Clone(sc.args)
	if len(last) > 0 {
		ph := make([]string, len(keys))
		for i := range keys {
			arg, err := keyArg(r.rs.cols[sc.idx[i]].kind, last[i])
			if err != nil {
				return "", nil, fmt.Errorf("saved state, column %s: %w", keys[i], err)
			}
			args = append(args, d.keyParam(r.rs.cols[sc.idx[i]], arg))
			ph[i] = d.placeholder(len(args))
		}
		where = append(where, "("+strings.Join(quoted, ", ")+") > ("+strings.Join(ph, ", ")+")")
	}
	q := "SELECT * FROM " + r.s.from(r.rs.cfg)
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	// The limit is a parameter so that every page, the first too, is a
	// prepared statement: MySQL's text protocol, used for a query without
	// parameters, gives other digits for a FLOAT (MariaDB writes 6
	// significant digits) than the binary protocol of the later pages.
	args = append(args, r.rs.cfg.BatchSize)
	q += " ORDER BY " + strings.Join(quoted, ", ") + " LIMIT " + d.placeholder(len(args))
	return q, args, nil
}

// page emits the rows of one page as they arrive (never holding the page in
// memory) and advances *last to the key of the last row.
func (r *streamReader) page(ctx context.Context, sc scan, last *[]json.RawMessage) (int, error) {
	keys := sc.keys
	q, args, err := r.pageQuery(sc, *last)
	if err != nil {
		return 0, err
	}
	rows, err := r.s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols := r.rs.cols
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	zeroTimeIsNull := r.s.d.name == driverMySQL
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range cols {
			if c.loc != nil {
				vals[i] = inLocation(vals[i], c.loc)
			}
		}
		key := make([]json.RawMessage, len(keys))
		for i, ci := range sc.idx {
			if vals[ci] == nil {
				return n, fmt.Errorf("a row has NULL in key column %s after key %s; keyset paging needs non-null keys", keys[i], keyString(*last))
			}
			b, err := appendValue(nil, cols[ci].kind, vals[ci], zeroTimeIsNull)
			if err != nil {
				return n, fmt.Errorf("key column %s after key %s: %w", keys[i], keyString(*last), err)
			}
			if string(b) == "null" {
				// A MySQL zero date (null in the record) in a primary key
				// column: the saved key holds MySQL's text for it, which
				// compares as the value itself. A null key could never be
				// read back.
				if b = zeroDateKey(cols[ci].kind); b == nil {
					return n, fmt.Errorf("key column %s after key %s has no value; keyset paging needs one", keys[i], keyString(*last))
				}
			}
			key[i] = b
		}
		*last = key
		n++
		if r.seen != nil && len(key) > 1 {
			if at, ok := cursorTime(key); ok {
				pk := keyString(key[1:])
				if r.seen.Delivered(pk, at.UnixMicro()) {
					continue // delivered in the look-back window, unchanged
				}
				r.seen.Add(pk, at.UnixMicro())
			}
		}
		data, badCol, err := r.encodeRow(vals, zeroTimeIsNull)
		if err != nil {
			if !errors.Is(err, errNotRepresentable) {
				return n, err
			}
			if err := r.out.Reject(ctx, connector.Reject{
				Stream:   r.rs.cfg.Name,
				Location: r.rs.cfg.what() + ", key " + keyString(key),
				Reason:   "column " + badCol + ": " + err.Error(),
			}); err != nil {
				return n, err
			}
			continue
		}
		if err := r.out.Emit(ctx, connector.Record{Stream: r.rs.cfg.Name, Data: data}); err != nil {
			return n, err
		}
	}
	return n, rows.Err()
}

// encodeRow writes a row as a JSON object; on error it names the column.
func (r *streamReader) encodeRow(vals []any, zeroTimeIsNull bool) ([]byte, string, error) {
	buf := make([]byte, 0, 256)
	buf = append(buf, '{')
	for i, c := range r.rs.cols {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		if buf, err = appendJSONString(buf, c.name); err != nil {
			return nil, c.name, err
		}
		buf = append(buf, ':')
		if buf, err = appendValue(buf, c.kind, vals[i], zeroTimeIsNull); err != nil {
			return nil, c.name, err
		}
	}
	return append(buf, '}'), "", nil
}

func keyString(key []json.RawMessage) string {
	if key == nil {
		return "(start)"
	}
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = string(k)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
