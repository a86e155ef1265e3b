package normalize

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// phoneNumberOf builds the PhoneNumber Parse builds for calling code cc
// and national significant number nsn, leading zeros included.
func phoneNumberOf(cc int32, nsn string) *phonenumbers.PhoneNumber {
	v, _ := strconv.ParseUint(nsn, 10, 64)
	n := &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &v}
	if len(nsn) >= 2 && nsn[0] == '0' {
		italian := true
		n.ItalianLeadingZero = &italian
		zeros := 1
		for zeros < len(nsn)-1 && nsn[zeros] == '0' {
			zeros++
		}
		if zeros != 1 {
			z := int32(zeros)
			n.NumberOfLeadingZeros = &z
		}
	}
	return n
}

// checkPhoneValid fails when c's checks of nsn differ from the library's.
// It reports whether the library finds nsn valid.
func checkPhoneValid(t testing.TB, m *phoneMeta, c *phoneCountry, nsn string) bool {
	t.Helper()
	num := phoneNumberOf(c.cc, nsn)
	if got := phonenumbers.GetNationalSignificantNumber(num); got != nsn {
		t.Fatalf("%s: %q builds a number of NSN %q", c.id, nsn, got)
	}
	name := func(r *phoneCountry) string {
		if r == nil {
			return ""
		}
		return r.id
	}
	region := c.regionOf(nsn)
	if want := phonenumbers.GetRegionCodeForNumber(num); name(region) != want {
		t.Errorf("%s %q: regionOf = %q; GetRegionCodeForNumber %q", c.id, nsn, name(region), want)
	}
	valid := phonenumbers.IsValidNumber(num)
	if got := c.valid(nsn); got != valid {
		t.Errorf("%s %q: valid = %v; IsValidNumber %v", c.id, nsn, got, valid)
	}
	for _, r := range []*phoneCountry{c, m.byCode[int(c.cc)], region} {
		if r == nil {
			continue
		}
		if got, want := r.validForRegion(nsn), phonenumbers.IsValidNumberForRegion(num, r.id); got != want {
			t.Errorf("%s %q: validForRegion(%s) = %v; IsValidNumberForRegion %v", c.id, nsn, r.id, got, want)
		}
	}
	if got, want := c.possible(nsn), phonenumbers.IsPossibleNumberWithReason(num); got != want {
		t.Errorf("%s %q: possible = %v; IsPossibleNumberWithReason %v", c.id, nsn, got, want)
	}
	typ := phonenumbers.UNKNOWN
	if region != nil {
		typ = region.rules().numberType(nsn)
	}
	if want := phonenumbers.GetNumberType(num); typ != want {
		t.Errorf("%s %q: numberType = %v; GetNumberType %v", c.id, nsn, typ, want)
	}
	return valid
}

