package files

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// state is the connector's checkpoint: per stream, what has been read.
type state struct {
	Streams map[string]*streamState `json:"streams"`
}

type streamState struct {
	// Files are the files read, as last seen; an unchanged file is
	// skipped. Files that no longer match are dropped.
	Files map[string]fileStamp `json:"files"`
	// Cursor is the highest cursor value of a completed read: rows below
	// it in files not read before are not emitted (see filter).
	Cursor *cursorMark `json:"cursor,omitempty"`
	// Next is the highest cursor value of a read in progress. It becomes
	// Cursor once every file of the stream is read, so that resuming an
	// interrupted read filters the remaining files as the whole read
	// would have.
	Next *cursorMark `json:"next,omitempty"`
}

// fileStamp is how a file looked when it was read. Size and modification
// time alone miss a rewrite that keeps both (cp -p, rsync -t, tar x,
// touch -r), so the inode and the change time, which no tool sets, are
// compared too where the system gives them.
type fileStamp struct {
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	Inode   uint64    `json:"inode,omitempty"`
	Change  int64     `json:"ctime_ns,omitempty"`
	// Cursor is the highest cursor value read from the file: its rows
	// below it are not emitted when the file changes.
	Cursor json.RawMessage `json:"cursor,omitempty"`
}

// same says whether a file is unchanged. A stamp saved before the inode
// and change time were kept compares by size and time alone.
func (a fileStamp) same(b fileStamp) bool {
	return a.Size == b.Size && a.ModTime.Equal(b.ModTime) &&
		(a.Inode == 0 || a.Inode == b.Inode) && (a.Change == 0 || a.Change == b.Change)
}

type cursorMark struct {
	Value json.RawMessage `json:"value"`
	// Keys were the keys delivered at Value, which older versions skipped;
	// rows at Value are now emitted again, so they are no longer kept.
	Keys []string `json:"keys,omitempty"`
}

func parseState(raw json.RawMessage) (*state, error) {
	st := &state{Streams: map[string]*streamState{}}
	if len(raw) == 0 || string(raw) == "null" {
		return st, nil
	}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("files: saved state: %w", err)
	}
	if st.Streams == nil {
		st.Streams = map[string]*streamState{}
	}
	return st, nil
}

// mark is a cursorMark in memory: the highest cursor value seen.
type mark struct {
	value any
}

func decodeMark(m *cursorMark) (*mark, error) {
	if m == nil {
		return nil, nil
	}
	return decodeValueMark(m.Value)
}

func decodeValueMark(raw json.RawMessage) (*mark, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("files: saved state: cursor value: %w", err)
	}
	return &mark{value: v}, nil
}

func (m *mark) raw() json.RawMessage {
	if m == nil {
		return nil
	}
	v, _ := json.Marshal(m.value) // a decoded JSON value always marshals
	return v
}

func (m *mark) encode() *cursorMark {
	if m == nil {
		return nil
	}
	return &cursorMark{Value: m.raw()}
}

func (m *mark) clone() *mark {
	if m == nil {
		return nil
	}
	return &mark{value: m.value}
}

// delivered reports whether a row with cursor value v was delivered by
// the read that left m. A row at m's value is not: it may be a change
// that kept its cursor value (a date cursor, a row cut short while its
// file was being written), and staging keeps one version per key.
func (m *mark) delivered(v any) bool {
	return m != nil && compareCursor(v, m.value) < 0
}

// observe raises m to include a row emitted with cursor value v.
func (m *mark) observe(v any) *mark {
	if m == nil {
		return &mark{value: v}
	}
	if compareCursor(v, m.value) > 0 {
		m.value = v
	}
	return m
}

// compareCursor orders cursor values: as numbers when both are numbers
// (or strings holding numbers), integers exactly however long; as
// instants when both are RFC 3339 timestamps, whatever their offsets and
// fractions of a second; otherwise as text.
func compareCursor(a, b any) int {
	as, bs := asText(a), asText(b)
	if isInteger(as) && isInteger(bs) {
		return compareIntegers(as, bs)
	}
	af, aok := asNumber(a)
	bf, bok := asNumber(b)
	if aok && bok {
		return cmp.Compare(af, bf)
	}
	if at, err := time.Parse(time.RFC3339Nano, as); err == nil {
		if bt, err := time.Parse(time.RFC3339Nano, bs); err == nil {
			return at.Compare(bt)
		}
	}
	return strings.Compare(as, bs)
}

// isInteger says whether s is an optional minus and decimal digits.
func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// compareIntegers compares two isInteger strings by value.
func compareIntegers(a, b string) int {
	an, bn := strings.HasPrefix(a, "-"), strings.HasPrefix(b, "-")
	if an != bn {
		if an {
			return -1
		}
		return 1
	}
	a, b = strings.TrimLeft(strings.TrimPrefix(a, "-"), "0"), strings.TrimLeft(strings.TrimPrefix(b, "-"), "0")
	c := cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
	if an {
		return -c
	}
	return c
}

func asNumber(v any) (float64, bool) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return 0, false
	}
	if !mayBeFloat(s) {
		return 0, false // spare ParseFloat, whose errors allocate
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// mayBeFloat is false for strings strconv.ParseFloat surely rejects, such
// as timestamps: a byte no float syntax uses, or a sign that neither
// starts the string nor follows an exponent's letter.
func mayBeFloat(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9', c == '.', c == '_':
		case c == '+' || c == '-':
			if i > 0 && s[i-1]|0x20 != 'e' && s[i-1]|0x20 != 'p' {
				return false
			}
		default: // hexadecimal digits, 0x, p exponents, inf, infinity, nan
			switch c | 0x20 {
			case 'a', 'b', 'c', 'd', 'e', 'f', 'i', 'n', 'p', 't', 'x', 'y':
			default:
				return false
			}
		}
	}
	return true
}

func asText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}
