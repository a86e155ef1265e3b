package normalize

import (
	"fmt"
	"testing"
)

// BenchmarkPhone compares a parse without the cache to cache hits, the
// common case when the same numbers recur across sources and runs.
func BenchmarkPhone(b *testing.B) {
	raws := make([]string, 1024)
	for i := range raws {
		raws[i] = fmt.Sprintf("0171 %07d", 1000000+i*7919)
	}
	b.Run("parse", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			parsePhone(raws[i%len(raws)], "DE")
		}
	})
	b.Run("cached", func(b *testing.B) {
		c := NewPhoneCache(4096)
		for i := 0; b.Loop(); i++ {
			c.Phone(raws[i%len(raws)], "DE")
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		c := NewPhoneCache(4096)
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				c.Phone(raws[i%len(raws)], "DE")
			}
		})
	})
}

func BenchmarkEmail(b *testing.B) {
	for b.Loop() {
		Email(" Jane.Doe+news@Example.ORG ", EmailOptions{StripPlus: true})
	}
}

func BenchmarkName(b *testing.B) {
	for b.Loop() {
		Name("  Jürgen   MÜLLER-Lüdenscheidt ")
	}
}
