package normalize

import (
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/net/idna"
)

// domainSlow is Domain's IDNA path for every input: the reference the
// plain-ASCII fast path must agree with.
func domainSlow(s string) (string, bool) {
	a, err := idna.Lookup.ToASCII(s)
	if err != nil {
		return "", false
	}
	if again, err := idna.Lookup.ToASCII(a); err != nil || again != a {
		return "", false
	}
	return a, true
}

// The fast path gives IDNA's answer for every ASCII domain it takes,
// over random strings of the characters that matter: case, digits, dots,
// hyphens in every position, and punycode prefixes.
func TestPlainDomainMatchesIDNA(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "Z", "q", "7", "0", ".", "-", "--", "xn--", "XN--", "ab", "c-d", "_", " "}
	fast := 0
	for range 200000 {
		var b strings.Builder
		for range 1 + rnd.IntN(8) {
			b.WriteString(pieces[rnd.IntN(len(pieces))])
		}
		s := b.String()
		got, ok := plainDomain(s)
		if !ok {
			continue
		}
		fast++
		want, wok := domainSlow(s)
		if wok && got != want {
			t.Fatalf("plainDomain(%q) = %q, IDNA gives %q", s, got, want)
		}
		// Where IDNA fails, Domain's label checks must reject the fast
		// path's result too.
		if !wok {
			if d, ok := Domain(s); ok {
				t.Fatalf("Domain(%q) = %q, but IDNA rejects it", s, d)
			}
		}
	}
	if fast < 30000 {
		t.Fatalf("only %d inputs took the fast path", fast)
	}
	t.Logf("%d inputs took the fast path", fast)
}

func BenchmarkDomain(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			Domain("mail.example.org")
		}
	})
	b.Run("idna", func(b *testing.B) {
		for b.Loop() {
			domainSlow("mail.example.org")
		}
	})
}
