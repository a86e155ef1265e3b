package files

import (
	"bytes"
	"unicode/utf8"
)

// This file is the fast path for JSON records: one pass over a record's
// text that checks it, drops insignificant whitespace and finds its
// top-level members, without decoding it into maps. It accepts only what
// encoding/json accepts; whatever it does not accept goes to the
// encoding/json path, which decides and says why.

// maxFastDepth bounds nesting on the fast path; deeper records go to
// encoding/json, which has its own limit.
const maxFastDepth = 1000

// member is one top-level field of a record, as slices of its data.
type member struct {
	key     []byte // the name as written between the quotes
	escaped bool   // the name holds escapes, so key is not the name
	value   []byte // the value as JSON
}

// span is a member while the record is being written: offsets into dst,
// which may still move.
type span struct {
	keyStart, keyEnd, valStart int
	escaped                    bool
}

type scanner struct {
	src   []byte
	i     int
	dst   []byte
	spans []span
	depth int
}

// objectScanner checks and compacts records, reusing its memory from
// record to record.
type objectScanner struct {
	spans   []span
	members []member
	buf     []byte // parseObject's record buffer
}

// compact appends src, one JSON object between optional spaces, to dst
// without insignificant whitespace, and returns its members, valid until
// the next call. ok is false when src is anything else or beyond the fast
// path (invalid UTF-8, deep nesting). Strings are copied as written: no
// escape is added or removed, as json.Compact does.
func (o *objectScanner) compact(dst, src []byte) (_ []byte, _ []member, ok bool) {
	if !utf8.Valid(src) {
		return dst, nil, false
	}
	s := scanner{src: src, dst: dst, spans: o.spans[:0]}
	defer func() { o.spans = s.spans }()
	s.skipSpace()
	if s.i >= len(src) || src[s.i] != '{' {
		return dst, nil, false
	}
	if !s.object(true) {
		return dst, nil, false
	}
	if s.skipSpace(); s.i != len(src) {
		return dst, nil, false
	}
	ms := o.members[:0]
	for k, sp := range s.spans {
		end := len(s.dst) - 1 // before the closing brace
		if k+1 < len(s.spans) {
			end = s.spans[k+1].keyStart - 2 // before the comma and the quote
		}
		ms = append(ms, member{key: s.dst[sp.keyStart:sp.keyEnd], escaped: sp.escaped, value: s.dst[sp.valStart:end]})
	}
	o.members = ms
	return s.dst, ms, true
}

func (s *scanner) skipSpace() {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// value copies the value at s.i, after optional spaces.
func (s *scanner) value() bool {
	s.skipSpace()
	if s.i >= len(s.src) {
		return false
	}
	switch c := s.src[s.i]; {
	case c == '{':
		return s.object(false)
	case c == '[':
		return s.array()
	case c == '"':
		_, ok := s.str()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

// object copies the object at s.i; top records its members' spans.
func (s *scanner) object(top bool) bool {
	if s.depth++; s.depth > maxFastDepth {
		return false
	}
	s.dst = append(s.dst, '{')
	s.i++
	s.skipSpace()
	if s.i < len(s.src) && s.src[s.i] == '}' {
		s.dst = append(s.dst, '}')
		s.i++
		s.depth--
		return true
	}
	for {
		s.skipSpace()
		if s.i >= len(s.src) || s.src[s.i] != '"' {
			return false
		}
		keyStart := len(s.dst) + 1
		escaped, ok := s.str()
		if !ok {
			return false
		}
		keyEnd := len(s.dst) - 1
		s.skipSpace()
		if s.i >= len(s.src) || s.src[s.i] != ':' {
			return false
		}
		s.dst = append(s.dst, ':')
		s.i++
		if top {
			s.spans = append(s.spans, span{keyStart: keyStart, keyEnd: keyEnd, valStart: len(s.dst), escaped: escaped})
		}
		if !s.value() {
			return false
		}
		s.skipSpace()
		if s.i >= len(s.src) {
			return false
		}
		switch s.src[s.i] {
		case ',':
			s.dst = append(s.dst, ',')
			s.i++
		case '}':
			s.dst = append(s.dst, '}')
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

func (s *scanner) array() bool {
	if s.depth++; s.depth > maxFastDepth {
		return false
	}
	s.dst = append(s.dst, '[')
	s.i++
	s.skipSpace()
	if s.i < len(s.src) && s.src[s.i] == ']' {
		s.dst = append(s.dst, ']')
		s.i++
		s.depth--
		return true
	}
	for {
		if !s.value() {
			return false
		}
		s.skipSpace()
		if s.i >= len(s.src) {
			return false
		}
		switch s.src[s.i] {
		case ',':
			s.dst = append(s.dst, ',')
			s.i++
		case ']':
			s.dst = append(s.dst, ']')
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// str copies the string literal at s.i and says whether it holds escapes.
func (s *scanner) str() (escaped, ok bool) {
	src := s.src
	j := s.i + 1
	for j < len(src) {
		for j < len(src) && plain[src[j]] {
			j++
		}
		if j == len(src) {
			break
		}
		switch c := src[j]; {
		case c == '"':
			s.dst = append(s.dst, src[s.i:j+1]...)
			s.i = j + 1
			return escaped, true
		case c == '\\':
			escaped = true
			if j+1 >= len(src) {
				return false, false
			}
			switch src[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(src) || !isHex(src[j+2]) || !isHex(src[j+3]) || !isHex(src[j+4]) || !isHex(src[j+5]) {
					return false, false
				}
				j += 6
			default:
				return false, false
			}
		default: // a control character
			return false, false
		}
	}
	return false, false
}

// plain marks the bytes a string literal holds as they are: neither a
// quote, a backslash nor a control character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func (s *scanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.src[s.i:], []byte(lit)) {
		return false
	}
	s.dst = append(s.dst, lit...)
	s.i += len(lit)
	return true
}

// number copies the number at s.i: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	src, j := s.src, s.i
	if src[j] == '-' {
		j++
	}
	switch {
	case j < len(src) && src[j] == '0':
		j++
	case j < len(src) && '1' <= src[j] && src[j] <= '9':
		j = digits(src, j)
	default:
		return false
	}
	if j < len(src) && src[j] == '.' {
		k := digits(src, j+1)
		if k == j+1 {
			return false
		}
		j = k
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		j++
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		k := digits(src, j)
		if k == j {
			return false
		}
		j = k
	}
	s.dst = append(s.dst, src[s.i:j]...)
	s.i = j
	return true
}

// digits returns the end of the run of digits at j.
func digits(b []byte, j int) int {
	for j < len(b) && '0' <= b[j] && b[j] <= '9' {
		j++
	}
	return j
}

// jsonKind is the JSON type of a value, as a bit so that schemas can
// allow several.
type jsonKind uint8

const (
	kindNull jsonKind = 1 << iota
	kindBoolean
	kindNumber
	kindString
	kindArray
	kindObject

	kindAny = kindNull | kindBoolean | kindNumber | kindString | kindArray | kindObject
)

// kindOf is the type of a valid JSON value from its first byte.
func kindOf(v []byte) jsonKind {
	switch v[0] {
	case 'n':
		return kindNull
	case 't', 'f':
		return kindBoolean
	case '"':
		return kindString
	case '[':
		return kindArray
	case '{':
		return kindObject
	default:
		return kindNumber
	}
}
