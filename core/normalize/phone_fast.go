package normalize

import (
	"bytes"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// fastPhone decides plain numbers such as "0171 1234567",
// "+49 (0)30 1234567" or "0049 30/1234567" without phonenumbers.Parse,
// whose regular expressions cost tens of microseconds a number. It
// retraces what Parse does for such input and then asks the same
// metadata questions (IsValidNumber, IsPossibleNumberWithReason) of the
// same national number, answered by phone_valid.go as the library
// answers them, so where it decides, its result is Parse's result.
// decided is false for anything it cannot retrace exactly: letters,
// extensions, unusual punctuation, calling codes written without "+" or
// an international prefix, leading zeros that are part of the number
// (Italy), and regions whose metadata needs regular expressions to find
// the international or national prefix. s is trimmed and bounded; region
// is upper case.
func fastPhone(s, region string) (e164 string, ok, decided bool) {
	var buf [24]byte
	digits, plus, plain := phoneDigits(s, buf[:0])
	// Parse rejects fewer than three digits once punctuation is present;
	// leave those to it.
	if !plain || len(digits) < 3 {
		return "", false, false
	}
	m := phoneMetadata()
	var c *phoneCountry
	var national []byte
	if plus {
		c, national = m.splitCallingCode(digits)
	} else {
		r := m.regions[region]
		if r == nil || r.idd == "" {
			return "", false, false
		}
		if rest, found := bytes.CutPrefix(digits, []byte(r.idd)); found {
			// Parse reads a zero after the prefix as a national number.
			if len(rest) == 0 || rest[0] == '0' {
				return "", false, false
			}
			c, national = m.splitCallingCode(rest)
		} else {
			// A national number that starts with the region's own calling
			// code may be that code written without "+"; Parse weighs
			// both readings with regular expressions.
			if !r.main || bytes.HasPrefix(digits, []byte(r.ccDigits)) {
				return "", false, false
			}
			c, national = r, digits
		}
	}
	if c == nil || !c.plain {
		return "", false, false
	}
	return c.nationalResult(string(national))
}

// phoneDigits returns the digits of s and whether s starts with "+". plain
// is false when s holds anything but ASCII digits, a leading "+" and the
// separators " -()./", or more digits than buf holds (24, beyond any
// real number; the full parse decides those).
func phoneDigits(s string, buf []byte) (digits []byte, plus, plain bool) {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case '0' <= b && b <= '9':
			if len(buf) == cap(buf) {
				return nil, false, false
			}
			buf = append(buf, b)
		case b == '+' && i == 0:
			plus = true
		case b == ' ' || b == '-' || b == '(' || b == ')' || b == '.' || b == '/':
		default:
			return nil, false, false
		}
	}
	return buf, plus, true
}

// nationalResult decides the national number that follows c's calling
// code, as Parse does after it has found the calling code: it strips a
// national prefix ("0") only when what remains has a possible length, and
// the number must then be valid.
func (c *phoneCountry) nationalResult(national string) (e164 string, ok, decided bool) {
	if len(national) < phonenumbers.MIN_LENGTH_FOR_NSN || len(national) > phonenumbers.MAX_LENGTH_FOR_NSN {
		return "", false, false
	}
	stripped, found := c.stripNationalPrefix(national)
	if !found {
		// A leading zero would stay part of the number (Italy).
		if national[0] == '0' {
			return "", false, false
		}
		if !c.valid(national) {
			return "", false, true
		}
		return "+" + c.ccDigits + national, true, true
	}
	if len(stripped) < phonenumbers.MIN_LENGTH_FOR_NSN || stripped[0] == '0' {
		return "", false, false
	}
	// Parse keeps either the stripped or the unstripped number. A
	// stripped number valid for c's own region fits the general pattern
	// of c's metadata, so Parse keeps it unless the length check below
	// says otherwise. valid is regionOf then validForRegion, spelled out
	// to see the region: a number of another region sharing the code (JE
	// under GB) is left to Parse.
	if region := c.regionOf(stripped); region != nil && region.validForRegion(stripped) {
		if region != c {
			return "", false, false
		}
		switch c.possible(stripped) {
		case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY, phonenumbers.INVALID_LENGTH:
			return "", false, false
		}
		return "+" + c.ccDigits + stripped, true, true
	}
	// Whichever of the two Parse keeps, neither is valid.
	if c.valid(national) {
		return "", false, false
	}
	return "", false, true
}

