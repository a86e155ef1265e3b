package normalize

import (
	"fmt"
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

// ByName returns the normalizer called name: email, phone, name,
// postal_code, country, date, lower, or none (the value as it is; only an
// empty value is not ok).
func ByName(name string, opt Options) (Func, error) {
	switch name {
	case "email":
		return func(s string) (string, bool) { return Email(s, opt.Email) }, nil
	case "phone":
		region := strings.ToUpper(opt.DefaultRegion)
		if region != "" && !phonenumbers.GetSupportedRegions()[region] {
			return nil, fmt.Errorf("phone: unknown default region %q (want an ISO 3166-1 alpha-2 code such as DE)", opt.DefaultRegion)
		}
		return func(s string) (string, bool) { return Phone(s, region) }, nil
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
