package mapping

import (
	"bytes"
)

// state is the scratch space of one Map call. Plans keep states in a
// sync.Pool, so in steady state a record is mapped without allocating
// anything but the row's own values.
type state struct {
	sc    scanner
	buf   []byte  // text built for the record; append-only until reset
	vals  []value // list and concat elements
	elems []span
	tmp   []span

	// The row's strings are gathered in out and become one Go string when
	// the row is finished: one allocation for all of them.
	out   []byte
	pend  []pending
	pendL []pendingItem

	source    string
	sourceBox any // source as an interface value, boxed once per state
}

func newState(slots int) *state {
	return &state{sc: scanner{spans: make([]span, slots), lists: make([][]span, slots)}}
}

func (st *state) reset(data []byte) {
	st.sc.data, st.sc.pos, st.sc.depth = data, 0, 0
	for i := range st.sc.spans {
		st.sc.spans[i] = absent
		st.sc.lists[i] = st.sc.lists[i][:0]
	}
	st.buf, st.vals, st.elems, st.tmp, st.out = st.buf[:0], st.vals[:0], st.elems[:0], st.tmp[:0], st.out[:0]
	st.pend, st.pendL = st.pend[:0], st.pendL[:0] // release cleared pendL
}

// pending is a string of the row waiting for finish, and pendingItem an
// element of a list in the row. They are apart so that the commoner kind
// holds no pointer: appending it costs no GC write barrier.
type pending struct {
	row int
	span
}

type pendingItem struct {
	list []string
	elem int
	span
}

func (st *state) reserve(text []byte) span {
	start := len(st.out)
	st.out = append(st.out, text...)
	return span{start, len(st.out)}
}

// finish puts the reserved strings into the row. They share one backing
// array, so a string kept from a row keeps the row's text alive (a few
// hundred bytes), which is cheaper than an allocation per value.
func (st *state) finish(row []any) {
	if len(st.pend) == 0 && len(st.pendL) == 0 {
		return
	}
	all := string(st.out)
	for _, p := range st.pend {
		row[p.row] = all[p.start:p.end]
	}
	for _, p := range st.pendL {
		p.list[p.elem] = all[p.start:p.end]
	}
}

// release drops references to the record so a pooled state does not keep
// it alive.
func (st *state) release() {
	st.sc.data = nil
	clear(st.pendL)
}

func (st *state) boxSource(source string) any {
	if st.sourceBox == nil || st.source != source {
		st.source, st.sourceBox = source, source
	}
	return st.sourceBox
}

// commit returns what was appended to st.buf to make b, and keeps b as
// st.buf. Text handed out is never written again while the record is
// mapped; appending past it (or to a new array) leaves it intact.
func (st *state) commit(b []byte) []byte {
	out := b[len(st.buf):len(b):len(b)]
	st.buf = b
	return out
}

func (st *state) fromSpan(sp span) value {
	if sp.start < 0 {
		return value{}
	}
	return st.fromRaw(st.sc.data[sp.start:sp.end])
}

// fromRaw reads a JSON value the scanner has validated.
func (st *state) fromRaw(raw []byte) value {
	switch raw[0] {
	case '"':
		s := raw[1 : len(raw)-1]
		if len(s) == 0 {
			return value{}
		}
		if !plain(s) {
			s = st.commit(unescape(st.buf, s))
		}
		return value{kind: kString, text: s}
	case 'n':
		return value{}
	case 't':
		return value{kind: kBool, b: true}
	case 'f':
		return value{kind: kBool}
	case '{':
		return value{kind: kObject, text: raw}
	case '[':
		return value{kind: kArray, text: raw}
	}
	return value{kind: kNumber, text: raw}
}

// steps applies an expression's trim, lower, values and type, in that
// order. Values are looked up by the text after trim and lower; a value
// translated to "" becomes empty.
func (st *state) steps(x *expr, v value) (value, error) {
	if v.kind != kEmpty && (x.trim || x.lower || x.values != nil) {
		t, err := st.text(v)
		if err != nil {
			return value{}, err
		}
		k := kString
		if v.kind == kNumber {
			k = kNumber
		}
		if x.trim {
			t = bytes.TrimSpace(t)
		}
		if x.lower {
			t, st.buf = lower(st.buf, t)
		}
		if r, ok := x.values[string(t)]; ok {
			t, k = r, kString
		}
		v = value{kind: k, text: t}
		if len(t) == 0 {
			v = value{}
		}
	}
	if x.conv.conv == cNone {
		return v, nil
	}
	return st.convert(&x.conv, v)
}
