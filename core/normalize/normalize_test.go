package normalize

import (
	"fmt"
	"strings"
	"testing"
)

func TestEmail(t *testing.T) {
	tests := []struct {
		in   string
		opt  EmailOptions
		want string // "" means not ok
	}{
		{"  Jane.Doe@Example.ORG ", EmailOptions{}, "jane.doe@example.org"},
		{"mailto:jane@example.org", EmailOptions{}, "jane@example.org"},
		{"Jane Doe <Jane@Example.org>", EmailOptions{}, "jane@example.org"},
		{"jane@example.org.", EmailOptions{}, "jane@example.org"},
		{"jürgen@müller.de", EmailOptions{}, "jürgen@xn--mller-kva.de"},
		{"info@BÜCHER.example", EmailOptions{}, "info@xn--bcher-kva.example"},
		{"o'brien+news@example.ie", EmailOptions{}, "o'brien+news@example.ie"},
		{"jane+news@example.org", EmailOptions{StripPlus: true}, "jane@example.org"},
		{"jane.+news@example.org", EmailOptions{StripPlus: true}, "jane@example.org"},
		{"+news@example.org", EmailOptions{StripPlus: true}, "+news@example.org"},
		{"Jane.Doe@gmail.com", EmailOptions{}, "jane.doe@gmail.com"},
		{"Jane.Doe@gmail.com", EmailOptions{StripDots: true}, "janedoe@gmail.com"},
		{"j.a.n.e@googlemail.com", EmailOptions{StripDots: true}, "jane@gmail.com"},
		{"jane.doe@example.org", EmailOptions{StripDots: true}, "jane.doe@example.org"},
		{"J.Doe+x@GMAIL.com", EmailOptions{StripDots: true, StripPlus: true}, "jdoe@gmail.com"},
		{"", EmailOptions{}, ""},
		{"   ", EmailOptions{}, ""},
		{"jane", EmailOptions{}, ""},
		{"@example.org", EmailOptions{}, ""},
		{"jane@", EmailOptions{}, ""},
		{"jane doe@example.org", EmailOptions{}, ""},
		{"jane@exa mple.org", EmailOptions{}, ""},
		{"jane@@example.org", EmailOptions{}, ""},
		{"jane@localhost", EmailOptions{}, ""},
		{"jane@[192.168.0.1]", EmailOptions{}, ""},
		{"jane@192.168.0.1", EmailOptions{}, ""},
		{".jane@example.org", EmailOptions{}, ""},
		{"jane.@example.org", EmailOptions{}, ""},
		{"ja..ne@example.org", EmailOptions{}, ""},
		{`"jane"@example.org`, EmailOptions{}, ""},
		{"jane@-example.org", EmailOptions{}, ""},
		{"jane@example..org", EmailOptions{}, ""},
		{"jane@exam_ple.org", EmailOptions{}, ""},
		{strings.Repeat("a", 65) + "@example.org", EmailOptions{}, ""},
		{"n/a", EmailOptions{}, ""},
	}
	for _, tt := range tests {
		got, ok := Email(tt.in, tt.opt)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Email(%q, %+v) = %q, %v; want %q", tt.in, tt.opt, got, ok, tt.want)
		}
	}
}

// The 253-byte limit holds for the domain's ASCII form: "aü." is 4 bytes
// as written but 10 in punycode ("xn--a-eha."), so 26 of them fit as
// written yet not in ASCII. Such an address is rejected, not accepted
// and then rejected in its normalized form.
func TestEmailDomainLimitAfterPunycode(t *testing.T) {
	for _, tt := range []struct {
		labels int
		ok     bool
	}{{25, true}, {26, false}, {60, false}} {
		in := "x@" + strings.Repeat("aü.", tt.labels) + "de"
		out, ok := Email(in, EmailOptions{})
		if ok != tt.ok {
			t.Errorf("Email(%d labels aü) = %d bytes, %v; want ok %v", tt.labels, len(out), ok, tt.ok)
			continue
		}
		if again, ok := Email(out, EmailOptions{}); tt.ok && (!ok || again != out) {
			t.Errorf("Email(%q) = %q, %v; want it unchanged", out, again, ok)
		}
	}
}

