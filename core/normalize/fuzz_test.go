package normalize

import (
	"strings"
	"testing"
)

// checkIdempotent fails when f accepts s but does not map its own output
// to itself.
func checkIdempotent(t *testing.T, name string, f Func, s string) {
	t.Helper()
	out, ok := f(s)
	if !ok {
		if out != "" {
			t.Errorf("%s(%q) = %q, false; a rejected value must come back empty", name, s, out)
		}
		return
	}
	if out == "" {
		t.Errorf("%s(%q) accepted an empty result", name, s)
	}
	again, ok := f(out)
	if !ok || again != out {
		t.Errorf("%s(%q) = %q, but %s(%q) = %q, %v", name, s, out, name, out, again, ok)
	}
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{"Jane.Doe+x@Gmail.com", "jürgen@müller.de", "a <b@c.de>", "mailto:x@y.org", "a.+b@c.de", "@", "x@xn--mller-kva.de",
		"x@" + strings.Repeat("aü.", 26) + "de"} {
		f.Add(s, false, false)
	}
	f.Fuzz(func(t *testing.T, s string, dots, plus bool) {
		opt := EmailOptions{StripDots: dots, StripPlus: plus}
		checkIdempotent(t, "Email", func(s string) (string, bool) { return Email(s, opt) }, s)
	})
}

// plainEmail keeps only addresses the full path keeps as they are.
func FuzzPlainEmail(f *testing.F) {
	for _, s := range []string{"jane.doe@example.org", "a+b@gmail.com", "x@1.2", "x@a-.de", "x@-a.de", "x@a--b.de",
		"x@a.1de", "x.@a.de", "a..b@c.de", "o'brien@c.de", "x@c.de.", "Jane@c.de", "x@xn--mller-kva.de", "a@b@c.de"} {
		f.Add(s, false, false)
		f.Add(s, true, true)
	}
	f.Fuzz(func(t *testing.T, s string, dots, plus bool) {
		s = strings.TrimSpace(s)
		opt := EmailOptions{StripDots: dots, StripPlus: plus}
		if plainEmail(s, opt) {
			if got, ok := fullEmail(s, opt); !ok || got != s {
				t.Errorf("plainEmail keeps %q (options %+v); the full path gives %q, %v", s, opt, got, ok)
			}
		}
	})
}

func FuzzPhone(f *testing.F) {
	for _, s := range []string{"0171 1234567", "+49 (0)30 901820", "(415) 555-2671", "+800 1234 5678", "0049171", "1-800-FLOWERS"} {
		f.Add(s, "DE")
		f.Add(s, "US")
	}
	f.Fuzz(func(t *testing.T, s, region string) {
		checkIdempotent(t, "Phone", func(s string) (string, bool) { return parsePhone(s, region) }, s)
		if out, ok := parsePhone(s, region); ok {
			if _, _, ok := PhoneNational(out); !ok {
				t.Errorf("PhoneNational(%q) not ok for Phone output", out)
			}
		}
	})
}

func FuzzName(f *testing.F) {
	for _, s := range []string{"  Jane  Doe", "STRAUß", "Mu\u0308ller", "ǅemal", "ﬃ", "İstanbul", "\u0345"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkIdempotent(t, "Name", Name, s)
		if d := Display(s); Display(d) != d {
			t.Errorf("Display(%q) = %q, Display of that = %q", s, d, Display(d))
		}
	})
}

func FuzzLower(f *testing.F) {
	for _, s := range []string{"ABC", " Ä ", "İ", "\u0345"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkIdempotent(t, "Lower", Lower, s) })
}

func FuzzPostalCode(f *testing.F) {
	for _, s := range []string{"sw1a 1aa", "10115", "-1-", "12345-6789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkIdempotent(t, "PostalCode", PostalCode, s) })
}

func FuzzCountry(f *testing.F) {
	for _, s := range []string{"Deutschland", "U.S.A.", "Côte d'Ivoire", "DEU", "&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkIdempotent(t, "Country", Country, s) })
}

func FuzzDate(f *testing.F) {
	for _, s := range []string{"1980-02-29", "29.02.1980", "19800229", "1980-02-29T10:00:00Z", "9999-12-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkIdempotent(t, "Date", Date, s) })
}
