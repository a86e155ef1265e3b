package mapping

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// The word-at-a-time checks must agree with their byte-by-byte
// definitions on every input.

// firstSpecial is the index of b's first byte that is not plain, or 8.
func firstSpecial(b []byte) int {
	for i, c := range b {
		if !plainByte[c] {
			return i
		}
	}
	return 8
}

// specialAt says where specialMask finds the first byte that is not plain.
func specialAt(w uint64) int {
	if m := specialMask(w); m != 0 {
		return bits.TrailingZeros64(m) / 8
	}
	return 8
}

func plainSlow(s []byte) bool { return bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) }

func TestSpecialAgreesWithPlainByte(t *testing.T) {
	// Every byte value at every position of an otherwise plain word, and
	// words of random bytes from the interesting ranges.
	for pos := range 8 {
		for c := range 256 {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			if got, want := specialAt(binary.LittleEndian.Uint64(w)), firstSpecial(w); got != want {
				t.Fatalf("specialAt(%q) = %d, want %d", w, got, want)
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	pool := []byte{0, 1, 0x1f, 0x20, 0x21, '"', '\\', 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff, 'a', 'Z'}
	w := make([]byte, 8)
	for range 200000 {
		for i := range w {
			w[i] = pool[r.IntN(len(pool))]
		}
		if got, want := specialAt(binary.LittleEndian.Uint64(w)), firstSpecial(w); got != want {
			t.Fatalf("specialAt(%q) = %d, want %d", w, got, want)
		}
	}
}

func TestPlainAgreesWithDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", "Z", " ", "\\", "\\n", "ä", "€", "😀", "\xff", "\xc3", "\xe2\x82", "0123456789", "\x7f", "\x80"}
	for range 100000 {
		var b []byte
		for n := r.IntN(12); n > 0; n-- {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		if got, want := plain(b), plainSlow(b); got != want {
			t.Fatalf("plain(%q) = %v, want %v", b, got, want)
		}
	}
}

func FuzzPlain(f *testing.F) {
	for _, s := range []string{"", "plain ascii text", "Krämer", "a\\nb", "abcdefgh\xff", "abcdefg\\", "\xc3\xa4bcdefghij"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := plain(b), plainSlow(b); got != want {
			t.Fatalf("plain(%q) = %v, want %v", b, got, want)
		}
		for i := 0; i+8 <= len(b); i++ {
			if got, want := specialAt(binary.LittleEndian.Uint64(b[i:])), firstSpecial(b[i:i+8]); got != want {
				t.Fatalf("specialAt(%q) = %d, want %d", b[i:i+8], got, want)
			}
		}
	})
}
