package arena

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// Every string comes back as it went in, across chunk boundaries, with
// big and empty strings among them, and stays valid as more are added.
func TestAddGet(t *testing.T) {
	var a Arena
	rnd := rand.New(rand.NewPCG(7, 8))
	var refs []uint64
	var want []string
	for i := range 20000 {
		n := rnd.IntN(200)
		switch i % 1000 {
		case 10:
			n = chunkSize + 3 // big
		case 20:
			n = chunkSize - 1 // one short of big
		case 30:
			n = 0
		}
		s := strings.Repeat(string(rune('a'+i%26)), n)
		if i%2 == 0 {
			refs = append(refs, a.Add(s))
		} else {
			refs = append(refs, a.AddBytes([]byte(s)))
		}
		want = append(want, s)
	}
	for i, r := range refs {
		if got := a.Get(r); got != want[i] {
			t.Fatalf("string %d: got %d bytes, want %d", i, len(got), len(want[i]))
		}
	}
	var total int64
	for _, s := range want {
		total += int64(len(s))
	}
	if a.Len() != total {
		t.Errorf("Len() = %d, want %d", a.Len(), total)
	}
	if a.Bytes() < total {
		t.Errorf("Bytes() = %d, less than the %d bytes stored", a.Bytes(), total)
	}
}

// Add copies: changing the bytes given to AddBytes changes nothing.
func TestAddBytesCopies(t *testing.T) {
	var a Arena
	b := []byte("record-17")
	r := a.AddBytes(b)
	copy(b, "XXXXXXXXX")
	if got := a.Get(r); got != "record-17" {
		t.Fatalf("got %q after the caller reused its buffer", got)
	}
}
