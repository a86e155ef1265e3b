package mapping

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

// contact is a 200-byte HubSpot-like contact.
var contact = []byte(`{"id":"1042","properties":{"email":"Anna.Schmidt@example.de","firstname":"Anna","lastname":"Schmidt","phone":"+49 30 1234567"},"createdAt":"2023-04-01T09:15:00Z","updatedAt":"2024-02-11T17:42:31.512Z"}`)

var contactMapping = connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{
	"email":                  {Path: "properties.email", Trim: true},
	"first_name":             connector.P("properties.firstname"),
	"last_name":              connector.P("properties.lastname"),
	"phone":                  connector.P("properties.phone"),
	"created_at":             connector.P("createdAt"),
	"updated_at":             connector.P("updatedAt"),
	"ids.hubspot_contact_id": connector.P("id"),
}}

func BenchmarkMap(b *testing.B) {
	p, err := Compile(connector.Stream{Name: "contacts", PrimaryKey: []string{"id"}}, contactMapping)
	if err != nil {
		b.Fatal(err)
	}
	row := make([]any, len(p.Table().Columns))
	rec := connector.Record{Stream: "contacts", Data: contact}
	b.SetBytes(int64(len(contact)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Map("crm", rec, row); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeMap is the baseline the scanner replaced: decode into
// map[string]any, then pick and convert the same fields.
func BenchmarkDecodeMap(b *testing.B) {
	row := make([]any, 24)
	b.SetBytes(int64(len(contact)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(contact, &m); err != nil {
			b.Fatal(err)
		}
		props, _ := m["properties"].(map[string]any)
		row[0], row[1], row[2] = "crm", "contacts", m["id"]
		row[7], row[9], row[10], row[8] = props["email"], props["firstname"], props["lastname"], props["phone"]
		for i, k := range []string{"createdAt", "updatedAt"} {
			s, _ := m[k].(string)
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				b.Fatal(err)
			}
			row[4+i] = t.UTC()
		}
		row[23] = []string{"hubspot_contact_id=" + m["id"].(string)}
	}
}
