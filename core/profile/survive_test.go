package profile

import (
	"reflect"
	"strings"
	"testing"

	"github.com/desilo/desilo/core/config"
)

func TestSurvivorshipRules(t *testing.T) {
	mostRecent := config.Survivorship{Default: config.MostRecent}
	frequent := config.Survivorship{Default: config.MostFrequent}
	crmFirst := config.Survivorship{Default: config.MostRecent, Fields: map[string]config.FieldRule{
		"last_name": {Rule: config.SourcePriority, SourcePriority: []string{"crm", "erp"}},
	}}
	tests := []struct {
		name  string
		surv  config.Survivorship
		recs  func(t *testing.T) []Row
		field string
		want  any
	}{
		{"most recent by updated_at", mostRecent, func(t *testing.T) []Row {
			return []Row{
				cust(t, "crm", "1", fields{"last_name": "Old", "created_at": ts("2024-05-01T00:00:00Z"), "updated_at": ts("2024-01-01T00:00:00Z")}),
				cust(t, "shop", "1", fields{"last_name": "New", "created_at": ts("2023-01-01T00:00:00Z"), "updated_at": ts("2024-02-01T00:00:00Z")}),
			}
		}, "last_name", "New"},
		{"most recent falls back to created_at", mostRecent, func(t *testing.T) []Row {
			return []Row{
				cust(t, "crm", "1", fields{"last_name": "Updated", "updated_at": ts("2024-01-01T00:00:00Z")}),
				cust(t, "shop", "1", fields{"last_name": "Created", "created_at": ts("2024-03-01T00:00:00Z")}),
				cust(t, "aaa", "1", fields{"last_name": "Timeless"}),
			}
		}, "last_name", "Created"},
		{"most recent skips empty values", mostRecent, func(t *testing.T) []Row {
			return []Row{
				cust(t, "crm", "1", fields{"last_name": "Kept", "updated_at": ts("2024-01-01T00:00:00Z")}),
				cust(t, "shop", "1", fields{"last_name": "  ", "updated_at": ts("2024-06-01T00:00:00Z")}),
				cust(t, "erp", "1", fields{"updated_at": ts("2024-06-02T00:00:00Z")}),
			}
		}, "last_name", "Kept"},
		{"most recent tie goes to the smallest source", mostRecent, func(t *testing.T) []Row {
			at := ts("2024-01-01T00:00:00Z")
			return []Row{
				cust(t, "shop", "1", fields{"first_name": "Shop", "updated_at": at}),
				cust(t, "crm", "2", fields{"first_name": "Crm", "updated_at": at}),
			}
		}, "first_name", "Crm"},
		{"most recent tie by record key", mostRecent, func(t *testing.T) []Row {
			at := ts("2024-01-01T00:00:00Z")
			return []Row{
				cust(t, "crm", "9", fields{"first_name": "Nine", "updated_at": at}),
				cust(t, "crm", "10", fields{"first_name": "Ten", "updated_at": at}), // "10" < "9" as text
			}
		}, "first_name", "Ten"},
		{"value is trimmed", mostRecent, func(t *testing.T) []Row {
			return []Row{cust(t, "crm", "1", fields{"company": "  Acme GmbH "})}
		}, "company", "Acme GmbH"},
		{"source priority beats recency", crmFirst, func(t *testing.T) []Row {
			return []Row{
				cust(t, "crm", "1", fields{"last_name": "Crm", "updated_at": ts("2020-01-01T00:00:00Z")}),
				cust(t, "shop", "1", fields{"last_name": "Shop", "updated_at": ts("2024-01-01T00:00:00Z")}),
			}
		}, "last_name", "Crm"},
		{"source priority takes the next listed source", crmFirst, func(t *testing.T) []Row {
			return []Row{
				cust(t, "crm", "1", fields{"updated_at": ts("2024-06-01T00:00:00Z")}),
				cust(t, "erp", "1", fields{"last_name": "Erp old", "updated_at": ts("2020-01-01T00:00:00Z")}),
				cust(t, "erp", "2", fields{"last_name": "Erp new", "updated_at": ts("2021-01-01T00:00:00Z")}),
				cust(t, "shop", "1", fields{"last_name": "Shop", "updated_at": ts("2024-01-01T00:00:00Z")}),
			}
		}, "last_name", "Erp new"},
		{"source priority falls back to most recent", crmFirst, func(t *testing.T) []Row {
			return []Row{
				cust(t, "crm", "1", fields{"first_name": "X", "updated_at": ts("2024-06-01T00:00:00Z")}),
				cust(t, "web", "1", fields{"last_name": "Web", "updated_at": ts("2023-01-01T00:00:00Z")}),
				cust(t, "shop", "1", fields{"last_name": "Shop", "updated_at": ts("2024-01-01T00:00:00Z")}),
			}
		}, "last_name", "Shop"},
		{"source priority applies only to its field", crmFirst, func(t *testing.T) []Row {
			return []Row{
				cust(t, "crm", "1", fields{"first_name": "Crm", "updated_at": ts("2020-01-01T00:00:00Z")}),
				cust(t, "shop", "1", fields{"first_name": "Shop", "updated_at": ts("2024-01-01T00:00:00Z")}),
			}
		}, "first_name", "Shop"},
		{"most frequent compares normalized names", frequent, func(t *testing.T) []Row {
			return []Row{
				cust(t, "a", "1", fields{"last_name": "MÜLLER", "updated_at": ts("2024-01-01T00:00:00Z")}),
				cust(t, "b", "1", fields{"last_name": "Müller", "updated_at": ts("2024-02-01T00:00:00Z")}),
				cust(t, "c", "1", fields{"last_name": "Meier", "updated_at": ts("2024-06-01T00:00:00Z")}),
			}
		}, "last_name", "Müller"}, // the group's most recent spelling
		{"most frequent tie goes to the most recent", frequent, func(t *testing.T) []Row {
			return []Row{
				cust(t, "a", "1", fields{"first_name": "Anna", "updated_at": ts("2024-01-01T00:00:00Z")}),
				cust(t, "b", "1", fields{"first_name": "Anne", "updated_at": ts("2024-03-01T00:00:00Z")}),
				cust(t, "c", "1", fields{"first_name": "anna", "updated_at": ts("2023-01-01T00:00:00Z")}),
				cust(t, "d", "1", fields{"first_name": "Anne", "updated_at": ts("2022-01-01T00:00:00Z")}),
			}
		}, "first_name", "Anne"},
		{"most frequent boolean", frequent, func(t *testing.T) []Row {
			return []Row{
				cust(t, "a", "1", fields{"consent_email": true, "updated_at": ts("2024-06-01T00:00:00Z")}),
				cust(t, "b", "1", fields{"consent_email": false}),
				cust(t, "c", "1", fields{"consent_email": false}),
			}
		}, "consent_email", false},
		{"most frequent date", frequent, func(t *testing.T) []Row {
			return []Row{
				cust(t, "a", "1", fields{"birth_date": day("1990-01-02"), "updated_at": ts("2024-06-01T00:00:00Z")}),
				cust(t, "b", "1", fields{"birth_date": day("1990-02-01")}),
				cust(t, "c", "1", fields{"birth_date": day("1990-02-01")}),
			}
		}, "birth_date", day("1990-02-01")},
		{"most frequent language lowercased", frequent, func(t *testing.T) []Row {
			return []Row{
				cust(t, "a", "1", fields{"language": "en", "updated_at": ts("2024-06-01T00:00:00Z")}),
				cust(t, "b", "1", fields{"language": "DE"}),
				cust(t, "c", "1", fields{"language": "de"}),
			}
		}, "language", "DE"}, // equal updated times (none): "b" < "c"
		{"false consent is a value", mostRecent, func(t *testing.T) []Row {
			return []Row{
				cust(t, "a", "1", fields{"consent_sms": true, "updated_at": ts("2024-01-01T00:00:00Z")}),
				cust(t, "b", "1", fields{"consent_sms": false, "updated_at": ts("2024-02-01T00:00:00Z")}),
			}
		}, "consent_sms", false},
		{"no value anywhere", mostRecent, func(t *testing.T) []Row {
			return []Row{cust(t, "a", "1", fields{"first_name": "X"})}
		}, "gender", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(t, tt.surv)
			out := build(t, b, &Records{CustomerID: "c_1", Customers: tt.recs(t)})
			if got := get(t, "customer", out, tt.field); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v, want %#v", tt.field, got, tt.want)
			}
		})
	}
}

