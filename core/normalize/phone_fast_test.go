package normalize

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// checkFastPhone fails when fastPhone decides s differently from the
// full parse. It reports whether fastPhone decided.
func checkFastPhone(t *testing.T, s, region string) bool {
	t.Helper()
	s = strings.TrimSpace(s)
	if s == "" || len(s) > phonenumbers.MAX_INPUT_STRING_LENGTH {
		return false
	}
	region = strings.ToUpper(region)
	got, ok, decided := fastPhone(s, region)
	if !decided {
		if got != "" || ok {
			t.Errorf("fastPhone(%q, %q) declined but returned %q, %v", s, region, got, ok)
		}
		return false
	}
	full := fullParsePhone(s, region)
	if got != full.e164 || ok != full.ok {
		t.Errorf("fastPhone(%q, %q) = %q, %v; full parse %q, %v", s, region, got, ok, full.e164, full.ok)
	}
	if full.ext != "" {
		t.Errorf("fastPhone(%q, %q) decided a number with extension %q, which PhoneKey needs", s, region, full.ext)
	}
	return true
}

// TestFastPhoneCommon pins that the fast path takes the everyday formats
// (it is the point of it) and gives their known results, and that it
// leaves the tricky ones to the full parse.
func TestFastPhoneCommon(t *testing.T) {
	tests := []struct {
		in, region, want string
		decided          bool
	}{
		{"0171 1234567", "DE", "+491711234567", true},
		{"+49 30 1234567", "DE", "+49301234567", true},
		{"0049 (30) 123-4567", "DE", "+49301234567", true},
		{"030/1234567", "DE", "+49301234567", true},
		{"+49 (0)171 123 45 67", "DE", "+491711234567", true},
		{"+49 171 1234567", "", "+491711234567", true},
		{"+49 171 1234567", "US", "+491711234567", true},
		{"0171 1234567", "de", "+491711234567", true},
		{"0171 123456789012", "DE", "", true},
		{"0171 12345", "DE", "", true},
		{"+49 030 1234567", "", "+49301234567", true},
		{"+44 1534 456789", "DE", "+441534456789", true}, // no prefix to strip: IsValidNumber decides
		{"+1 1 415 555 2671", "US", "+14155552671", true},
		{"0664 1234567", "AT", "+436641234567", true},
		{"044 668 18 00", "CH", "+41446681800", true},
		{"020 7946 0958", "GB", "+442079460958", true},
		{"07400 123456", "GB", "+447400123456", true},
		{"01 23 45 67 89", "FR", "+33123456789", true},
		{"06-12345678", "NL", "+31612345678", true},
		{"(415) 555-2671", "US", "+14155552671", true},
		{"415.555.2671", "US", "+14155552671", true},
		{"011 49 171 1234567", "US", "+491711234567", true},
		{"312 345 6789", "IT", "+393123456789", true},
		{"912 345 678", "ES", "+34912345678", true},
		{"512 345 678", "PL", "+48512345678", true},
		// Left to the full parse.
		{"06 1234 5678", "IT", "+390612345678", false},      // leading zero is part of the number
		{"49 171 1234567", "DE", "+49491711234567", false},  // Parse weighs "49" as calling code, then keeps it
		{"1 415 555 2671", "US", "+14155552671", false},     // same, NANP style
		{"+0049 171 1234567", "DE", "+491711234567", false}, // Parse retries without "+"
		{"0171 1234567 x12", "DE", "+491711234567", false},
		{"0171 1234567 ext. 3", "DE", "+491711234567", false},
		{"1-800-FLOWERS", "US", "+18003569377", false},
		{"(613) 555-0123", "CA", "+16135550123", false},      // CA is not 1's main region
		{"+44 (0)1534 456789", "GB", "+441534456789", false}, // Jersey: stripping "0" is judged by GB's pattern
		{"01534 456789", "GB", "+441534456789", false},
		{"0171 1234567", "", "", false},
		{"12", "DE", "", false},
		{"+800 1234 5678", "DE", "+80012345678", false},
	}
	for _, tt := range tests {
		got, ok, decided := fastPhone(strings.TrimSpace(tt.in), strings.ToUpper(tt.region))
		if decided != tt.decided {
			t.Errorf("fastPhone(%q, %q) decided = %v; want %v", tt.in, tt.region, decided, tt.decided)
		}
		if decided && (got != tt.want || ok != (tt.want != "")) {
			t.Errorf("fastPhone(%q, %q) = %q, %v; want %q", tt.in, tt.region, got, ok, tt.want)
		}
		// Both paths together, as callers see them.
		if got, ok := parsePhone(tt.in, tt.region); got != tt.want || ok != (tt.want != "") {
			t.Errorf("parsePhone(%q, %q) = %q, %v; want %q", tt.in, tt.region, got, ok, tt.want)
		}
	}
}

