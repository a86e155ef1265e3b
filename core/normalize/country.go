package normalize

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Country returns the ISO 3166-1 alpha-2 code of a country given by its
// alpha-2 or alpha-3 code or by a common English or German name, in any
// case and with or without diacritics: "Deutschland", "Germany", "DEU" and
// "de" all give "DE". The reserved code "UK" gives "GB". An unknown name
// is not ok.
func Country(raw string) (string, bool) {
	countriesOnce.Do(loadCountries)
	c, ok := countries[countryKey(raw)]
	return c, ok
}

// CountryName returns the English short name of an alpha-2 code.
func CountryName(alpha2 string) (string, bool) {
	countriesOnce.Do(loadCountries)
	n, ok := countryNames[strings.ToUpper(alpha2)]
	return n, ok
}

var (
	countriesOnce sync.Once
	countries     map[string]string // countryKey of a code or name → alpha-2
	countryNames  map[string]string // alpha-2 → English name
)

func loadCountries() {
	countries = map[string]string{}
	countryNames = map[string]string{}
	for _, line := range strings.Split(iso3166, "\n") {
		a2, rest, _ := strings.Cut(line, " ")
		a3, name, _ := strings.Cut(rest, " ")
		countryNames[a2] = name
		for _, k := range []string{a2, a3, name} {
			countries[countryKey(k)] = a2
		}
	}
	for _, line := range strings.Split(countryAliases, "\n") {
		a2, names, _ := strings.Cut(line, " ")
		for _, n := range strings.Split(names, ";") {
			countries[countryKey(n)] = a2
		}
	}
}

// countryKey folds the spellings of a name together: case, diacritics,
// punctuation, "&" for "and", and runs of spaces.
func countryKey(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r), r == '.', r == '\'', r == '’':
		case r == 'ß':
			b.WriteString("ss")
		case r == '&':
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("and")
			space = true
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			space = b.Len() > 0
		}
	}
	return b.String()
}
