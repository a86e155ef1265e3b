package profile

import (
	"math"
	"testing"

	"github.com/desilo/desilo/core/config"
)

// FuzzProfile feeds source text into every field a profile normalizes or
// interprets: whatever a source holds, the build succeeds and its rows
// fit their schemas.
func FuzzProfile(f *testing.F) {
	f.Add("Jane.Doe@Example.com", "030 1234567", "Müller", "Deutschland", "cancelled", "Web", "EUR", 12.5)
	f.Add("not an email", "+", "", "", "", "", "", -1.0)
	f.Add("a@b.c", "+1 212 555 0100", "\u200b", "UK", "refunded", "ÉMAIL", "usd", 1e13)
	b := newBuilder(f, config.Survivorship{Default: config.MostFrequent})
	f.Fuzz(func(t *testing.T, email, phone, name, country, status, channel, cur string, total float64) {
		if math.IsNaN(total) || math.Abs(total) >= maxAmount {
			t.Skip("amounts are finite and below 10^14 (the order schema and num enforce it)")
		}
		curV := any(cur)
		if len(cur) != 3 || !isLetters(cur) { // the order schema's pattern
			curV = nil
		}
		at := ts("2024-01-01T00:00:00Z")
		r := &Records{
			CustomerID: "c_fuzz",
			Customers: []Row{
				cust(t, "crm", "1", fields{"email": email, "phone": phone, "last_name": name, "city": name, "country": country, "updated_at": at}),
				cust(t, "shop", "1", fields{"email": name, "phone": country, "last_name": email, "country": name}),
			},
			Orders:  []Row{order(t, "1", fields{"email": email, "phone": phone, "status": status, "total": total, "currency": curV, "ordered_at": at})},
			Tickets: []Row{ticket(t, "1", fields{"email": name, "channel": channel})},
			Events:  []Row{event(t, "crm", "1", fields{"type": "refund", "amount": total, "currency": curV, "channel": channel})},
		}
		out := build(t, b, r)
		checkInputs(t, b, r, out)
		if err := AssignRFM([][]any{out}); err != nil {
			t.Fatal(err)
		}
		validate(t, "customer", out)
		for _, row := range journey(t, b, r) {
			validate(t, "event", row)
		}
	})
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
