package identity

import (
	"encoding/binary"
	"errors"
	"math"
	"unsafe"
)

// values keeps the index's normalized values, each a flag byte, a uvarint
// length and the bytes, in chunks that never move or grow: a single
// buffer doubling as it fills would hold both copies for a moment, about
// the size of all values at once. Offsets address the chunks as one
// space of valueChunk-byte pages; a value never crosses a page, so a
// page may end unused. Unlike core/arena's 64-bit references, offsets
// are 32 bits, which keeps an index entry at 16 bytes, and a value's
// substrings (the part after a ref value's source) are addressed by
// offset too.
type values struct {
	chunks [][]byte
}

const valueChunk = 1 << 20

var errValueTooLong = errors.New("identity: a key value longer than 1 MiB")

// add stores a value with its flag and returns its offset.
func (v *values) add(flag byte, b []byte) (uint32, error) {
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = flag
	h := 1 + binary.PutUvarint(hdr[1:], uint64(len(b)))
	size := h + len(b)
	if size > valueChunk {
		return 0, errValueTooLong
	}
	last := len(v.chunks) - 1
	if last < 0 || len(v.chunks[last])+size > valueChunk {
		if uint64(len(v.chunks)+1)*valueChunk > math.MaxUint32+1 {
			return 0, errors.New("identity: key values exceed 4 GiB")
		}
		v.chunks = append(v.chunks, make([]byte, 0, valueChunk))
		last++
	}
	c := v.chunks[last]
	off := uint32(last)*valueChunk + uint32(len(c))
	v.chunks[last] = append(append(c, hdr[:h]...), b...)
	return off, nil
}

// span is where the value at off is, and its flag.
func (v *values) span(off uint32) (start, end uint32, flag byte) {
	c := v.chunks[off/valueChunk]
	i := int(off % valueChunk)
	flag = c[i]
	n, w := binary.Uvarint(c[i+1:])
	start = off + 1 + uint32(w)
	return start, start + uint32(n), flag
}

// value reads the value stored at off.
func (v *values) value(off uint32) (string, byte) {
	start, end, flag := v.span(off)
	return v.slice(start, end), flag
}

// slice returns the bytes from start to end, which must lie in one
// value; the string shares the chunk's memory.
func (v *values) slice(start, end uint32) string {
	if end == start {
		return ""
	}
	c := v.chunks[start/valueChunk]
	return unsafe.String(&c[start%valueChunk], int(end-start))
}