// fastPhoneRegions are the default regions the equivalence test draws
// from: the ones the brief targets, and some whose metadata the fast path
// must notice and decline (shared calling codes, prefix rules that need
// regular expressions, no or unknown region).
var fastPhoneRegions = []string{
	"DE", "AT", "CH", "GB", "FR", "NL", "US", "IT", "ES", "PL",
	"de", "", "XY", "CA", "GG", "JE", "IM", "BR", "AR", "MX", "RU", "KZ", "VA", "SM", "CI", "HU", "001",
}

// TestFastPhoneMatchesParse is the correctness bar of the fast path: for
// many generated inputs, national and international, well and badly
// formed, it either declines or agrees with the full parse.
func TestFastPhoneMatchesParse(t *testing.T) {
	n := 40000
	if testing.Short() {
		n = 4000
	}
	g := newPhoneGen(rand.New(rand.NewPCG(1, 2)))
	decided := 0
	for range n {
		region := fastPhoneRegions[g.r.IntN(len(fastPhoneRegions))]
		if checkFastPhone(t, g.input(region), region) {
			decided++
		}
		if t.Failed() {
			return // one disagreement is enough to look into
		}
	}
	t.Logf("fast path decided %d of %d inputs", decided, n)
	// The generator is mostly plain numbers; if the fast path stopped
	// taking them, it would silently stop paying off.
	if decided < n/4 {
		t.Errorf("fast path decided only %d of %d inputs", decided, n)
	}
}

// phoneGen generates phone number inputs, most of them plain numbers of
// a region written in the ways data entry produces, the rest broken.
type phoneGen struct {
	r *rand.Rand
}

func newPhoneGen(r *rand.Rand) *phoneGen { return &phoneGen{r: r} }

var phoneTypes = []phonenumbers.PhoneNumberType{
	phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
	phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP,
	phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER, phonenumbers.UAN,
	phonenumbers.VOICEMAIL,
}

