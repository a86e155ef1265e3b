package profile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/schema"
)

// asJSON turns a row into the JSON object its schema describes.
func asJSON(t testing.TB, table string, row []any) any {
	t.Helper()
	obj := map[string]any{}
	for i, c := range model.MustLoad(table).Columns {
		v := row[i]
		if v == nil {
			continue
		}
		if tm, ok := v.(time.Time); ok {
			if c.Type == model.Date {
				v = tm.Format(time.DateOnly)
			} else {
				v = tm.Format(time.RFC3339Nano)
			}
		}
		obj[c.Name] = v
	}
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func validate(t testing.TB, table string, row []any) {
	t.Helper()
	s, err := schema.Compile(table + ".schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(asJSON(t, table, row)); err != nil {
		t.Errorf("%s row %v:\n%v", table, row, err)
	}
}

func TestRowsValidate(t *testing.T) {
	b := newBuilder(t, config.Survivorship{})
	full := rich(t)
	full.Customers = append(full.Customers, cust(t, "shop", "1", fields{
		"phone": "030 1234567", "last_name": "Doe", "full_name": "Jane Doe", "birth_date": day("1990-02-03"),
		"gender": "f", "company": "Acme", "street": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115",
		"region": "BE", "country": "Germany", "language": "de", "consent_email": true, "consent_sms": false,
		"ids": []string{"shopify_customer_id=9"},
	}))
	var customers [][]any
	for i, r := range []*Records{
		full,
		{CustomerID: "c_min", Customers: []Row{cust(t, "files", "1", nil)}},
		{CustomerID: "c_guest", Orders: []Row{order(t, "g", fields{"total": 12.5, "currency": "EUR", "ordered_at": ts("2024-06-01T00:00:00Z")})}},
		{CustomerID: "c_refund", Events: []Row{event(t, "shop", "r", fields{"type": "refund", "amount": 12.5})}},
	} {
		customers = append(customers, build(t, b, r))
		for _, ev := range journey(t, b, r) {
			t.Run(fmt.Sprintf("event %d", i), func(t *testing.T) { validate(t, "event", ev) })
		}
	}
	if err := AssignRFM(customers); err != nil {
		t.Fatal(err)
	}
	if get(t, "customer", customers[0], "rfm_score") == nil {
		t.Fatal("the rich customer has no RFM score")
	}
	for _, c := range customers {
		validate(t, "customer", c)
	}
}