// A domain's one trailing root dot is dropped however it is written: IDNA
// maps the ideographic, full-width and half-width full stops to ".".
func TestEmailRootDotSpellings(t *testing.T) {
	for in, want := range map[string]string{
		"jane@example.org.":       "jane@example.org",
		"jane@example.org\u3002":  "jane@example.org",
		"jane@example.org\uff0e":  "jane@example.org",
		"jane@example.org\uff61":  "jane@example.org",
		"jane@bücher.de.":         "jane@xn--bcher-kva.de",
		"jane@bücher.de\u3002":    "jane@xn--bcher-kva.de",
		"jane@example.org..":      "",
		"jane@example.org.\u3002": "",
		"jane@\u3002":             "",
	} {
		got, ok := Email(in, EmailOptions{})
		if got != want || ok != (want != "") {
			t.Errorf("Email(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestPhone(t *testing.T) {
	tests := []struct{ in, region, want string }{
		{"0171 1234567", "DE", "+491711234567"},
		{"+49 (0)171 123 45 67", "DE", "+491711234567"},
		{"0049 171 1234567", "DE", "+491711234567"},
		{"+49 171 1234567", "", "+491711234567"},
		{"+49 171 1234567", "US", "+491711234567"},
		{"030 901820", "DE", "+4930901820"},
		{"(415) 555-2671", "US", "+14155552671"},
		{"(415) 555-2671", "us", "+14155552671"},
		{"020 7946 0958", "GB", "+442079460958"},
		{"0171 1234567", "", ""},
		{"12", "DE", ""},
		{"", "DE", ""},
		{"n/a", "DE", ""},
		{"+00 123", "DE", ""},
		{strings.Repeat("1", 300), "DE", ""},
	}
	for _, tt := range tests {
		got, ok := Phone(tt.in, tt.region)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Phone(%q, %q) = %q, %v; want %q", tt.in, tt.region, got, ok, tt.want)
		}
	}
}

// PhoneKey keeps what Phone drops: an extension tells colleagues behind
// one switchboard number apart.
func TestPhoneKey(t *testing.T) {
	tests := []struct{ in, region, want string }{
		{"+49 30 901820 ext. 12", "DE", "+4930901820;ext=12"},
		{"030 901820 x12", "DE", "+4930901820;ext=12"},
		{"tel:+49-30-901820;ext=12", "", "+4930901820;ext=12"},
		{"(415) 555-2671 ext. 7", "US", "+14155552671;ext=7"},
		{"0171 1234567", "DE", "+491711234567"},
		{"030 901820", "DE", "+4930901820"},
		{"12 ext. 3", "DE", ""},
	}
	for _, tt := range tests {
		for range 2 { // the second call is answered from the cache
			got, ok := PhoneKey(tt.in, tt.region)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("PhoneKey(%q, %q) = %q, %v; want %q", tt.in, tt.region, got, ok, tt.want)
			}
		}
		want, _, _ := strings.Cut(tt.want, ";")
		if got, _ := Phone(tt.in, tt.region); got != want {
			t.Errorf("Phone(%q, %q) = %q; want %q", tt.in, tt.region, got, want)
		}
	}
	key, _ := ByName("phone", Options{DefaultRegion: "de"})
	if got, _ := key("030 901820 ext. 12"); got != "+4930901820;ext=12" {
		t.Errorf(`ByName("phone") = %q; want the key form with the extension`, got)
	}
	e164, _ := PhoneFunc("de")
	if got, _ := e164("030 901820 ext. 12"); got != "+4930901820" {
		t.Errorf(`PhoneFunc = %q; want E.164`, got)
	}
	if _, err := PhoneFunc("XX"); err == nil {
		t.Error("PhoneFunc(XX): no error for an unknown region")
	}
}

func TestPhoneNational(t *testing.T) {
	tests := []struct {
		in       string
		cc       int
		national string
		ok       bool
	}{
		{"+491711234567", 49, "1711234567", true},
		{"+14155552671", 1, "4155552671", true},
		{"+3531234567", 353, "1234567", true},
		{"+80012345678", 800, "12345678", true},
		{"491711234567", 0, "", false},
		{"+", 0, "", false},
		{"+999", 0, "", false},
	}
	for _, tt := range tests {
		cc, n, ok := PhoneNational(tt.in)
		if cc != tt.cc || n != tt.national || ok != tt.ok {
			t.Errorf("PhoneNational(%q) = %d, %q, %v; want %d, %q, %v", tt.in, cc, n, ok, tt.cc, tt.national, tt.ok)
		}
	}
}

func (c *PhoneCache) entries() int {
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].cur) + len(c.shards[i].old)
	}
	return n
}