func (g *phoneGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// nsn returns a national significant number and calling code: mostly an
// example number of region (or of another region), sometimes altered,
// sometimes random digits.
func (g *phoneGen) nsn(region string) (cc int, nsn string) {
	r := strings.ToUpper(region)
	if !phonenumbers.GetSupportedRegions()[r] || g.r.IntN(5) == 0 {
		r = strings.ToUpper(fastPhoneRegions[g.r.IntN(10)])
		if g.r.IntN(3) == 0 {
			r = g.pick("JE", "GG", "IM", "CA", "PR", "KZ", "VA", "BR", "AR", "MX", "CI", "SM")
		}
	}
	cc = phonenumbers.GetCountryCodeForRegion(r)
	if g.r.IntN(20) == 0 {
		cc = []int{800, 808, 870, 882, 883, 979, 0, 999, 7, 1}[g.r.IntN(10)]
	}
	if g.r.IntN(6) == 0 {
		return cc, g.digits(1 + g.r.IntN(18))
	}
	ex := phonenumbers.GetExampleNumberForType(r, phoneTypes[g.r.IntN(len(phoneTypes))])
	if ex == nil {
		ex = phonenumbers.GetExampleNumber(r)
	}
	nsn = phonenumbers.GetNationalSignificantNumber(ex)
	switch g.r.IntN(8) {
	case 0: // typo
		i := g.r.IntN(len(nsn))
		nsn = nsn[:i] + strconv.Itoa(g.r.IntN(10)) + nsn[i+1:]
	case 1: // digit missing
		i := g.r.IntN(len(nsn))
		nsn = nsn[:i] + nsn[i+1:]
	case 2: // digit too many
		i := g.r.IntN(len(nsn) + 1)
		nsn = nsn[:i] + strconv.Itoa(g.r.IntN(10)) + nsn[i:]
	case 3: // same prefix, random subscriber number
		k := min(len(nsn), 1+g.r.IntN(4))
		nsn = nsn[:k] + g.digits(g.r.IntN(12))
	}
	return cc, nsn
}

func (g *phoneGen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

// input returns one raw phone value for default region.
func (g *phoneGen) input(region string) string {
	cc, nsn := g.nsn(region)
	c := strconv.Itoa(cc)
	np := phonenumbers.GetNddPrefixForRegion(strings.ToUpper(region), true)
	var prefix string
	switch g.r.IntN(14) {
	case 0, 1, 2, 3:
		prefix = np
	case 4:
		prefix = ""
	case 5, 6:
		prefix = "+" + c
	case 7:
		prefix = "+" + c + g.pick("(0)", " (0) ", "0", " (1) ", "1")
	case 8:
		prefix = g.pick("00", "011", "0011", "000", "810", "00 ", "0 0") + c
	case 9:
		prefix = c + g.pick("", "0", " ")
	case 10:
		prefix = g.pick("+0", "+00", "+0049", "++", "+ ", "(+", "+011") + c
	case 11:
		prefix = g.pick("0", "00", "1", "180020", "06", "8", "0")
	case 12:
		prefix = g.pick("+", "+"+c+"0"+np, np+np, "+"+g.digits(1+g.r.IntN(3)))
	case 13:
		return g.junk(region)
	}
	s := g.format(prefix + nsn)
	if strings.HasPrefix(prefix, "+") && !strings.HasPrefix(s, "+") {
		s = "+" + s
	}
	if g.r.IntN(12) == 0 {
		s = g.decorate(s)
	}
	return s
}

// format splits the digits (and any "+") of s into groups with the
// separators people type.
func (g *phoneGen) format(s string) string {
	var b strings.Builder
	style := g.r.IntN(6)
	for i := 0; i < len(s); i++ {
		if i > 0 && s[i-1] != '+' && g.r.IntN(4) == 0 {
			switch style {
			case 0:
			case 1:
				b.WriteByte(' ')
			case 2:
				b.WriteString(g.pick("-", " - ", "/", " / ", ".", " "))
			default:
				b.WriteString(g.pick(" ", "-", "/", ".", "(", ")", " (", ") ", "  "))
			}
		}
		b.WriteByte(s[i])
	}
	out := b.String()
	if style == 5 && len(out) > 3 {
		k := 1 + g.r.IntN(min(5, len(out)-1))
		out = "(" + out[:k] + ") " + out[k:]
	}
	return out
}

// decorate adds what the fast path must leave alone: extensions,
// letters, other punctuation, other digits and spaces.
func (g *phoneGen) decorate(s string) string {
	switch g.r.IntN(10) {
	case 0:
		return s + g.pick(" x12", "x12", " ext. 3", " ext 42", ";ext=7", " #", "#", " - 503#", ",,12", ";123")
	case 1:
		return g.pick("Tel. ", "tel:", "Tel: ", "Mobil ", "☎ ", "- ", "(", "[") + s
	case 2:
		return s + g.pick(" ", ".", "-", ")", " (privat)", " / ", " ab 18 Uhr", "/x12")
	case 3:
		return strings.ReplaceAll(s, " ", g.pick("\u00a0", "\t", "  ", "\u2009", "\u3000"))
	case 4:
		return strings.Replace(s, "+", g.pick("＋", "++", "+ +", ""), 1)
	case 5:
		i := g.r.IntN(len(s) + 1)
		return s[:i] + g.pick("a", "O", "l", "ABC", "x", "*", "~", "[", "]", "–", ",", ";") + s[i:]
	case 6:
		return strings.Map(func(r rune) rune {
			if '0' <= r && r <= '9' && g.r.IntN(3) == 0 {
				return '٠' + (r - '0')
			}
			return r
		}, s)
	case 7:
		return s + g.pick(" / ", ", ", "; ", " oder ") + g.format("0"+g.digits(9))
	case 8:
		return g.pick("+", "(", "") + s + g.pick(")", "")
	}
	return s + " " + s
}

// junk returns values that are not plain numbers at all.
func (g *phoneGen) junk(region string) string {
	switch g.r.IntN(6) {
	case 0:
		return g.digits(g.r.IntN(25))
	case 1:
		return g.pick("n/a", "-", "+", "0", "00", "+0", "keine", "1-800-FLOWERS", "0800-FLOWERS", "tel:+49-30-1234567", "tel:030-1234567;phone-context=+49", "+49 30 1234567;isub=12")
	case 2:
		return g.pick("+", "00", "") + g.digits(1+g.r.IntN(3)) + g.pick(" ", "-", "") + g.digits(g.r.IntN(15))
	case 3:
		var b strings.Builder
		for range 1 + g.r.IntN(20) {
			b.WriteByte(" +-()./0123456789"[g.r.IntN(17)])
		}
		return b.String()
	case 4:
		return strings.Repeat(g.digits(1), 2+g.r.IntN(20))
	}
	return g.decorate(g.input(region))
}

func FuzzFastPhone(f *testing.F) {
	g := newPhoneGen(rand.New(rand.NewPCG(3, 4)))
	for range 200 {
		region := fastPhoneRegions[g.r.IntN(len(fastPhoneRegions))]
		f.Add(g.input(region), region)
	}
	f.Fuzz(func(t *testing.T, s, region string) {
		checkFastPhone(t, s, region)
	})
}

func BenchmarkPhoneFormats(b *testing.B) {
	inputs := []struct{ name, region, format string }{
		{"national", "DE", "0171 %07d"},
		{"plus", "DE", "+49 30 %07d"},
		{"idd", "DE", "0049 (30) %07d"},
		{"slash", "DE", "030/%07d"},
		{"us", "US", "(415) 5%07d"},
	}
	for _, in := range inputs {
		raws := make([]string, 1024)
		for i := range raws {
			raws[i] = fmt.Sprintf(in.format, 1000000+i*7919)
		}
		b.Run(in.name+"/full", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				fullParsePhone(raws[i%len(raws)], in.region)
			}
		})
		b.Run(in.name+"/fast", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				parsePhone(raws[i%len(raws)], in.region)
			}
		})
	}
}
