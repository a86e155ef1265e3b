package rowset

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"github.com/desilo/desilo/core/model"
)

// Rows as bytes, for a build that spills its staged rows to disk and
// reads back only the rows it needs at a time. The encoding is private
// to one process: both sides must hold the same model table.
//
// A row is a bitmap of its non-null columns, (columns+7)/8 bytes, then
// each non-null column's value in column order: a String as its uvarint
// length and bytes, any other scalar as its word (see PutWord) in eight
// little-endian bytes, a list as its uvarint item count and each item
// like a scalar.

// AppendEncoded appends the encoding of row i to dst.
func (s *Set) AppendEncoded(dst []byte, i int) []byte {
	at := len(dst)
	for range (len(s.cols) + 7) / 8 {
		dst = append(dst, 0)
	}
	for j := range s.cols {
		c := &s.cols[j]
		if c.isNull(i) {
			continue
		}
		dst[at+j/8] |= 1 << (j % 8)
		if !c.list {
			dst = s.appendWord(dst, c, c.word(i))
			continue
		}
		items := c.items[c.itemsEnd(i):c.ends[i]]
		dst = binary.AppendUvarint(dst, uint64(len(items)))
		for _, w := range items {
			dst = s.appendWord(dst, c, w)
		}
	}
	return dst
}

func (s *Set) appendWord(dst []byte, c *column, w uint64) []byte {
	if c.typ == model.String {
		x := s.text.Get(w)
		dst = binary.AppendUvarint(dst, uint64(len(x)))
		return append(dst, x...)
	}
	return binary.LittleEndian.AppendUint64(dst, w)
}

var errShort = errors.New("rowset: encoded row is cut short")

// DecodeRow appends the row encoded in b (by AppendEncoded of a set of
// the same table) and returns how many bytes of b it read.
func (s *Set) DecodeRow(b []byte) (int, error) {
	nb := (len(s.cols) + 7) / 8
	if len(b) < nb {
		return 0, errShort
	}
	bits, off := b[:nb], nb
	if extra := len(s.cols) % 8; extra != 0 && bits[nb-1]>>extra != 0 {
		return 0, fmt.Errorf("rowset %s: encoded row has more than %d columns", s.table.Name, len(s.cols))
	}
	i := s.n
	rows := max(s.reserve, i+1)
	if rows == i+1 {
		rows = 2*i + 64 // no reservation: grow geometrically
	}
	// Columns are filled in order; on an error the row is rolled back.
	fail := func(j int, err error) (int, error) {
		for k := range j + 1 {
			s.cols[k].truncate(i)
		}
		return 0, fmt.Errorf("rowset %s: column %s: %w", s.table.Name, s.table.Columns[j].Name, err)
	}
	for j := range s.cols {
		c := &s.cols[j]
		if bits[j/8]&(1<<(j%8)) == 0 {
			if c.valid != nil {
				c.grow(i, rows)
			}
			continue
		}
		if !c.list {
			w, n, err := s.readWord(b[off:], c)
			if err != nil {
				return fail(j, err)
			}
			off += n
			s.set(c, i, w, rows)
			continue
		}
		count, n := binary.Uvarint(b[off:])
		if n <= 0 || count > uint64(len(b)) {
			return fail(j, errShort)
		}
		off += n
		c.grow(i, rows)
		for range count {
			w, n, err := s.readWord(b[off:], c)
			if err != nil {
				return fail(j, err)
			}
			off += n
			c.items = append(c.items, w)
		}
		if len(c.items) > 1<<32-1 {
			return fail(j, errors.New("more than 2^32-1 list items"))
		}
		c.ends[i] = uint32(len(c.items))
		setBit(c.valid, i)
	}
	s.n++
	return off, nil
}

// readWord reads one encoded value of column c from b; a String is
// copied into the set's text.
func (s *Set) readWord(b []byte, c *column) (uint64, int, error) {
	if c.typ != model.String {
		if len(b) < 8 {
			return 0, 0, errShort
		}
		return binary.LittleEndian.Uint64(b), 8, nil
	}
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return 0, 0, errShort
	}
	x := b[n : n+int(l)]
	if c.list {
		return s.text.AddBytes(x), n + int(l), nil
	}
	return s.putText(c, unsafe.String(unsafe.SliceData(x), len(x))), n + int(l), nil // putText copies
}
