package normalize

import (
	"regexp"

	"github.com/nyaruka/phonenumbers"
)

// This file answers the validity questions the fast path asks of
// libphonenumber (IsValidNumber, GetRegionCodeForNumber,
// IsValidNumberForRegion, IsPossibleNumberWithReason) with the same
// results, on a national significant number given as its digits. The
// library matches each number type's pattern with regexp, one after
// another, which makes up most of the cost of a parse; here all of a
// region's patterns run as one digitDFA, compiled the first time the
// region is asked about.

// The number descriptions of a region, in the order getNumberTypeHelper
// tries them, general first.
const (
	descGeneral = iota
	descPremiumRate
	descTollFree
	descSharedCost
	descVoip
	descPersonal
	descPager
	descUAN
	descVoicemail
	descFixedLine
	descMobile
	numDescs
)

// descTypes are the number types that descPremiumRate..descVoicemail
// decide alone.
var descTypes = [numDescs]phonenumbers.PhoneNumberType{
	descPremiumRate: phonenumbers.PREMIUM_RATE,
	descTollFree:    phonenumbers.TOLL_FREE,
	descSharedCost:  phonenumbers.SHARED_COST,
	descVoip:        phonenumbers.VOIP,
	descPersonal:    phonenumbers.PERSONAL_NUMBER,
	descPager:       phonenumbers.PAGER,
	descUAN:         phonenumbers.UAN,
	descVoicemail:   phonenumbers.VOICEMAIL,
}

func descsOf(md *phonenumbers.PhoneMetadata) [numDescs]*phonenumbers.PhoneNumberDesc {
	return [numDescs]*phonenumbers.PhoneNumberDesc{
		md.GetGeneralDesc(), md.GetPremiumRate(), md.GetTollFree(),
		md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(),
		md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetFixedLine(),
		md.GetMobile(),
	}
}

// phoneRules is one region's metadata compiled for matching.
type phoneRules struct {
	descs *digitDFA // bit i: description i's pattern; nil if all fall back
	// lengthOK[n] has bit i set when description i allows national
	// numbers of n digits: n is among its possible lengths, or it lists
	// none. Longer numbers than any listed get anyLength.
	lengthOK  []uint16
	anyLength uint16
	// fallback holds the patterns the DFA could not take, by bit.
	fallback []fallbackPattern
	// leading matches the region's leading digits, which decide whether
	// a number of a shared calling code belongs to it; leadingRE stands
	// in if the DFA cannot take the pattern.
	leading            *digitDFA
	leadingRE          *regexp.Regexp
	hasLeading         bool
	sameMobileAndFixed bool
}

type fallbackPattern struct {
	bit uint16
	re  *regexp.Regexp
}

func compileRules(md *phonenumbers.PhoneMetadata) *phoneRules {
	r := &phoneRules{sameMobileAndFixed: md.GetSameMobileAndFixedLinePattern()}
	descs := descsOf(md)
	longest := int32(phonenumbers.MAX_LENGTH_FOR_NSN)
	for _, d := range descs {
		for _, n := range d.GetPossibleLength() {
			longest = max(longest, n)
		}
	}
	r.lengthOK = make([]uint16, longest+1)
	var patterns [numDescs]string
	for i, d := range descs {
		patterns[i] = d.GetNationalNumberPattern()
		bit := uint16(1) << i
		if len(d.GetPossibleLength()) == 0 {
			r.anyLength |= bit
			for n := range r.lengthOK {
				r.lengthOK[n] |= bit
			}
			continue
		}
		for _, n := range d.GetPossibleLength() {
			if n >= 0 { // -1: the region has no such numbers
				r.lengthOK[n] |= bit
			}
		}
	}
	var failed uint16
	r.descs, failed = compileDigitDFA(patterns[:])
	for i, p := range patterns {
		if failed&(1<<i) != 0 {
			r.fallback = append(r.fallback, fallbackPattern{1 << i, regexp.MustCompile("^(?:" + p + ")$")})
		}
	}
	if ld := md.GetLeadingDigits(); ld != "" {
		r.hasLeading = true
		if r.leading, failed = compileDigitDFA([]string{ld}); failed != 0 {
			r.leading = nil
			r.leadingRE = regexp.MustCompile("^(?:" + ld + ")")
		}
	}
	return r
}

