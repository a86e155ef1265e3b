package profile

import (
	"reflect"
	"testing"

	"github.com/desilo/desilo/core/config"
)

func TestJourney(t *testing.T) {
	type ev struct {
		key, typ    string
		at          any
		channel     any
		amount, cur any
		desc        any
	}
	want := []ev{
		{"o1", "order", ts("2024-01-10T10:00:00Z"), "shop", 100.10, "EUR", "#1001"},
		{"t1", "ticket", ts("2024-02-01T00:00:00Z"), "web", nil, nil, "Where is my order?"},
		{"t4", "ticket", ts("2024-03-01T00:00:00Z"), "support", nil, nil, nil},
		{"o2", "order", ts("2024-03-05T00:00:00Z"), "shop", 50.25, "EUR", nil},
		{"o3", "order", ts("2024-04-01T00:00:00Z"), "shop", 999.0, "EUR", nil},
		{"t2", "ticket", ts("2024-05-01T00:00:00Z"), "support", nil, nil, nil},
		{"t3", "ticket", ts("2024-05-15T00:00:00Z"), "support", nil, nil, nil},
		{"o5", "order", ts("2024-06-01T00:00:00Z"), "shop", nil, nil, nil},
		{"r1", "Refund", ts("2024-06-02T00:00:00Z"), nil, 10.10, "EUR", nil},
		{"m4", "message_in", ts("2024-06-10T00:00:00Z"), "whatsapp", nil, nil, nil},
		{"o4", "order", ts("2024-06-20T12:00:00Z"), "shop", 20.0, "EUR", nil},
		{"m1", "message_in", ts("2024-06-25T08:00:00Z"), "email", nil, nil, "Hello"},
		{"m2", "message_out", ts("2024-06-26T09:00:00Z"), "email", nil, nil, nil},
		{"m3", "message", ts("2024-06-27T00:00:00Z"), "email", nil, nil, nil},
		{"d1", "deal", ts("2024-06-28T00:00:00Z"), "phone", nil, nil, nil},
	}
	rows := journey(t, newBuilder(t, config.Survivorship{}), rich(t))
	var got []ev
	for _, r := range rows {
		g := func(name string) any { return get(t, "event", r, name) }
		got = append(got, ev{g("record_key").(string), g("type").(string), g("occurred_at"), g("channel"), g("amount"), g("currency"), g("description")})
		if g("customer_id") != "c_rich" {
			t.Errorf("%v: customer_id = %v", g("record_key"), g("customer_id"))
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("journey:\n%v\nwant\n%v", got, want)
	}
	first := rows[0]
	for name, want := range map[string]any{"source": "shop", "stream": "orders", "created_at": ts("2024-01-10T10:00:00Z"), "updated_at": nil} {
		if got := get(t, "event", first, name); got != want {
			t.Errorf("order row %s = %v, want %v", name, got, want)
		}
	}
}

func TestJourneyOrder(t *testing.T) {
	at := ts("2024-05-01T10:00:00Z")
	r := &Records{
		CustomerID: "c_1",
		Events:     []Row{event(t, "crm", "e2", fields{"type": "note"}), event(t, "shop", "z", fields{"type": "note", "occurred_at": at})},
		Orders: []Row{
			order(t, "b", nil),
			order(t, "c", fields{"ordered_at": at}),
			order(t, "a", fields{"ordered_at": at, "email": "a@example.com", "customer_ref": "17"}),
		},
		Tickets:  []Row{ticket(t, "1", fields{"created_at": at})},
		Messages: []Row{message(t, "1", fields{"sent_at": ts("2024-05-01T09:00:00Z")})},
	}
	rows := journey(t, newBuilder(t, config.Survivorship{}), r)
	var got []string
	for _, row := range rows {
		got = append(got, get(t, "event", row, "source").(string)+"/"+get(t, "event", row, "record_key").(string))
	}
	// Equal times: by source, then stream (events < orders), then key.
	want := []string{"mail/1", "desk/1", "shop/z", "shop/a", "shop/c", "crm/e2", "shop/b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	if a := rows[3]; get(t, "event", a, "email") != "a@example.com" || get(t, "event", a, "customer_ref") != "17" {
		t.Errorf("order row does not carry the order's email and customer_ref: %v", a)
	}
}

// A mapped event's channel reads as in the customer's channels.
func TestJourneyChannelLowerCase(t *testing.T) {
	r := &Records{CustomerID: "c_1",
		Events: []Row{event(t, "crm", "d1", fields{"type": "deal", "channel": "Phone", "occurred_at": ts("2024-06-28T00:00:00Z")})},
	}
	b := newBuilder(t, config.Survivorship{})
	out := build(t, b, r)
	j := journey(t, b, r)
	if c, e := get(t, "customer", out, "channels"), get(t, "event", j[0], "channel"); !reflect.DeepEqual(c, []string{"phone"}) || e != "phone" {
		t.Errorf("channels = %#v, journey channel = %#v; want phone in both", c, e)
	}
}

// A journey row's currency reads as revenue_currency does, upper case,
// so that amounts can be summed where currency = revenue_currency.
func TestJourneyCurrencyUpperCase(t *testing.T) {
	at := ts("2024-05-01T10:00:00Z")
	r := &Records{CustomerID: "c_1",
		Orders: []Row{order(t, "o1", fields{"ordered_at": at, "total": 10.0, "currency": "eur"})},
		Events: []Row{event(t, "shop", "r1", fields{"type": "refund", "occurred_at": at, "amount": 2.0, "currency": "Eur"})},
	}
	b := newBuilder(t, config.Survivorship{})
	out := build(t, b, r)
	if got := get(t, "customer", out, "revenue_currency"); got != "EUR" {
		t.Fatalf("revenue_currency = %v, want EUR", got)
	}
	for _, row := range journey(t, b, r) {
		if got := get(t, "event", row, "currency"); got != "EUR" {
			t.Errorf("%v row: currency = %#v, want EUR as revenue_currency", get(t, "event", row, "record_key"), got)
		}
	}
}
