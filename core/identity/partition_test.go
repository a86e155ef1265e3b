package identity

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPartitionByHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 255, 1000, 20000} {
		es := make([]entry, n)
		for i := range es {
			h := rng.Uint64()
			if i%7 == 0 {
				h &= 0x00ffffffffffffff // crowd bucket 0
			}
			es[i] = entry{hash: h, rec: int32(i), off: uint32(i * 3)}
		}
		want := slices.Clone(es)
		var bounds [hashBuckets + 1]int
		partitionByHash(es, &bounds)
		if bounds[0] != 0 || bounds[hashBuckets] != n {
			t.Fatalf("n=%d: bounds run %d..%d", n, bounds[0], bounds[hashBuckets])
		}
		for b := range hashBuckets {
			for i := bounds[b]; i < bounds[b+1]; i++ {
				if got := int(es[i].hash >> (64 - hashBits)); got != b {
					t.Fatalf("n=%d: entry %d of bucket %d has top bits %d", n, i, b, got)
				}
			}
		}
		byRec := func(a, b entry) int { return int(a.rec - b.rec) }
		slices.SortFunc(es, byRec)
		if !slices.Equal(es, want) {
			t.Fatalf("n=%d: partition lost or changed entries", n)
		}
	}
}