// matches returns the descriptions nsn matches as isNumberMatchingDesc
// decides: a possible length and a full match of the pattern.
func (r *phoneRules) matches(nsn string) uint16 {
	var m uint16
	if r.descs != nil {
		m = r.descs.fullMatch(nsn)
	}
	for _, f := range r.fallback {
		if f.re.MatchString(nsn) {
			m |= f.bit
		}
	}
	if len(nsn) < len(r.lengthOK) {
		return m & r.lengthOK[len(nsn)]
	}
	return m & r.anyLength
}

// numberType is getNumberTypeHelper: the type of the national
// significant number nsn in this region, UNKNOWN if it is not valid here.
func (r *phoneRules) numberType(nsn string) phonenumbers.PhoneNumberType {
	m := r.matches(nsn)
	has := func(i int) bool { return m&(1<<i) != 0 }
	if !has(descGeneral) {
		return phonenumbers.UNKNOWN
	}
	for i := descPremiumRate; i <= descVoicemail; i++ {
		if has(i) {
			return descTypes[i]
		}
	}
	switch {
	case has(descFixedLine) && (r.sameMobileAndFixed || has(descMobile)):
		return phonenumbers.FIXED_LINE_OR_MOBILE
	case has(descFixedLine):
		return phonenumbers.FIXED_LINE
	case !r.sameMobileAndFixed && has(descMobile):
		return phonenumbers.MOBILE
	}
	return phonenumbers.UNKNOWN
}

// leads reports whether the region's leading digits match the start of
// nsn. It is false for a region without leading digits.
func (r *phoneRules) leads(nsn string) bool {
	switch {
	case r.leading != nil:
		return r.leading.prefixMatch(nsn) != 0
	case r.leadingRE != nil:
		return r.leadingRE.MatchString(nsn)
	}
	return false
}

// validForRegion is IsValidNumberForRegion for a number of c's calling
// code with the national significant number nsn.
func (c *phoneCountry) validForRegion(nsn string) bool {
	return c.rules().numberType(nsn) != phonenumbers.UNKNOWN
}

// regionOf is GetRegionCodeForNumber for a number of c's calling code:
// among the regions that share it, the first whose leading digits match,
// or for one without leading digits, for which nsn is valid. It is nil
// where the library returns "".
func (c *phoneCountry) regionOf(nsn string) *phoneCountry {
	if len(c.shared) == 1 {
		return c.shared[0]
	}
	for _, r := range c.shared {
		rules := r.rules()
		if rules.hasLeading {
			if rules.leads(nsn) {
				return r
			}
		} else if rules.numberType(nsn) != phonenumbers.UNKNOWN {
			return r
		}
	}
	return nil
}

// valid is IsValidNumber for a number of c's calling code.
func (c *phoneCountry) valid(nsn string) bool {
	r := c.regionOf(nsn)
	return r != nil && r.validForRegion(nsn)
}

// possible is IsPossibleNumberWithReason for a number of c's calling
// code: it judges the length of nsn by the general description of the
// code's main region, as testNumberLength does for type UNKNOWN.
func (c *phoneCountry) possible(nsn string) phonenumbers.ValidationResult {
	general := c.shared[0].md.GetGeneralDesc()
	n := int32(len(nsn))
	if general.GetNationalNumberPattern() == "" {
		switch {
		case n < phonenumbers.MIN_LENGTH_FOR_NSN:
			return phonenumbers.TOO_SHORT
		case n > phonenumbers.MAX_LENGTH_FOR_NSN:
			return phonenumbers.TOO_LONG
		}
		return phonenumbers.IS_POSSIBLE
	}
	lengths := general.GetPossibleLength()
	if lengths[0] == -1 {
		return phonenumbers.INVALID_LENGTH
	}
	for _, l := range general.GetPossibleLengthLocalOnly() {
		if l == n {
			return phonenumbers.IS_POSSIBLE_LOCAL_ONLY
		}
	}
	switch {
	case lengths[0] == n:
		return phonenumbers.IS_POSSIBLE
	case lengths[0] > n:
		return phonenumbers.TOO_SHORT
	case lengths[len(lengths)-1] < n:
		return phonenumbers.TOO_LONG
	}
	for _, l := range lengths[1:] {
		if l == n {
			return phonenumbers.IS_POSSIBLE
		}
	}
	return phonenumbers.INVALID_LENGTH
}
