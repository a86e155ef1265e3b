package sql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
}

func (r *streamReader) read(ctx context.Context) error {
	sc := r.rs.cfg
	log := connector.Log(ctx).With("stream", sc.Name)
	keys := sc.keyColumns()
	last, err := r.start(ctx, keys)
	if err != nil {
		return err
	}
	if sc.CursorField != "" {
		r.warnNullCursor(ctx)
	}
	total := 0
	for {
		n, err := r.page(ctx, keys, &last)
		if err != nil {
			return fmt.Errorf("stream %s (%s): %w", sc.Name, sc.what(), err)
		}
		total += n
		if n > 0 {
			r.st.Streams[sc.Name] = &streamState{Keys: keys, Last: last}
			if err := r.checkpoint(ctx); err != nil {
				return err
			}
		}
		if n < sc.BatchSize {
			break
		}
	}
	if sc.CursorField == "" && r.st.Streams[sc.Name] != nil {
		// The full read is complete: the next one starts from the beginning.
		delete(r.st.Streams, sc.Name)
		if err := r.checkpoint(ctx); err != nil {
			return err
		}
	}
	log.Info("sql: stream read", "rows", total)
	return nil
}

// start returns the saved position of the stream, or nil to start from
// the beginning.
func (r *streamReader) start(ctx context.Context, keys []string) ([]json.RawMessage, error) {
	ss := r.st.Streams[r.rs.cfg.Name]
	if ss == nil {
		return nil, nil
	}
	if !slices.Equal(ss.Keys, keys) {
		connector.Log(ctx).Warn("sql: the stream's cursor_field or primary_key changed since the saved state; reading it from the beginning",
			"stream", r.rs.cfg.Name, "saved", strings.Join(ss.Keys, ","), "now", strings.Join(keys, ","))
		return nil, nil
	}
	return ss.Last, nil
}

// warnNullCursor logs when rows exist whose cursor is NULL: keyset paging
// cannot place them, so they are not read.
func (r *streamReader) warnNullCursor(ctx context.Context) {
	c := r.rs.cols[r.rs.keyIdx[0]]
	if !c.nullable {
		return
	}
	q := "SELECT 1 FROM " + r.s.from(r.rs.cfg) + " WHERE " + r.s.d.quoteColumn(c.name) + " IS NULL LIMIT 1"
	var one int
	if err := r.s.db.QueryRowContext(ctx, q).Scan(&one); err == nil {
		connector.Log(ctx).Warn("sql: rows whose cursor_field is NULL are not read; give them a value or choose a non-null cursor",
			"stream", r.rs.cfg.Name, "cursor_field", c.name)
	}
}

func (r *streamReader) checkpoint(ctx context.Context) error {
	b, err := json.Marshal(r.st)
	if err != nil {
		return err
	}
	return r.out.Checkpoint(ctx, b)
}

// pageQuery builds the keyset query of the page after last (nil: the first
// page): WHERE (k1, k2, ...) > (p1, p2, ...) ORDER BY k1, k2, ... LIMIT n.
// Row-value comparison orders ties on the cursor by the primary key, so
// rows sharing the last cursor value are neither skipped nor repeated.
func (r *streamReader) pageQuery(keys []string, last []json.RawMessage) (string, []any, error) {
	d := r.s.d
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = "desilo_t." + d.quoteColumn(k)
	}
	var where []string
	if r.rs.cfg.CursorField != "" {
		where = append(where, quoted[0]+" IS NOT NULL")
	}
	var args []any
	if last != nil {
		ph := make([]string, len(keys))
		for i := range keys {
			arg, err := keyArg(r.rs.cols[r.rs.keyIdx[i]].kind, last[i])
			if err != nil {
				return "", nil, fmt.Errorf("saved state, column %s: %w", keys[i], err)
			}
			args = append(args, arg)
			ph[i] = d.placeholder(i + 1)
		}
		where = append(where, "("+strings.Join(quoted, ", ")+") > ("+strings.Join(ph, ", ")+")")
	}
	q := "SELECT * FROM " + r.s.from(r.rs.cfg)
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + strings.Join(quoted, ", ") + " LIMIT " + strconv.Itoa(r.rs.cfg.BatchSize)
	return q, args, nil
}

// page emits the rows of one page as they arrive (never holding the page in
// memory) and advances *last to the key of the last row.
func (r *streamReader) page(ctx context.Context, keys []string, last *[]json.RawMessage) (int, error) {
	q, args, err := r.pageQuery(keys, *last)
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
		key := make([]json.RawMessage, len(keys))
		for i, ci := range r.rs.keyIdx {
			if vals[ci] == nil {
				return n, fmt.Errorf("a row has NULL in key column %s after key %s; keyset paging needs non-null keys", keys[i], keyString(*last))
			}
			b, err := appendValue(nil, cols[ci].kind, vals[ci], zeroTimeIsNull)
			if err != nil {
				return n, fmt.Errorf("key column %s after key %s: %w", keys[i], keyString(*last), err)
			}
			key[i] = b
		}
		*last = key
		n++
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
