package normalize

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// Name returns a person's or company's name for matching: trimmed, runs of
// white space collapsed to one space, control and format characters (such
// as zero-width spaces) dropped, Unicode NFC, and case-folded, so "MÜLLER",
// "Müller" and "müller" match, and so do "Strauß" and "STRAUSS".
func Name(raw string) (string, bool) {
	s := clean(raw)
	if s == "" {
		return "", false
	}
	// Folding can leave a string that is not NFC; normalizing once more
	// keeps the output stable under a second pass.
	return norm.NFC.String(strings.Map(cherokeeUpper, cases.Fold().String(s))), true
}

// cherokeeUpper works around x/text's Fold, which swaps the case of
// Cherokee letters instead of mapping both cases to the uppercase ones as
// Unicode's CaseFolding.txt does; without it Name would not be idempotent.
func cherokeeUpper(r rune) rune {
	if unicode.Is(unicode.Cherokee, r) {
		return unicode.ToUpper(r)
	}
	return r
}

// Display returns a name for showing: cleaned like Name but with its case
// kept, except that a name written all in upper or all in lower case is
// title-cased ("JANE DOE" and "jane doe" become "Jane Doe"). Mixed case
// is left alone, since it is usually deliberate ("McDonald", "van Dijk").
func Display(raw string) string {
	s := clean(raw)
	if s != strings.ToUpper(s) && s != strings.ToLower(s) {
		return s
	}
	return norm.NFC.String(cases.Title(language.Und).String(s))
}

// clean trims, collapses white space, drops invisible characters and
// applies NFC.
func clean(raw string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFC.String(raw) {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == unicode.ReplacementChar:
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

// Lower returns the value trimmed, NFC-normalized and lowercased, for
// identifiers whose case carries no meaning. An empty value is not ok.
func Lower(raw string) (string, bool) {
	s := strings.ToLower(norm.NFC.String(strings.TrimSpace(raw)))
	s = norm.NFC.String(s)
	return s, s != ""
}
