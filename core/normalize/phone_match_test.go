package normalize

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// metadataPatterns returns every national-number pattern of the metadata
// (non-geographic entities included) and every leading-digits pattern.
func metadataPatterns(t testing.TB) (national, leading []string) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	for _, md := range coll.GetMetadata() {
		for _, d := range descsOf(md) {
			national = append(national, d.GetNationalNumberPattern())
		}
		if ld := md.GetLeadingDigits(); ld != "" {
			leading = append(leading, ld)
		}
	}
	return national, leading
}

// TestDigitDFAMatchesRegexp compares each metadata pattern's automaton
// with regexp on random digit strings, on strings drawn from the pattern
// itself (mostly matches) and on those with a digit changed, dropped or
// added (mostly near misses).
func TestDigitDFAMatchesRegexp(t *testing.T) {
	national, leading := metadataPatterns(t)
	perPattern := 120
	if testing.Short() {
		perPattern = 20
	}
	r := rand.New(rand.NewPCG(5, 6))
	var checked, matched, fallbacks int
	check := func(p string, prefix bool) {
		a, failed := compileDigitDFA([]string{p})
		if failed != 0 {
			fallbacks++
			return
		}
		anchored := "^(?:" + p + ")"
		if !prefix {
			anchored += "$"
		}
		re := regexp.MustCompile(anchored)
		for _, s := range patternInputs(r, p, perPattern) {
			want := re.MatchString(s)
			got := a.fullMatch(s) != 0
			if prefix {
				got = a.prefixMatch(s) != 0
			}
			if got != want {
				t.Fatalf("pattern %q (prefix %v) on %q: DFA %v, regexp %v", p, prefix, s, got, want)
			}
			checked++
			if want {
				matched++
			}
		}
	}
	for _, p := range national {
		check(p, false)
	}
	for _, p := range leading {
		check(p, true)
	}
	t.Logf("%d national and %d leading-digits patterns, %d strings (%d matching), %d patterns fall back to regexp",
		len(national), len(leading), checked, matched, fallbacks)
	if fallbacks != 0 {
		t.Errorf("%d metadata patterns fall back to regexp; the DFA should take them all", fallbacks)
	}
	// Without enough matching strings the comparison proves little.
	if matched < checked/10 {
		t.Errorf("only %d of %d strings matched", matched, checked)
	}
}

// TestDigitDFARegions checks the automata as the rules use them, one per
// region holding all its number descriptions: every bit must agree with
// its own pattern's regexp.
func TestDigitDFARegions(t *testing.T) {
	coll, _ := phonenumbers.MetadataCollection()
	r := rand.New(rand.NewPCG(7, 8))
	perPattern := 30
	if testing.Short() {
		perPattern = 5
	}
	checked := 0
	for _, md := range coll.GetMetadata() {
		descs := descsOf(md)
		patterns := make([]string, len(descs))
		res := make([]*regexp.Regexp, len(descs))
		for i, d := range descs {
			patterns[i] = d.GetNationalNumberPattern()
			res[i] = regexp.MustCompile("^(?:" + patterns[i] + ")$")
		}
		a, failed := compileDigitDFA(patterns)
		if failed != 0 {
			t.Errorf("%s: patterns %b fall back to regexp", md.GetId(), failed)
			continue
		}
		for _, p := range patterns {
			for _, s := range patternInputs(r, p, perPattern) {
				got := a.fullMatch(s)
				for i, re := range res {
					if want := re.MatchString(s); want != (got&(1<<i) != 0) {
						t.Fatalf("%s %d: description %d on %q: DFA %v, regexp %v", md.GetId(), md.GetCountryCode(), i, s, !want, want)
					}
				}
				checked++
			}
		}
	}
	t.Logf("%d region automata agree with regexp on %d strings × %d patterns", len(coll.GetMetadata()), checked, numDescs)
}

func TestDigitDFAFallback(t *testing.T) {
	a, failed := compileDigitDFA([]string{`12\d`, `\b3`, `4$`, `(`, `5|6`})
	if failed != 0b01110 {
		t.Fatalf("failed = %05b; want 01110", failed)
	}
	for s, want := range map[string]uint16{"123": 1, "5": 16, "6": 16, "3": 0, "4": 0, "12": 0, "1234": 0, "": 0, "12a": 0} {
		if got := a.fullMatch(s); got != want {
			t.Errorf("fullMatch(%q) = %b; want %b", s, got, want)
		}
	}
	// A pattern that needs too many states: the nth digit from the end.
	if a, failed := compileDigitDFA([]string{`\d*1\d{16}`}); a != nil || failed != 1 {
		t.Errorf("huge automaton: got %v, failed %b; want nil, 1", a != nil, failed)
	}
}

// patternInputs returns n digit strings to test pattern p on: random
// ones of every length up to 17, ones p generates, and those mutated.
func patternInputs(r *rand.Rand, p string, n int) []string {
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		panic(err)
	}
	out := make([]string, 0, n)
	for len(out) < n {
		var s string
		switch r.IntN(4) {
		case 0:
			s = randomDigits(r, 1+r.IntN(17))
		case 1:
			s = mutateDigits(r, string(sample(r, re, nil)))
		default:
			s = string(sample(r, re, nil))
		}
		if isDigits(s) || (s == "" && r.IntN(20) == 0) {
			out = append(out, s)
		}
	}
	return out
}

// sample appends to b a random string that re matches.
func sample(r *rand.Rand, re *syntax.Regexp, b []byte) []byte {
	repeat := func(lo, hi int) []byte {
		if hi < 0 {
			hi = lo + 3
		}
		for range lo + r.IntN(hi-lo+1) {
			b = sample(r, re.Sub[0], b)
		}
		return b
	}
	switch re.Op {
	case syntax.OpLiteral:
		b = append(b, string(re.Rune)...)
	case syntax.OpCharClass:
		i := 2 * r.IntN(len(re.Rune)/2)
		b = append(b, string(re.Rune[i]+rune(r.IntN(int(re.Rune[i+1]-re.Rune[i])+1)))...)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b = append(b, byte('0'+r.IntN(10)))
	case syntax.OpCapture:
		b = sample(r, re.Sub[0], b)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			b = sample(r, sub, b)
		}
	case syntax.OpAlternate:
		b = sample(r, re.Sub[r.IntN(len(re.Sub))], b)
	case syntax.OpQuest:
		b = repeat(0, 1)
	case syntax.OpStar:
		b = repeat(0, -1)
	case syntax.OpPlus:
		b = repeat(1, -1)
	case syntax.OpRepeat:
		b = repeat(re.Min, re.Max)
	}
	return b
}

func randomDigits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// mutateDigits changes, drops or adds a digit of s, or cuts it short.
func mutateDigits(r *rand.Rand, s string) string {
	d := string(rune('0' + r.IntN(10)))
	i := r.IntN(len(s) + 1)
	switch r.IntN(4) {
	case 0:
		if i < len(s) {
			return s[:i] + d + s[i+1:]
		}
		return s + d
	case 1:
		if i < len(s) {
			return s[:i] + s[i+1:]
		}
		return s
	case 2:
		return s[:i] + d + s[i:]
	}
	return s[:i]
}
