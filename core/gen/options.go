package gen

import (
	"errors"
	"fmt"
	"time"
)

// Options shape a generated data set. Every rate is a probability in
// [0, 1]; DefaultOptions gives values that look like a mid-sized German
// web shop after a few years of business.
type Options struct {
	People int    // how many people exist behind the silos
	Seed   uint64 // same seed and options, same bytes

	// In how many people each silo holds a record. A person in none of
	// the offline silos is put into the CRM, so every person is findable.
	CRMRate, ShopRate, HelpdeskRate, MailRate, WooRate float64

	EmailNoise   float64 // an address written with odd case or surrounding spaces
	PhoneIntl    float64 // a phone number written internationally (+49 ...) rather than nationally (0151 ...)
	Typo         float64 // a name with a typo (a letter dropped, doubled or swapped)
	SwappedNames float64 // first and last name swapped in a record
	Duplicate    float64 // a second record of the same person in the CRM, helpdesk or WooCommerce
	RoleMailbox  float64 // a person with a company who uses its info@ address in the CRM
	SharedPhone  float64 // a person living with the previous one, sharing the family landline
	EmailChange  float64 // a person who changed address: the old one in the CRM and WooCommerce, the new one elsewhere
	Bridge       float64 // of those, the share with a record carrying the new address and the phone the CRM knows
	Years        int     // records are spread over this many years before End
	End          time.Time
	ShopDomain   string // the company's own domain (mail to and from it is the shop's side)
}

// DefaultOptions returns the defaults `desilo gen` documents.
func DefaultOptions() Options {
	return Options{
		People:       1000,
		Seed:         1,
		CRMRate:      0.6,
		ShopRate:     0.5,
		HelpdeskRate: 0.3,
		MailRate:     0.3,
		WooRate:      0.25,
		EmailNoise:   0.1,
		PhoneIntl:    0.4,
		Typo:         0.03,
		SwappedNames: 0.01,
		Duplicate:    0.04,
		RoleMailbox:  0.1,
		SharedPhone:  0.03,
		EmailChange:  0.05,
		Bridge:       0.5,
		Years:        6,
		End:          time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC),
		ShopDomain:   "lindenblatt-kaffee.de",
	}
}

// Validate reports the first option that is out of range.
func (o Options) Validate() error {
	if o.People < 1 {
		return fmt.Errorf("people: %d, want at least 1", o.People)
	}
	if o.Years < 1 || o.Years > 30 {
		return fmt.Errorf("years: %d, want 1 to 30", o.Years)
	}
	if o.End.IsZero() {
		return errors.New("end: not set")
	}
	if o.ShopDomain == "" {
		return errors.New("shop domain: not set")
	}
	for _, r := range []struct {
		name string
		v    float64
	}{
		// Named as the flags of desilo gen, which prints them after "--".
		{"crm-rate", o.CRMRate}, {"shop-rate", o.ShopRate}, {"helpdesk-rate", o.HelpdeskRate},
		{"mail-rate", o.MailRate}, {"woo-rate", o.WooRate}, {"email-noise", o.EmailNoise},
		{"phone-intl", o.PhoneIntl}, {"typo", o.Typo}, {"swapped-names", o.SwappedNames},
		{"duplicate", o.Duplicate}, {"role-mailbox", o.RoleMailbox}, {"shared-phone", o.SharedPhone},
		{"email-change", o.EmailChange}, {"bridge", o.Bridge},
	} {
		if !(r.v >= 0 && r.v <= 1) {
			return fmt.Errorf("%s: %v, want a rate from 0 to 1", r.name, r.v)
		}
	}
	return nil
}
