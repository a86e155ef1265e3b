package normalize

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Func normalizes one raw value; ok is false when the value must not be
// used.
type Func func(raw string) (string, bool)

// Options configures the normalizers that need it.
type Options struct {
	// DefaultRegion is the ISO 3166-1 alpha-2 region of phone numbers
	// written without an international prefix.
	DefaultRegion string
	Email         EmailOptions
}

// Names lists the normalizers ByName knows.
var Names = []string{"email", "phone", "name", "postal_code", "country", "date", "lower", "none"}

// ByName returns the normalizer called name, as match keys use it: email,
// phone (PhoneKey: E.164, and an extension if written), name,
// postal_code, country, date, lower, or none (the value as it is; only an
// empty value is not ok).
func ByName(name string, opt Options) (Func, error) {
	switch name {
	case "email":
		return func(s string) (string, bool) { return Email(s, opt.Email) }, nil
	case "phone":
		region, err := phoneRegion(opt.DefaultRegion)
		if err != nil {
			return nil, err
		}
		return func(s string) (string, bool) { return PhoneKey(s, region) }, nil
	case "name":
		return Name, nil
	case "postal_code":
		return PostalCode, nil
	case "country":
		return Country, nil
	case "date":
		return Date, nil
	case "lower":
		return Lower, nil
	case "none":
		return func(s string) (string, bool) { return s, s != "" }, nil
	}
	return nil, fmt.Errorf("unknown normalizer %q (want one of %s)", name, strings.Join(Names, ", "))
}

// PhoneFunc returns Phone (E.164, extensions dropped) with a default
// region, checked as ByName checks the phone normalizer's.
func PhoneFunc(defaultRegion string) (Func, error) {
	region, err := phoneRegion(defaultRegion)
	if err != nil {
		return nil, err
	}
	return func(s string) (string, bool) { return Phone(s, region) }, nil
}

func phoneRegion(region string) (string, error) {
	r := strings.ToUpper(region)
	if r != "" && !phonenumbers.GetSupportedRegions()[r] {
		return "", fmt.Errorf("phone: unknown default region %q (want an ISO 3166-1 alpha-2 code such as DE)", region)
	}
	return r, nil
}

// ForField names the normalizer that suits a field (see ByName), from the words of the field's last path segment (split at "_",
// "-" and case changes are not split): email, phone or mobile → phone,
// date, dob, birthday or birthdate → date, postal_code, postcode, zip or
// zipcode → postal_code, country → country, a last word ending in
// "name" → name, anything else → lower. Words, not substrings: ids.adobe_id
// is no date of birth.
func ForField(field string) string {
	f := strings.ToLower(field)
	if i := strings.LastIndexByte(f, '.'); i >= 0 {
		f = f[i+1:]
	}
	words := strings.FieldsFunc(f, func(r rune) bool { return r == '_' || r == '-' || r == ' ' })
	has := func(ws ...string) bool {
		return slices.ContainsFunc(words, func(w string) bool { return slices.Contains(ws, w) })
	}
	switch {
	case strings.Contains(f, "email") || strings.Contains(f, "e_mail"):
		return "email"
	case strings.Contains(f, "phone") || has("mobile", "cell", "tel"):
		return "phone"
	case has("date", "dob", "birthday", "birthdate"):
		return "date"
	case has("postcode", "zip", "zipcode") || strings.Contains(f, "postal_code"):
		return "postal_code"
	case has("country"):
		return "country"
	case len(words) > 0 && strings.HasSuffix(words[len(words)-1], "name"):
		return "name"
	}
	return "lower"
}
