package profile

import (
	"fmt"
	"testing"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// typical is a customer of 3 customer records, 5 orders, 2 tickets and 4
// messages, as a shop with a CRM and a service desk has them.
func typical(b testing.TB) *Records {
	t0 := ts("2023-01-01T00:00:00Z")
	at := func(days int) time.Time { return t0.Add(time.Duration(days) * 24 * time.Hour) }
	r := &Records{
		CustomerID: "c_0123456789abcdef",
		Customers: []Row{
			cust(b, "crm", "17", fields{"email": "Jane.Doe@Example.com", "phone": "030 1234567", "first_name": "Jane", "last_name": "Doe",
				"city": "Berlin", "postal_code": "10115", "country": "DE", "created_at": at(0), "updated_at": at(300)}),
			cust(b, "shop", "gid://shopify/Customer/9", fields{"email": "jane.doe@example.com", "phone": "+49 151 23456789", "first_name": "Jane",
				"last_name": "Doe", "street": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE",
				"consent_email": true, "created_at": at(10), "updated_at": at(400)}),
			cust(b, "desk", "55", fields{"email": "jane.doe@example.com", "full_name": "Jane Doe", "created_at": at(20), "updated_at": at(200)}),
		},
	}
	for i := range 5 {
		r.Orders = append(r.Orders, order(b, fmt.Sprint(1000+i), fields{"order_number": fmt.Sprint("#", 1000+i), "email": "jane.doe@example.com",
			"ordered_at": at(30 + 60*i), "created_at": at(30 + 60*i), "updated_at": at(31 + 60*i), "total": 49.9 + float64(i), "currency": "EUR", "status": "fulfilled"}))
	}
	for i := range 2 {
		r.Tickets = append(r.Tickets, ticket(b, fmt.Sprint(i), fields{"email": "jane.doe@example.com", "subject": "Delivery",
			"status": "solved", "channel": "email", "created_at": at(40 + 100*i), "updated_at": at(42 + 100*i)}))
	}
	for i := range 4 {
		dir := "in"
		if i%2 == 1 {
			dir = "out"
		}
		r.Messages = append(r.Messages, message(b, fmt.Sprint("<m", i, "@example.com>"), fields{"email": "jane.doe@example.com",
			"direction": dir, "subject": "Re: Delivery", "sent_at": at(41 + 50*i)}))
	}
	return r
}

func BenchmarkProfile(b *testing.B) {
	bl := newBuilder(b, config.Survivorship{Fields: map[string]config.FieldRule{
		"last_name": {Rule: config.SourcePriority, SourcePriority: []string{"crm"}},
	}})
	r := typical(b)
	out := rowset.New(model.MustLoad("customer"))
	b.ReportAllocs()
	for b.Loop() {
		if out.Len() == 1024 { // a job's worth of customers
			out = rowset.New(model.MustLoad("customer"))
		}
		if err := bl.Profile(r, out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJourney(b *testing.B) {
	bl := newBuilder(b, config.Survivorship{})
	r := typical(b)
	out := rowset.New(model.MustLoad("event"))
	b.ReportAllocs()
	for b.Loop() {
		if out.Len() > 8192 { // a job's worth of events
			out = rowset.New(model.MustLoad("event"))
		}
		if err := bl.Journey(r, out); err != nil {
			b.Fatal(err)
		}
	}
}
