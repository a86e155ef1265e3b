package files

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
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
	// Cursor is the highest cursor value of a completed read and the keys
	// of the rows delivered with it: rows of changed files below it, or at
	// it with one of these keys, are not emitted again.
	Cursor *cursorMark `json:"cursor,omitempty"`
	// Next is the highest cursor value of a read in progress. It becomes
	// Cursor once every file of the stream is read, so that resuming an
	// interrupted read filters the remaining files as the whole read
	// would have.
	Next *cursorMark `json:"next,omitempty"`
}

type fileStamp struct {
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
}

func (a fileStamp) same(b fileStamp) bool { return a.Size == b.Size && a.ModTime.Equal(b.ModTime) }

type cursorMark struct {
	Value json.RawMessage `json:"value"`
	Keys  []string        `json:"keys"`
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

// mark is a cursorMark in memory: the highest cursor value seen and the
// primary keys of the rows that carried it.
type mark struct {
	value any
	keys  map[string]bool
}

func decodeMark(m *cursorMark) (*mark, error) {
	if m == nil {
		return nil, nil
	}
	v, err := decodeJSON(m.Value)
	if err != nil {
		return nil, fmt.Errorf("files: saved state: cursor value: %w", err)
	}
	out := &mark{value: v, keys: make(map[string]bool, len(m.Keys))}
	for _, k := range m.Keys {
		out.keys[k] = true
	}
	return out, nil
}

func (m *mark) encode() *cursorMark {
	if m == nil {
		return nil
	}
	v, _ := json.Marshal(m.value) // a decoded JSON value always marshals
	return &cursorMark{Value: v, Keys: slices.Sorted(maps.Keys(m.keys))}
}

func (m *mark) clone() *mark {
	if m == nil {
		return nil
	}
	return &mark{value: m.value, keys: maps.Clone(m.keys)}
}

// delivered reports whether a row with cursor value v and key was
// delivered by the read that left m.
func (m *mark) delivered(v any, key string) bool {
	if m == nil {
		return false
	}
	c := compareCursor(v, m.value)
	return c < 0 || c == 0 && m.keys[key]
}

// observe raises m to include a row emitted with cursor value v.
func (m *mark) observe(v any, key string) *mark {
	if m == nil {
		return &mark{value: v, keys: map[string]bool{key: true}}
	}
	switch c := compareCursor(v, m.value); {
	case c > 0:
		m.value = v
		clear(m.keys) // m owns its keys: clone copies them
		m.keys[key] = true
	case c == 0:
		m.keys[key] = true
	}
	return m
}

// compareCursor orders cursor values: numerically when both are numbers
// (or strings holding numbers), otherwise as text, which orders ISO 8601
// timestamps of one layout and time zone correctly.
func compareCursor(a, b any) int {
	af, aok := asNumber(a)
	bf, bok := asNumber(b)
	if aok && bok {
		return cmp.Compare(af, bf)
	}
	return strings.Compare(asText(a), asText(b))
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
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
