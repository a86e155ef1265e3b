package identity

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Values spread over many chunks read back whole, with their flags; a
// value never straddles a chunk; one longer than a chunk is refused.
func TestValuesAcrossChunks(t *testing.T) {
	var v values
	type stored struct {
		off  uint32
		flag byte
		s    string
	}
	var all []stored
	for i := range 40000 {
		s := fmt.Sprintf("%d|%s", i, strings.Repeat("x", i%300))
		off, err := v.add(byte(i%3), []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, stored{off, byte(i % 3), s})
	}
	if len(v.chunks) < 5 {
		t.Fatalf("%d chunks: want the values to fill several", len(v.chunks))
	}
	for i, w := range all {
		got, flag := v.value(w.off)
		if got != w.s || flag != w.flag {
			t.Fatalf("value %d at %d: %q flag %d, want %q flag %d", i, w.off, got, flag, w.s, w.flag)
		}
		start, end, _ := v.span(w.off)
		if start/valueChunk != w.off/valueChunk || (end > start && (end-1)/valueChunk != w.off/valueChunk) {
			t.Fatalf("value %d spans %d..%d from %d: crosses a chunk", i, start, end, w.off)
		}
	}
	if _, err := v.add(0, make([]byte, valueChunk)); !errors.Is(err, errValueTooLong) {
		t.Fatalf("a value of a whole chunk: %v, want errValueTooLong", err)
	}
}