// stripNationalPrefix removes the first of c's national prefixes that
// national starts with, as the anchored alternation in the metadata
// matches.
func (c *phoneCountry) stripNationalPrefix(national string) (string, bool) {
	for _, p := range c.nationalPrefixes {
		if rest, found := strings.CutPrefix(national, p); found {
			return rest, true
		}
	}
	return national, false
}

// phoneCountry is what fastPhone needs of one region's metadata.
type phoneCountry struct {
	id       string // region code
	cc       int32
	ccDigits string
	// idd is the international prefix when it is a plain digit string
	// ("00", "011"), else empty.
	idd string
	// nationalPrefixes are the alternatives of the prefix Parse strips,
	// in metadata order ("0", or "0" and "180020" for GB).
	nationalPrefixes []string
	// plain is false when finding the national prefix needs a regular
	// expression or a transform rule, or the metadata has no general
	// pattern (IsPossibleNumberWithReason then differs from Parse).
	plain bool
	// main is true for the region that holds the metadata Parse uses for
	// its calling code (GB for 44, US for 1).
	main bool
	// shared are the regions of the calling code in the library's order,
	// the main one first.
	shared []*phoneCountry
	md     *phonenumbers.PhoneMetadata
	// rules is md compiled, on first use: a process meets few regions.
	rules func() *phoneRules
}

type phoneMeta struct {
	regions      map[string]*phoneCountry
	byCode       map[int]*phoneCountry // main region per calling code
	callingCodes map[int]bool          // including non-geographic ones
}

// splitCallingCode reads the calling code at the start of digits as
// Parse does after "+" or an international prefix. c is nil when Parse
// would fail or retry, or when the code is non-geographic (800, 882, ...).
func (m *phoneMeta) splitCallingCode(digits []byte) (c *phoneCountry, national []byte) {
	if len(digits) <= phonenumbers.MIN_LENGTH_FOR_NSN || digits[0] == '0' {
		return nil, nil
	}
	for n := 1; n <= phonenumbers.MAX_LENGTH_COUNTRY_CODE && n <= len(digits); n++ {
		code := 0
		for _, d := range digits[:n] {
			code = code*10 + int(d-'0')
		}
		if m.callingCodes[code] {
			return m.byCode[code], digits[n:]
		}
	}
	return nil, nil
}

var phoneMetadata = sync.OnceValue(loadPhoneMeta)

func loadPhoneMeta() *phoneMeta {
	m := &phoneMeta{
		regions:      map[string]*phoneCountry{},
		byCode:       map[int]*phoneCountry{},
		callingCodes: map[int]bool{},
	}
	for code := range phonenumbers.GetSupportedCallingCodes() {
		m.callingCodes[code] = true
	}
	// phonenumbers parses this collection at init and keeps the same
	// values for its own lookups, so fields read here are the ones Parse
	// reads. The error cannot occur after a successful init.
	coll, _ := phonenumbers.MetadataCollection()
	for _, md := range coll.GetMetadata() {
		id := md.GetId()
		if !phonenumbers.GetSupportedRegions()[id] {
			continue // non-geographic entities (001)
		}
		c := &phoneCountry{
			id:       id,
			md:       md,
			rules:    sync.OnceValue(func() *phoneRules { return compileRules(md) }),
			cc:       md.GetCountryCode(),
			ccDigits: strconv.Itoa(int(md.GetCountryCode())),
			main:     phonenumbers.GetRegionCodeForCountryCode(int(md.GetCountryCode())) == id,
			plain: md.GetNationalPrefixTransformRule() == "" &&
				md.GetGeneralDesc().GetNationalNumberPattern() != "",
		}
		if isDigits(md.GetInternationalPrefix()) {
			c.idd = md.GetInternationalPrefix()
		}
		if p := md.GetNationalPrefixForParsing(); p != "" {
			c.nationalPrefixes = strings.Split(p, "|")
			for _, alt := range c.nationalPrefixes {
				if !isDigits(alt) {
					c.plain = false
				}
			}
		}
		m.regions[id] = c
		if c.main {
			m.byCode[int(c.cc)] = c
		}
	}
	for _, c := range m.regions {
		for _, id := range phonenumbers.GetRegionCodesForCountryCode(int(c.cc)) {
			c.shared = append(c.shared, m.regions[id])
		}
	}
	return m
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
