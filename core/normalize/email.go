package normalize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// EmailOptions switches provider rules that make different spellings of
// one mailbox compare equal. Both are off by default because they are
// only right for providers that deliver those spellings to one mailbox.
type EmailOptions struct {
	// StripDots removes dots from the local part of Gmail addresses
	// (gmail.com, googlemail.com) and writes the domain as gmail.com.
	StripDots bool
	// StripPlus drops a "+tag" suffix of the local part, for any domain.
	StripPlus bool
}

// Email returns the address trimmed, lowercased and with its domain in
// ASCII (IDNA punycode). It accepts a "mailto:" prefix and a display form
// such as "Jane Doe <jane@example.org>". It rejects anything that is not
// a plausible mailbox: no single @, an empty or over-long part, spaces,
// quoted local parts, IP-literal domains, or a domain without a dot.
func Email(raw string, opt EmailOptions) (string, bool) {
	s := strings.TrimSpace(raw)
	if plainEmail(s, opt) {
		return s, true
	}
	return fullEmail(s, opt)
}

// plainEmail reports whether s is an address that Email keeps as it is:
// ASCII, one '@', a local part validLocal accepts as it is (so lower
// case), a domain plainDomain keeps as it is, and no provider rule that
// applies. Most addresses are, and deciding them with the full path's own
// checks, minus its lowering, Unicode normalization and copying, saves
// most of its cost. Anything else is left to fullEmail.
func plainEmail(s string, opt EmailOptions) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || len(s)-at-1 > 253 || !isASCII(s) {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if !validLocal(local) || opt.StripPlus && strings.IndexByte(local, '+') >= 0 ||
		opt.StripDots && (domain == "gmail.com" || domain == "googlemail.com") {
		return false
	}
	a, ok := plainDomain(domain)
	return ok && a == domain && validLabels(a)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// fullEmail is Email for a trimmed address plainEmail did not decide.
func fullEmail(s string, opt EmailOptions) (string, bool) {
	if i := strings.LastIndexByte(s, '<'); i >= 0 && strings.HasSuffix(s, ">") {
		s = strings.TrimSpace(s[i+1 : len(s)-1])
	}
	if len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", false
	}
	local, domain := norm.NFC.String(strings.ToLower(s[:at])), s[at+1:]
	if !validLocal(local) {
		return "", false
	}
	domain, ok := Domain(domain)
	if !ok {
		return "", false
	}
	if opt.StripPlus {
		if i := strings.IndexByte(local, '+'); i > 0 {
			if l := strings.TrimRight(local[:i], "."); l != "" {
				local = l
			}
		}
	}
	if opt.StripDots && (domain == "gmail.com" || domain == "googlemail.com") {
		if l := strings.ReplaceAll(local, ".", ""); l != "" {
			local = l
		}
		domain = "gmail.com"
	}
	return local + "@" + domain, true
}

// validLocal accepts the unquoted local parts of RFC 5322 (dot-atom) with
// the non-ASCII letters RFC 6531 allows.
func validLocal(l string) bool {
	if l == "" || len(l) > 64 || !utf8.ValidString(l) {
		return false
	}
	if l[0] == '.' || l[len(l)-1] == '.' || strings.Contains(l, "..") {
		return false
	}
	for _, r := range l {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r < utf8.RuneSelf:
			if !strings.ContainsRune(".!#$%&'*+/=?^_`{|}~-", r) {
				return false
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
		default:
			return false
		}
	}
	return true
}

// Domain returns a host name in lowercase ASCII (punycode for
// internationalized labels), without a trailing dot. It requires at least
// two labels, each of letters, digits and inner hyphens, and a top-level
// label that is not all digits.
func Domain(raw string) (string, bool) {
	s := strings.TrimSuffix(strings.TrimSpace(raw), ".")
	if s == "" || len(s) > 253 {
		return "", false
	}
	a, ok := plainDomain(s)
	if !ok {
		if !utf8.ValidString(s) {
			return "", false
		}
		var err error
		if a, err = idna.Lookup.ToASCII(s); err != nil {
			return "", false
		}
		// IDNA maps full stops such as "。" to ".", so a root dot written
		// that way shows only now.
		a = strings.TrimSuffix(a, ".")
		// The ASCII form must be a fixed point, or a second pass would
		// give a different answer.
		if again, err := idna.Lookup.ToASCII(a); err != nil || again != a {
			return "", false
		}
	}
	if !validLabels(a) {
		return "", false
	}
	return a, true
}

// validLabels reports whether a, a domain in ASCII, has at most 253
// bytes and at least two labels, each of lower-case letters, digits and
// inner hyphens, and a top-level label that is not all digits. The length
// is checked here, on the ASCII form: punycode can make a domain longer.
func validLabels(a string) bool {
	if len(a) > 253 {
		return false
	}
	labels, last := 0, ""
	for l := range strings.SplitSeq(a, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
		labels, last = labels+1, l
	}
	return labels >= 2 && strings.Trim(last, "0123456789") != ""
}

// plainDomain is IDNA's lookup for the common domain: ASCII letters,
// digits, dots and single hyphens, whose ASCII form is itself in lower
// case. Anything else (non-ASCII, punycode "xn--", "--") is left to the
// idna package. It saves two IDNA passes on almost every address.
func plainDomain(s string) (string, bool) {
	upper := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.':
		case c == '-':
			if i > 0 && s[i-1] == '-' {
				return "", false
			}
		case c >= 'A' && c <= 'Z':
			upper = true
		default:
			return "", false
		}
	}
	if upper {
		return strings.ToLower(s), true
	}
	return s, true
}
