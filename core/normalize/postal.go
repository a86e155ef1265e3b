package normalize

import (
	"strings"
	"time"
	"unicode"
)

// PostalCode returns a postal code for matching: uppercase, with all
// white space removed ("sw1a 1aa" → "SW1A1AA"). Only ASCII letters,
// digits and hyphens are accepted, at most 12 of them, with at least one
// digit or letter.
func PostalCode(raw string) (string, bool) {
	var b strings.Builder
	for _, r := range raw {
		switch {
		case unicode.IsSpace(r):
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z', r == '-':
			b.WriteRune(r)
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		default:
			return "", false
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" || len(s) > 12 {
		return "", false
	}
	return s, true
}

// Date returns a calendar date as YYYY-MM-DD. It reads YYYY-MM-DD (also
// as the start of an RFC 3339 timestamp, whose date is taken as written),
// YYYY/MM/DD, YYYYMMDD and the German DD.MM.YYYY. Day-first and
// month-first slash forms (01/02/1990) are ambiguous and rejected; map
// them with an explicit layout instead. The date must exist.
func Date(raw string) (string, bool) {
	s := strings.TrimSpace(raw)
	if len(s) > 10 && s[4] == '-' && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	for _, layout := range []string{"2006-01-02", "2006/01/02", "20060102", "02.01.2006", "2.1.2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1 {
				return "", false
			}
			return t.Format("2006-01-02"), true
		}
	}
	return "", false
}
