// Package arena keeps many strings in large pointer-free chunks.
//
// A build holds millions of short strings (record keys, staged values)
// for its whole length. As Go strings each is a pointer the garbage
// collector follows on every cycle; in an Arena they are bytes in 1 MiB
// chunks, referred to by a uint64 the collector never looks at.
package arena

import (
	"strings"
	"unsafe"
)

// Arena keeps string bytes in chunks that never move, so strings made
// over them stay valid as long as the Arena. A reference packs the chunk
// (24 bits), the offset in it (20 bits) and the length (20 bits); strings
// of a chunk's size or longer are kept whole on the side. The zero value
// is empty and ready; reference 0 is the empty string. Reads may run
// concurrently with each other, not with Add.
type Arena struct {
	chunks [][]byte
	big    []string
}

const (
	chunkBits = 20
	chunkSize = 1 << chunkBits
	lenMask   = chunkSize - 1
	bigLen    = lenMask // length field of a reference to a big string
)

// Add stores a copy of s and returns its reference.
func (a *Arena) Add(s string) uint64 {
	if len(s) >= bigLen {
		a.big = append(a.big, strings.Clone(s))
		return uint64(len(a.big)-1)<<chunkBits | bigLen
	}
	if len(s) == 0 {
		return 0
	}
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])+len(s) > chunkSize {
		a.chunks = append(a.chunks, make([]byte, 0, chunkSize))
		last++
	}
	c := a.chunks[last]
	off := len(c)
	a.chunks[last] = append(c, s...)
	return uint64(last)<<(2*chunkBits) | uint64(off)<<chunkBits | uint64(len(s))
}

// AddBytes stores a copy of b and returns its reference.
func (a *Arena) AddBytes(b []byte) uint64 {
	if len(b) >= bigLen {
		return a.Add(string(b))
	}
	return a.Add(unsafe.String(unsafe.SliceData(b), len(b))) // Add copies short strings
}

// Get returns the string of a reference Add returned; it shares the
// Arena's memory.
func (a *Arena) Get(ref uint64) string {
	n := int(ref & lenMask)
	if n == bigLen {
		return a.big[ref>>chunkBits]
	}
	if n == 0 {
		return ""
	}
	off := int(ref>>chunkBits) & lenMask
	c := a.chunks[ref>>(2*chunkBits)]
	return unsafe.String(&c[off], n)
}

// Bytes is the memory the Arena holds.
func (a *Arena) Bytes() int64 {
	n := int64(len(a.chunks)) * chunkSize
	for _, s := range a.big {
		n += int64(len(s))
	}
	return n
}

// Len is the number of bytes stored, big strings included.
func (a *Arena) Len() int64 {
	var n int64
	for _, c := range a.chunks {
		n += int64(len(c))
	}
	for _, s := range a.big {
		n += int64(len(s))
	}
	return n
}