// TestPhoneValidMatchesLibrary compares the compiled checks with the
// library's for every supported region on random numbers of every
// length, numbers drawn from the region's patterns, and the region's
// example numbers, each also mutated and with leading zeros.
func TestPhoneValidMatchesLibrary(t *testing.T) {
	m := loadPhoneMeta()
	random, drawn := 8, 12
	if testing.Short() {
		random, drawn = 2, 2
	}
	r := rand.New(rand.NewPCG(9, 10))
	ids := make([]string, 0, len(m.regions))
	for id := range phonenumbers.GetSupportedRegions() {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var checked, valid, regions int
	for _, id := range ids {
		c := m.regions[id]
		if c == nil {
			t.Fatalf("supported region %s has no metadata", id)
		}
		regions++
		var nsns, built []string
		for n := 1; n <= phonenumbers.MAX_LENGTH_FOR_NSN; n++ {
			for range random {
				nsns = append(nsns, randomDigits(r, n))
			}
		}
		for _, d := range descsOf(c.md) {
			re, _ := syntax.Parse(d.GetNationalNumberPattern(), syntax.Perl)
			for range drawn {
				built = append(built, string(sample(r, re, nil)))
			}
		}
		for _, typ := range phoneTypes {
			if ex := phonenumbers.GetExampleNumberForType(id, typ); ex != nil {
				built = append(built, phonenumbers.GetNationalSignificantNumber(ex))
			}
		}
		for _, nsn := range built {
			nsns = append(nsns, nsn, "0"+nsn, "00"+nsn, mutateDigits(r, nsn), mutateDigits(r, nsn))
		}
		for _, nsn := range nsns {
			if nsn == "" || len(nsn) > phonenumbers.MAX_LENGTH_FOR_NSN || !isDigits(nsn) {
				continue
			}
			if checkPhoneValid(t, m, c, nsn) {
				valid++
			}
			checked++
			if t.Failed() {
				return
			}
		}
	}
	t.Logf("%d regions, %d numbers (%d valid) agree with the library", regions, checked, valid)
	if valid < checked/10 {
		t.Errorf("only %d of %d numbers valid: the comparison proves little", valid, checked)
	}
}

// TestPhoneRulesFallback runs regions' rules with every pattern matched
// by regexp, as when the DFA cannot take them, against the DFA.
func TestPhoneRulesFallback(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	m := loadPhoneMeta()
	for _, id := range []string{"DE", "GB", "US", "IT", "AR", "BR", "JE"} {
		rules := m.regions[id].rules()
		slow := *rules
		slow.descs = nil
		slow.fallback = nil
		for i, d := range descsOf(m.regions[id].md) {
			re := regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")
			slow.fallback = append(slow.fallback, fallbackPattern{1 << i, re})
		}
		for _, d := range descsOf(m.regions[id].md) {
			for _, nsn := range patternInputs(r, d.GetNationalNumberPattern(), 200) {
				if got, want := slow.numberType(nsn), rules.numberType(nsn); got != want {
					t.Fatalf("%s %q: with regexp %v, with DFA %v", id, nsn, got, want)
				}
			}
		}
	}
}

// TestPhoneRulesSize compiles every region's rules, as a process that
// meets them all would, and reports their memory.
func TestPhoneRulesSize(t *testing.T) {
	m := loadPhoneMeta()
	var total, states, most int
	var largest string
	for id, c := range m.regions {
		rules := c.rules()
		if rules.descs == nil {
			t.Errorf("%s: no automaton", id)
			continue
		}
		size := rules.descs.size() + 2*len(rules.lengthOK)
		if rules.leading != nil {
			size += rules.leading.size()
		}
		total += size
		states += len(rules.descs.accept)
		if n := len(rules.descs.accept); n > most {
			most, largest = n, id
		}
	}
	t.Logf("%d regions: %d DFA states, %d KiB; largest %s, %d states", len(m.regions), states, total>>10, largest, most)
	// A bound well above today's total, to notice a blow-up.
	if total > 8<<20 {
		t.Errorf("compiled rules take %d bytes", total)
	}
}

// TestPhoneRulesConcurrent compiles regions' rules on first use from
// many goroutines at once, for the race detector.
func TestPhoneRulesConcurrent(t *testing.T) {
	m := loadPhoneMeta()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 13))
			for range 200 {
				c := m.byCode[[]int{1, 7, 44, 49, 39, 33}[r.IntN(6)]]
				nsn := randomDigits(r, 5+r.IntN(10))
				if got, want := c.valid(nsn), phonenumbers.IsValidNumber(phoneNumberOf(c.cc, nsn)); got != want {
					t.Errorf("%s %q: valid = %v; IsValidNumber %v", c.id, nsn, got, want)
				}
			}
		})
	}
	wg.Wait()
}

// FuzzPhoneValid compares the checks with the library's on arbitrary
// digit strings for any region: region indexes the sorted supported
// regions, and bytes of nsn that are not digits become digits.
func FuzzPhoneValid(f *testing.F) {
	m := loadPhoneMeta()
	ids := make([]string, 0, len(m.regions))
	for id := range m.regions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, s := range []struct{ region, nsn string }{
		{"DE", "1711234567"}, {"GB", "7400123456"}, {"GB", "1534456789"}, {"US", "4155552671"},
		{"CA", "6135550123"}, {"IT", "0612345678"}, {"RU", "9123456789"}, {"KZ", "7012345678"},
		{"FR", "0123456789"}, {"AR", "91123456789"}, {"NO", "79123456"}, {"FI", "181234567"},
	} {
		f.Add(uint(sort.SearchStrings(ids, s.region)), s.nsn)
	}
	f.Fuzz(func(t *testing.T, region uint, nsn string) {
		if nsn == "" || len(nsn) > phonenumbers.MAX_LENGTH_FOR_NSN {
			return
		}
		b := []byte(nsn)
		for i, d := range b {
			if d < '0' || d > '9' {
				b[i] = '0' + d%10
			}
		}
		checkPhoneValid(t, m, m.regions[ids[region%uint(len(ids))]], string(b))
	})
}

// TestPhoneRulesMatches checks each description's bit as
// isNumberMatchingDesc decides it: a listed possible length (when any are
// listed) and a full match of the pattern. Some patterns match numbers of
// lengths their description does not list (US: 7-digit local numbers),
// so the length check must bite.
func TestPhoneRulesMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	m := loadPhoneMeta()
	var checked, cut int
	for _, c := range m.regions {
		rules := c.rules()
		for i, d := range descsOf(c.md) {
			re := regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")
			for _, nsn := range patternInputs(r, d.GetNationalNumberPattern(), 40) {
				possible := len(d.GetPossibleLength()) == 0
				for _, l := range d.GetPossibleLength() {
					possible = possible || int(l) == len(nsn)
				}
				match := re.MatchString(nsn)
				if got := rules.matches(nsn)&(1<<i) != 0; got != (possible && match) {
					t.Fatalf("%s description %d %q: matches %v; possible length %v, pattern %v", c.id, i, nsn, got, possible, match)
				}
				checked++
				if match && !possible {
					cut++
				}
			}
		}
	}
	t.Logf("%d numbers, %d matching a pattern but not its lengths", checked, cut)
	if cut == 0 {
		t.Error("no number tested the length check")
	}
}
