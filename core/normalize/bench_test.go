package normalize

import (
	"fmt"
	"testing"
)

// BenchmarkPhone measures plain numbers, which fastPhone decides, and
// numbers with an extension, which only the full parse decides: without
// the cache, and with it (where such numbers hit it).
func BenchmarkPhone(b *testing.B) {
	for _, kind := range []struct{ name, format string }{{"plain", "0171 %07d"}, {"full", "0171 %07d ext. 2"}} {
		raws := make([]string, 1024)
		for i := range raws {
			raws[i] = fmt.Sprintf(kind.format, 1000000+i*7919)
		}
		b.Run(kind.name+"/parse", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				parsePhone(raws[i%len(raws)], "DE")
			}
		})
		b.Run(kind.name+"/cached", func(b *testing.B) {
			c := NewPhoneCache(4096)
			for i := 0; b.Loop(); i++ {
				c.Phone(raws[i%len(raws)], "DE")
			}
		})
		b.Run(kind.name+"/cached-parallel", func(b *testing.B) {
			c := NewPhoneCache(4096)
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					c.Phone(raws[i%len(raws)], "DE")
				}
			})
		})
	}
}

// BenchmarkEmail measures the common address, which Email keeps as it
// is, and one every rule changes.
func BenchmarkEmail(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			Email("jane.doe@example.org", EmailOptions{})
		}
	})
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			Email(" Jane.Doe+news@Example.ORG ", EmailOptions{StripPlus: true})
		}
	})
}

func BenchmarkName(b *testing.B) {
	for b.Loop() {
		Name("  Jürgen   MÜLLER-Lüdenscheidt ")
	}
}
