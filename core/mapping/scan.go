package mapping

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// The record scanner reads a record's JSON once, validating its syntax,
// and records where the values a plan needs are (spans into the input)
// without building any Go value for the rest. This is what keeps Map
// free of per-record maps and most allocations; see BenchmarkDecode.

// span locates one JSON value in the input; start < 0 means absent.
type span struct{ start, end int }

var absent = span{-1, -1}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 1000

type scanner struct {
	data  []byte
	pos   int
	depth int
	spans []span   // per slot: the last value seen
	lists [][]span // per list slot: every value seen, in order
}

// syntaxError is an invalid-JSON finding; Map reports it as a reject.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("invalid JSON at byte %d: %s", e.pos, e.msg) }

func (s *scanner) fail(msg string) error { return &syntaxError{s.pos, msg} }

// record scans one JSON object and nothing after it but white space.
func (s *scanner) record(root *node) error {
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != '{' {
		return s.fail("a record must be a JSON object")
	}
	if err := s.value(root); err != nil {
		return err
	}
	s.ws()
	if s.pos != len(s.data) {
		return s.fail("data after the record's closing '}'")
	}
	return nil
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		// One comparison for the usual case, a byte that is not white space.
		if c := s.data[s.pos]; c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return
		}
		s.pos++
	}
}

// value scans one value; n is the trie node for it, nil when nothing
// inside it is needed.
func (s *scanner) value(n *node) error {
	s.ws()
	if s.pos >= len(s.data) {
		return s.fail("unexpected end of input")
	}
	start := s.pos
	var err error
	switch c := s.data[s.pos]; {
	case c == '{':
		err = s.object(n)
	case c == '[':
		err = s.array(n)
	case c == '"':
		_, err = s.str()
	case c == 't':
		err = s.literal("true")
	case c == 'f':
		err = s.literal("false")
	case c == 'n':
		err = s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		err = s.number()
	default:
		err = s.fail(fmt.Sprintf("unexpected character %q", c))
	}
	if err != nil {
		return err
	}
	if n != nil && n.slot >= 0 {
		if n.list {
			s.lists[n.slot] = append(s.lists[n.slot], span{start, s.pos})
		} else {
			s.spans[n.slot] = span{start, s.pos}
		}
	}
	return nil
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return s.fail(fmt.Sprintf("nested deeper than %d levels", maxDepth))
	}
	s.pos++
	return nil
}

func (s *scanner) object(n *node) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.depth--
		return nil
	}
	var keyBuf [64]byte
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.fail("expected a member name")
		}
		kstart := s.pos
		escaped, err := s.str()
		if err != nil {
			return err
		}
		var child *node
		if n != nil && n.keys != nil {
			key := s.data[kstart+1 : s.pos-1]
			if escaped {
				key = unescape(keyBuf[:0], key)
			}
			child = n.child(key)
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.fail("expected ':' after a member name")
		}
		s.pos++
		if err := s.value(child); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end of input in an object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or '}' in an object")
		}
	}
}

func (s *scanner) array(n *node) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.depth--
		return nil
	}
	for i := 0; ; i++ {
		var child *node
		if n != nil {
			if child = n.at(i); child == nil {
				child = n.each
			} else if n.each != nil {
				// Both "a.0.x" and "a[].y" read this element: scan it once
				// for each, which is rare and keeps the trie simple.
				save := s.pos
				if err := s.value(n.each); err != nil {
					return err
				}
				s.pos = save
			}
		}
		if err := s.value(child); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end of input in an array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or ']' in an array")
		}
	}
}

// str scans a string and reports whether it holds escapes.
func (s *scanner) str() (escaped bool, err error) {
	s.pos++ // the opening quote
	for s.pos < len(s.data) {
		// Skip plain bytes eight at a time while there are eight, in
		// locals the compiler keeps in registers; the byte loop then only
		// sees the last few bytes of the input.
		d, i := s.data, s.pos
		for i+8 <= len(d) {
			if m := specialMask(binary.LittleEndian.Uint64(d[i:])); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		for i < len(d) && plainByte[d[i]] {
			i++
		}
		s.pos = i
		if s.pos == len(s.data) {
			break
		}
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return escaped, nil
		case c == '\\':
			escaped = true
			if s.pos+1 >= len(s.data) {
				return false, s.fail("unexpected end of input in a string")
			}
			switch s.data[s.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos += 2
			case 'u':
				if s.pos+6 > len(s.data) || !isHex4(s.data[s.pos+2:s.pos+6]) {
					return false, s.fail(`"\u" must be followed by four hex digits`)
				}
				s.pos += 6
			default:
				return false, s.fail(fmt.Sprintf("invalid escape %q in a string", s.data[s.pos:s.pos+2]))
			}
		case c < 0x20:
			return false, s.fail("control character in a string")
		default:
			s.pos++
		}
	}
	return false, s.fail("unexpected end of input in a string")
}

// plainByte marks the bytes a string holds without any special meaning.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// specialMask marks the bytes of w (eight bytes of input, little-endian)
// that are not plain: a quote, a backslash or a control character. Each
// term is the classic "has a zero byte" test; it may also mark bytes after
// the first hit, but its lowest mark is exactly the first hit, which is
// all str needs.
func specialMask(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := w ^ ('"' * ones)
	b := w ^ ('\\' * ones)
	return ((q-ones)&^q | (b-ones)&^b | (w-0x20*ones)&^w) & highs
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (s *scanner) literal(want string) error {
	if len(s.data)-s.pos < len(want) || string(s.data[s.pos:s.pos+len(want)]) != want {
		return s.fail("invalid literal (want true, false or null)")
	}
	s.pos += len(want)
	return nil
}

// number scans a number as the JSON grammar defines it.
func (s *scanner) number() error {
	d := s.data
	if d[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(d) && d[s.pos] == '0':
		s.pos++
	case s.pos < len(d) && d[s.pos] >= '1' && d[s.pos] <= '9':
		s.digits()
	default:
		return s.fail("invalid number")
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return s.fail("invalid number: no digit after '.'")
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return s.fail("invalid number: no digit in the exponent")
		}
	}
	return nil
}

func (s *scanner) digits() int {
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos - start
}

// elements returns the spans of an array's elements; raw was validated by
// a scan already.
func elements(raw []byte, out []span) ([]span, error) {
	s := scanner{data: raw}
	s.pos = 1
	s.ws()
	if s.pos < len(raw) && raw[s.pos] == ']' {
		return out, nil
	}
	for {
		s.ws()
		start := s.pos
		if err := s.value(nil); err != nil {
			return out, err
		}
		out = append(out, span{start, s.pos})
		s.ws()
		if s.pos >= len(raw) {
			return out, errors.New("unterminated array")
		}
		if raw[s.pos] == ']' {
			return out, nil
		}
		s.pos++ // ','
	}
}