func TestPhoneCacheBounded(t *testing.T) {
	c := NewPhoneCache(64)
	for i := 0; i < 1000; i++ {
		raw := fmt.Sprintf("030 999%03d ext. 1", i)
		if _, _, decided := fastPhone(raw, "DE"); decided {
			t.Fatalf("fastPhone decides %q: the test needs numbers only the full parse decides", raw)
		}
		c.Phone(raw, "DE")
	}
	if n := c.entries(); n == 0 || n > 2*64 {
		t.Errorf("cache holds %d entries, want 1 to %d", n, 2*64)
	}
	// An evicted or cached entry gives the same answer as a fresh parse.
	for _, raw := range []string{"030 999000 ext. 1", "030 999999 ext. 1", "0171 1234567"} {
		got, ok := c.Phone(raw, "DE")
		want, wok := parsePhone(raw, "DE")
		if got != want || ok != wok {
			t.Errorf("cached Phone(%q) = %q, %v; fresh parse %q, %v", raw, got, ok, want, wok)
		}
	}
}

// Plain numbers, which fastPhone decides faster than a look-up, take no
// room in the cache.
func TestPhoneCacheKeepsOnlyFullParses(t *testing.T) {
	c := NewPhoneCache(64)
	for _, raw := range []string{"0171 1234567", " +49 30 901820 ", "0049 30/901820"} {
		got, ok := c.Phone(raw, "de")
		if !ok || !strings.HasPrefix(got, "+49") {
			t.Errorf("Phone(%q) = %q, %v; want a German number", raw, got, ok)
		}
	}
	if n := c.entries(); n != 0 {
		t.Errorf("cache holds %d entries after plain numbers, want 0", n)
	}
	if got, ok := c.Phone("+49 30 901820 ext. 12", "DE"); !ok || got != "+4930901820" {
		t.Errorf("Phone with an extension = %q, %v; want +4930901820", got, ok)
	}
	if n := c.entries(); n != 1 {
		t.Errorf("cache holds %d entries after a full parse, want 1", n)
	}
}

func TestPhoneCacheConcurrent(t *testing.T) {
	c := NewPhoneCache(32)
	raws := []string{"0171 1234567", "030 901820", "+44 20 7946 0958", "garbage", "0"}
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 200; i++ {
				raw := raws[(g+i)%len(raws)]
				got, ok := c.Phone(raw, "DE")
				want, wok := parsePhone(raw, "DE")
				if got != want || ok != wok {
					t.Errorf("Phone(%q) = %q, %v; want %q, %v", raw, got, ok, want, wok)
					return
				}
			}
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
}

