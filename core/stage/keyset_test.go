package stage

import (
	"math/rand/v2"
	"testing"
)

func TestKeySet(t *testing.T) {
	for _, hint := range []int64{0, 10, 5000} {
		s := newKeySet(hint)
		r := rand.New(rand.NewPCG(1, uint64(hint)))
		want := map[uint64]bool{}
		for range 20_000 {
			h := r.Uint64() % 30_000 // plenty of repeats; 0 included
			if h == 0 {
				h = 1 // the set folds 0 into 1
			}
			if got := s.add(h); got != !want[h] {
				t.Fatalf("hint %d: add(%d) = %v, want %v", hint, h, got, !want[h])
			}
			want[h] = true
		}
		if s.n != len(want) {
			t.Errorf("hint %d: %d keys, want %d", hint, s.n, len(want))
		}
		if s.n*100 > len(s.slots)*maxLoadPercent {
			t.Errorf("hint %d: load %d/%d above %d%%", hint, s.n, len(s.slots), maxLoadPercent)
		}
	}
}