func TestAddressBlock(t *testing.T) {
	addr := []string{"street", "city", "postal_code", "region", "country"}
	tests := []struct {
		name string
		surv config.Survivorship
		recs func(t *testing.T) []Row
		want []any
	}{
		{"never mixed across records", config.Survivorship{}, func(t *testing.T) []Row {
			return []Row{
				cust(t, "crm", "1", fields{"street": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "Germany", "updated_at": ts("2024-01-01T00:00:00Z")}),
				cust(t, "shop", "1", fields{"city": "Hamburg", "updated_at": ts("2024-02-01T00:00:00Z")}),
			}
		}, []any{nil, "Hamburg", nil, nil, nil}},
		{"country alone does not displace an address", config.Survivorship{}, func(t *testing.T) []Row {
			return []Row{
				cust(t, "crm", "1", fields{"street": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "Deutschland", "updated_at": ts("2024-01-01T00:00:00Z")}),
				cust(t, "shop", "1", fields{"country": "AT", "updated_at": ts("2024-02-01T00:00:00Z")}),
			}
		}, []any{"Hauptstr. 1", "Berlin", "10115", nil, "DE"}},
		{"region and country when nothing finer exists", config.Survivorship{}, func(t *testing.T) []Row {
			return []Row{
				cust(t, "crm", "1", fields{"region": "BY", "country": "de", "updated_at": ts("2024-01-01T00:00:00Z")}),
				cust(t, "shop", "1", fields{"country": "Atlantis", "updated_at": ts("2023-02-01T00:00:00Z")}),
			}
		}, []any{nil, nil, nil, "BY", "DE"}},
		{"unknown country kept as written", config.Survivorship{}, func(t *testing.T) []Row {
			return []Row{cust(t, "crm", "1", fields{"city": "Atlantis City", "country": " Atlantis "})}
		}, []any{nil, "Atlantis City", nil, nil, "Atlantis"}},
		{"source priority for the block", config.Survivorship{Fields: map[string]config.FieldRule{
			"address": {Rule: config.SourcePriority, SourcePriority: []string{"erp"}}}}, func(t *testing.T) []Row {
			return []Row{
				cust(t, "erp", "1", fields{"street": "Alte Str. 2", "postal_code": "80331", "updated_at": ts("2020-01-01T00:00:00Z")}),
				cust(t, "shop", "1", fields{"street": "Neue Str. 3", "city": "Köln", "updated_at": ts("2024-02-01T00:00:00Z")}),
			}
		}, []any{"Alte Str. 2", nil, "80331", nil, nil}},
		{"most frequent compares the whole block", config.Survivorship{Default: config.MostFrequent}, func(t *testing.T) []Row {
			return []Row{
				cust(t, "a", "1", fields{"street": "Hauptstr. 1", "city": "BERLIN", "postal_code": "10115", "updated_at": ts("2024-01-01T00:00:00Z")}),
				cust(t, "b", "1", fields{"street": "hauptstr. 1", "city": "Berlin", "postal_code": "10 115", "updated_at": ts("2023-01-01T00:00:00Z")}),
				cust(t, "c", "1", fields{"street": "Hauptstr. 1", "city": "Berlin", "postal_code": "10117", "updated_at": ts("2024-06-01T00:00:00Z")}),
			}
		}, []any{"Hauptstr. 1", "BERLIN", "10115", nil, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := build(t, newBuilder(t, tt.surv), &Records{CustomerID: "c_1", Customers: tt.recs(t)})
			var got []any
			for _, f := range addr {
				got = append(got, get(t, "customer", out, f))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("address = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestEmailsAndPhones(t *testing.T) {
	recs := func(t *testing.T) *Records {
		return &Records{
			CustomerID: "c_1",
			Customers: []Row{
				cust(t, "crm", "1", fields{"email": "Jane.Doe@Example.COM", "phone": "030 1234567", "updated_at": ts("2024-01-01T00:00:00Z")}),
				cust(t, "shop", "1", fields{"email": "jane@shop.example", "phone": "+49 151 23456789", "updated_at": ts("2024-03-01T00:00:00Z")}),
				cust(t, "legacy", "1", fields{"email": "not-an-email", "phone": "12345", "updated_at": ts("2024-06-01T00:00:00Z")}),
			},
			Orders:   []Row{order(t, "1", fields{"email": "Jane Doe <jane.doe@example.com>", "phone": "(030) 123-4567"})},
			Tickets:  []Row{ticket(t, "1", fields{"email": "a@zeta.example"})},
			Messages: []Row{message(t, "1", fields{"email": "mailto:b@beta.example"})},
			Events:   []Row{event(t, "crm", "1", fields{"type": "deal", "email": "c@gamma.example"})},
		}
	}
	t.Run("most recent", func(t *testing.T) {
		b := newBuilder(t, config.Survivorship{})
		out := build(t, b, recs(t))
		check := func(name string, want any) {
			t.Helper()
			if got := get(t, "customer", out, name); !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %#v, want %#v", name, got, want)
			}
		}
		check("email", "jane@shop.example") // legacy is newer but invalid
		check("emails", []string{"jane@shop.example", "a@zeta.example", "b@beta.example", "c@gamma.example", "jane.doe@example.com"})
		check("phone", "+4915123456789")
		check("phones", []string{"+4915123456789", "+49301234567"})
		if s := b.Stats(); s.InvalidEmails != 1 || s.InvalidPhones != 1 {
			t.Errorf("stats = %+v, want one invalid email and one invalid phone", s)
		}
	})
	t.Run("source priority", func(t *testing.T) {
		b := newBuilder(t, config.Survivorship{Fields: map[string]config.FieldRule{
			"email": {Rule: config.SourcePriority, SourcePriority: []string{"legacy", "crm"}},
			"phone": {Rule: config.SourcePriority, SourcePriority: []string{"crm"}},
		}})
		out := build(t, b, recs(t))
		if got := get(t, "customer", out, "email"); got != "jane.doe@example.com" {
			t.Errorf("email = %v, want crm's (legacy's is invalid)", got)
		}
		if got := get(t, "customer", out, "phone"); got != "+49301234567" {
			t.Errorf("phone = %v, want crm's", got)
		}
	})
	t.Run("fallback to other records", func(t *testing.T) {
		r := recs(t)
		r.Customers = r.Customers[2:] // only the invalid legacy record
		r.Orders[0] = order(t, "1", fields{"email": "Jane Doe <jane.doe@example.com>", "phone": "(030) 123-4567", "updated_at": ts("2024-02-01T00:00:00Z")})
		r.Tickets[0] = ticket(t, "1", fields{"email": "a@zeta.example", "updated_at": ts("2024-01-01T00:00:00Z")})
		out := build(t, newBuilder(t, config.Survivorship{}), r)
		if got := get(t, "customer", out, "email"); got != "jane.doe@example.com" {
			t.Errorf("email = %v, want the most recent order's", got)
		}
		if got := get(t, "customer", out, "phone"); got != "+49301234567" {
			t.Errorf("phone = %v, want the order's", got)
		}
	})
	t.Run("none", func(t *testing.T) {
		out := build(t, newBuilder(t, config.Survivorship{}), &Records{CustomerID: "c_1", Customers: []Row{cust(t, "crm", "1", nil)}})
		for _, name := range []string{"emails", "phones"} {
			if got, ok := get(t, "customer", out, name).([]string); !ok || got == nil || len(got) != 0 {
				t.Errorf("%s = %#v, want an empty list", name, got)
			}
		}
		if got := get(t, "customer", out, "email"); got != nil {
			t.Errorf("email = %#v, want nil", got)
		}
	})
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no time", Options{}, "AsOf"},
		{"bad region", Options{AsOf: asOf, DefaultRegion: "XX"}, "region"},
		{"unknown field", Options{AsOf: asOf, Survivorship: config.Survivorship{Fields: map[string]config.FieldRule{"lastname": {Rule: config.MostRecent}}}}, `"lastname": not a profile field`},
		{"address part", Options{AsOf: asOf, Survivorship: config.Survivorship{Fields: map[string]config.FieldRule{"city": {Rule: config.MostRecent}}}}, `configure the field "address"`},
		{"unknown rule", Options{AsOf: asOf, Survivorship: config.Survivorship{Default: "newest"}}, `unknown rule "newest"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