func TestName(t *testing.T) {
	tests := []struct{ in, want, display string }{
		{"  Jane   Doe ", "jane doe", "Jane Doe"},
		{"JANE DOE", "jane doe", "Jane Doe"},
		{"jane doe", "jane doe", "Jane Doe"},
		{"McDonald", "mcdonald", "McDonald"},
		{"van der Berg", "van der berg", "van der Berg"},
		{"MÜLLER", "müller", "Müller"},
		{"Mu\u0308ller", "müller", "Müller"}, // decomposed ü
		{"Strauß", "strauss", "Strauß"},
		{"STRAUSS", "strauss", "Strauss"},
		{"Jane\u200bDoe", "janedoe", "JaneDoe"},
		{"Jane\tDoe\n", "jane doe", "Jane Doe"},
		{"Łukasz Żółć", "łukasz żółć", "Łukasz Żółć"},
		{"", "", ""},
		{" \t ", "", ""},
	}
	for _, tt := range tests {
		got, ok := Name(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Name(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
		if d := Display(tt.in); d != tt.display {
			t.Errorf("Display(%q) = %q; want %q", tt.in, d, tt.display)
		}
	}
}

func TestLower(t *testing.T) {
	tests := []struct{ in, want string }{
		{" ABC-123 ", "abc-123"},
		{"Ä", "ä"},
		{"", ""},
		{"  ", ""},
	}
	for _, tt := range tests {
		got, ok := Lower(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Lower(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestPostalCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{" 10115 ", "10115"},
		{"sw1a 1aa", "SW1A1AA"},
		{"SW1A  1AA", "SW1A1AA"},
		{"12345-6789", "12345-6789"},
		{"K1A 0B1", "K1A0B1"},
		{"-", ""},
		{"", ""},
		{"1011€", ""},
		{"1234567890123", ""},
	}
	for _, tt := range tests {
		got, ok := PostalCode(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("PostalCode(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestCountry(t *testing.T) {
	tests := []struct{ in, want string }{
		{"DE", "DE"}, {"de", "DE"}, {"DEU", "DE"}, {"Germany", "DE"}, {"Deutschland", "DE"},
		{" deutschland ", "DE"}, {"Bundesrepublik Deutschland", "DE"},
		{"Österreich", "AT"}, {"Oesterreich", "AT"}, {"osterreich", "AT"}, {"AUT", "AT"},
		{"Schweiz", "CH"}, {"Switzerland", "CH"},
		{"UK", "GB"}, {"Great Britain", "GB"}, {"Großbritannien", "GB"}, {"United Kingdom", "GB"},
		{"USA", "US"}, {"U.S.A.", "US"}, {"United States of America", "US"}, {"Vereinigte Staaten", "US"},
		{"Côte d'Ivoire", "CI"}, {"Cote dIvoire", "CI"}, {"Ivory Coast", "CI"},
		{"Antigua & Barbuda", "AG"}, {"antigua and barbuda", "AG"},
		{"Bosnia-Herzegovina", ""}, {"Bosnia and Herzegovina", "BA"},
		{"Türkei", "TR"}, {"Turkey", "TR"}, {"Türkiye", "TR"},
		{"Korea, Republic of", "KR"},
		{"Atlantis", ""}, {"", ""}, {"XX", ""},
	}
	for _, tt := range tests {
		got, ok := Country(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Country(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

// TestCountryTable checks the embedded table: 249 distinct codes, and no
// alias shadows another country's code or name.
func TestCountryTable(t *testing.T) {
	lines := strings.Split(iso3166, "\n")
	if len(lines) != 249 {
		t.Fatalf("table has %d countries, want 249", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		f := strings.SplitN(l, " ", 3)
		if len(f) != 3 || len(f[0]) != 2 || len(f[1]) != 3 || f[0] != strings.ToUpper(f[0]) || f[1] != strings.ToUpper(f[1]) {
			t.Errorf("malformed line %q", l)
			continue
		}
		for _, k := range f {
			if seen[countryKey(k)] {
				t.Errorf("%q appears twice", k)
			}
			seen[countryKey(k)] = true
			if got, ok := Country(k); got != f[0] || !ok {
				t.Errorf("Country(%q) = %q, %v; want %q", k, got, ok, f[0])
			}
		}
		if n, ok := CountryName(f[0]); n != f[2] || !ok {
			t.Errorf("CountryName(%q) = %q, %v", f[0], n, ok)
		}
	}
	for _, l := range strings.Split(countryAliases, "\n") {
		a2, _, _ := strings.Cut(l, " ")
		if _, ok := CountryName(a2); !ok {
			t.Errorf("alias line %q names unknown code %q", l, a2)
		}
	}
}

func TestDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1980-02-29", "1980-02-29"},
		{" 1980-02-29 ", "1980-02-29"},
		{"1980-02-29T23:30:00-05:00", "1980-02-29"},
		{"1980-02-29 23:30:00", "1980-02-29"},
		{"1980/02/29", "1980-02-29"},
		{"19800229", "1980-02-29"},
		{"29.02.1980", "1980-02-29"},
		{"1.2.1980", "1980-02-01"},
		{"1981-02-29", ""},
		{"01/02/1980", ""},
		{"0000-01-01", ""},
		{"", ""},
		{"n/a", ""},
	}
	for _, tt := range tests {
		got, ok := Date(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Date(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestByName(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"email", "A@Example.org", "a@example.org"},
		{"phone", "0171 1234567", "+491711234567"},
		{"name", " JANE ", "jane"},
		{"postal_code", "sw1a 1aa", "SW1A1AA"},
		{"country", "Deutschland", "DE"},
		{"date", "29.02.1980", "1980-02-29"},
		{"lower", " AbC ", "abc"},
		{"none", " AbC ", " AbC "},
		{"none", "", ""},
	}
	for _, tt := range tests {
		f, err := ByName(tt.name, Options{DefaultRegion: "de"})
		if err != nil {
			t.Fatalf("ByName(%q): %v", tt.name, err)
		}
		got, ok := f(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s(%q) = %q, %v; want %q", tt.name, tt.in, got, ok, tt.want)
		}
	}
	if _, err := ByName("soundex", Options{}); err == nil || !strings.Contains(err.Error(), "soundex") {
		t.Errorf("ByName(soundex) error = %v, want one naming it", err)
	}
	if _, err := ByName("phone", Options{DefaultRegion: "XY"}); err == nil {
		t.Error("ByName(phone) with region XY: no error")
	}
	f, err := ByName("email", Options{Email: EmailOptions{StripPlus: true}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f("a+b@example.org"); got != "a@example.org" {
		t.Errorf("email with StripPlus = %q", got)
	}
}

// The common address is kept as it is; anything it cannot keep as
// it is goes to the full path.
func TestPlainEmail(t *testing.T) {
	for _, s := range []string{"jane.doe@example.org", "klaus.kraemer81@elbpost.de", "thomas_braun@funkfach.de",
		"a+news@b.co.uk", "o'brien@x-y.de", "1@2.de"} {
		if !plainEmail(s, EmailOptions{}) {
			t.Errorf("plainEmail(%q) = false, want true", s)
		}
		if got, ok := Email(s, EmailOptions{}); !ok || got != s {
			t.Errorf("Email(%q) = %q, %v; want it unchanged", s, got, ok)
		}
	}
	for _, c := range []struct {
		s   string
		opt EmailOptions
	}{
		{"Jane@example.org", EmailOptions{}}, {"jane@Example.org", EmailOptions{}}, {"jürgen@example.org", EmailOptions{}},
		{"x@müller.de", EmailOptions{}}, {"x@xn--mller-kva.de", EmailOptions{}}, {"jane <jane@example.org>", EmailOptions{}},
		{"mailto:jane@example.org", EmailOptions{}}, {"a+b@c.de", EmailOptions{StripPlus: true}},
		{"a.b@gmail.com", EmailOptions{StripDots: true}}, {"a@b.de.", EmailOptions{}}, {"a@b", EmailOptions{}},
		{"a@b.12", EmailOptions{}}, {"a@-b.de", EmailOptions{}}, {"a@b-.de", EmailOptions{}}, {"a@b@c.de", EmailOptions{}},
		{".a@b.de", EmailOptions{}}, {"a..b@c.de", EmailOptions{}}, {"a b@c.de", EmailOptions{}}, {"@c.de", EmailOptions{}},
	} {
		if plainEmail(c.s, c.opt) {
			t.Errorf("plainEmail(%q, %+v) = true, want false", c.s, c.opt)
		}
	}
}
