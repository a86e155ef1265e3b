package profile

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// rich is a customer with something of everything; TestTraits holds the
// hand-computed expectations.
func rich(t testing.TB) *Records {
	return &Records{
		CustomerID: "c_rich",
		Customers: []Row{
			cust(t, "crm", "1", fields{"email": "jane@example.com", "first_name": "Jane",
				"created_at": ts("2022-01-10T00:00:00Z"), "updated_at": ts("2024-01-01T00:00:00Z")}),
		},
		Orders: []Row{
			order(t, "o1", fields{"order_number": "#1001", "ordered_at": ts("2024-01-10T10:00:00Z"), "created_at": ts("2024-01-10T10:00:00Z"),
				"total": 100.10, "currency": "EUR", "status": "fulfilled"}),
			order(t, "o2", fields{"created_at": ts("2024-03-05T00:00:00Z"), "total": 50.25, "currency": "eur"}),
			order(t, "o3", fields{"ordered_at": ts("2024-04-01T00:00:00Z"), "total": 999.0, "currency": "EUR", "cancelled_at": ts("2024-04-02T00:00:00Z")}),
			order(t, "o4", fields{"ordered_at": ts("2024-06-20T12:00:00Z"), "total": 20.0, "currency": "EUR", "status": "Canceled"}),
			order(t, "o5", fields{"ordered_at": ts("2024-06-01T00:00:00Z")}),
		},
		Tickets: []Row{
			ticket(t, "t1", fields{"created_at": ts("2024-02-01T00:00:00Z"), "status": "open", "channel": "Web", "subject": "Where is my order?"}),
			ticket(t, "t2", fields{"created_at": ts("2024-05-01T00:00:00Z"), "updated_at": ts("2024-06-30T00:00:00Z"), "status": "solved"}),
			ticket(t, "t3", fields{"created_at": ts("2024-05-15T00:00:00Z"), "solved_at": ts("2024-05-16T00:00:00Z")}),
			ticket(t, "t4", fields{"created_at": ts("2024-03-01T00:00:00Z"), "status": "pending"}),
		},
		Messages: []Row{
			message(t, "m1", fields{"direction": "in", "sent_at": ts("2024-06-25T08:00:00Z"), "subject": "Hello"}),
			message(t, "m2", fields{"direction": "out", "sent_at": ts("2024-06-26T09:00:00Z")}),
			message(t, "m3", fields{"created_at": ts("2024-06-27T00:00:00Z")}),
			message(t, "m4", fields{"direction": "in", "channel": "WhatsApp", "sent_at": ts("2024-06-10T00:00:00Z")}),
		},
		Events: []Row{
			event(t, "shop", "r1", fields{"type": "Refund", "amount": 10.10, "currency": "EUR", "occurred_at": ts("2024-06-02T00:00:00Z")}),
			event(t, "crm", "d1", fields{"type": "deal", "channel": "phone", "occurred_at": ts("2024-06-28T00:00:00Z")}),
		},
	}
}

func TestTraits(t *testing.T) {
	out := build(t, newBuilder(t, config.Survivorship{}), rich(t))
	want := map[string]any{
		"customer_id":              "c_rich",
		"first_name":               "Jane",
		"email":                    "jane@example.com",
		"emails":                   []string{"jane@example.com"},
		"phones":                   []string{},
		"first_seen":               ts("2022-01-10T00:00:00Z"),
		"last_seen":                ts("2024-06-30T00:00:00Z"), // t2's updated_at
		"sources":                  []string{"crm", "desk", "mail", "shop"},
		"record_count":             int64(16),
		"orders_count":             int64(3), // o3, o4 cancelled
		"revenue_total":            140.25,   // 100.10 + 50.25 − 10.10
		"revenue_currency":         "EUR",
		"avg_order_value":          70.125, // o5 has no total
		"first_order_at":           ts("2024-01-10T10:00:00Z"),
		"last_order_at":            ts("2024-06-01T00:00:00Z"),
		"tickets_total":            int64(4),
		"tickets_open":             int64(2), // t1, t4
		"last_ticket_at":           ts("2024-05-15T00:00:00Z"),
		"messages_in":              int64(2),
		"messages_out":             int64(1),
		"last_contact_at":          ts("2024-06-28T00:00:00Z"),
		"channels":                 []string{"email", "phone", "shop", "support", "web", "whatsapp"},
		"days_since_last_purchase": int64(30), // 30.5 days before asOf
		"rfm_recency_days":         int64(30),
		"rfm_frequency":            int64(3),
		"rfm_monetary":             140.25,
	}
	for _, c := range model.MustLoad("customer").Columns {
		got := get(t, "customer", out, c.Name)
		if !reflect.DeepEqual(got, want[c.Name]) {
			t.Errorf("%s = %#v, want %#v", c.Name, got, want[c.Name])
		}
	}
}

func TestNoTimesAtAll(t *testing.T) {
	out := build(t, newBuilder(t, config.Survivorship{}), &Records{CustomerID: "c_1", Customers: []Row{cust(t, "files", "1", fields{"last_name": "Doe"})}})
	for _, name := range []string{"first_seen", "last_seen"} {
		if got := get(t, "customer", out, name); got != asOf {
			t.Errorf("%s = %v, want AsOf", name, got)
		}
	}
	for _, name := range []string{"orders_count", "tickets_total", "tickets_open", "messages_in", "messages_out"} {
		if got := get(t, "customer", out, name); got != int64(0) {
			t.Errorf("%s = %#v, want 0", name, got)
		}
	}
	for _, name := range []string{"avg_order_value", "last_contact_at", "days_since_last_purchase", "rfm_recency_days", "rfm_frequency", "rfm_monetary"} {
		if got := get(t, "customer", out, name); got != nil {
			t.Errorf("%s = %#v, want nil", name, got)
		}
	}
	if got := get(t, "customer", out, "revenue_total"); got != 0.0 {
		t.Errorf("revenue_total = %#v, want 0", got)
	}
}

func TestCancelledOrders(t *testing.T) {
	tests := []struct {
		name    string
		f       fields
		counted bool
	}{
		{"plain", fields{}, true},
		{"completed", fields{"status": "completed"}, true},
		{"payment refunded is left to refund events", fields{"financial_status": "refunded"}, true},
		{"cancelled_at", fields{"cancelled_at": ts("2024-06-02T00:00:00Z")}, false},
		{"cancelled", fields{"status": "cancelled"}, false},
		{"CANCELED", fields{"status": "CANCELED"}, false},
		{"refunded", fields{"status": " refunded "}, false},
		{"failed", fields{"status": "failed"}, false},
		{"voided", fields{"status": "Voided"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fields{"ordered_at": ts("2024-06-01T00:00:00Z"), "total": 10.0, "currency": "EUR"}
			for k, v := range tt.f {
				f[k] = v
			}
			out := build(t, newBuilder(t, config.Survivorship{}), &Records{CustomerID: "c_1", Orders: []Row{order(t, "1", f)}})
			wantN, wantRev, wantLast := int64(0), 0.0, any(nil)
			if tt.counted {
				wantN, wantRev, wantLast = 1, 10.0, ts("2024-06-01T00:00:00Z")
			}
			if got := get(t, "customer", out, "orders_count"); got != wantN {
				t.Errorf("orders_count = %v, want %v", got, wantN)
			}
			if got := get(t, "customer", out, "revenue_total"); got != wantRev {
				t.Errorf("revenue_total = %v, want %v", got, wantRev)
			}
			if got := get(t, "customer", out, "last_order_at"); got != wantLast {
				t.Errorf("last_order_at = %v, want %v", got, wantLast)
			}
			// A cancelled order is still a contact through the shop.
			if got := get(t, "customer", out, "channels"); !reflect.DeepEqual(got, []string{"shop"}) {
				t.Errorf("channels = %v, want [shop]", got)
			}
			if got := get(t, "customer", out, "last_contact_at"); got != ts("2024-06-01T00:00:00Z") {
				t.Errorf("last_contact_at = %v", got)
			}
		})
	}
}

func TestRevenue(t *testing.T) {
	at := func(s string) fields { return fields{"ordered_at": ts(s)} }
	o := func(t *testing.T, key string, total any, cur any, f fields) Row {
		f["total"], f["currency"] = total, cur
		return order(t, key, f)
	}
	refund := func(t *testing.T, key string, amount any, cur any) Row {
		return event(t, "shop", key, fields{"type": "refund", "amount": amount, "currency": cur})
	}
	tests := []struct {
		name              string
		orders, events    func(t *testing.T) []Row
		revenue           float64
		avg               any
		foreign, foreignR int64
	}{
		{"refund subtracts", func(t *testing.T) []Row {
			return []Row{o(t, "1", 30.0, "EUR", at("2024-01-01T00:00:00Z"))}
		}, func(t *testing.T) []Row {
			return []Row{refund(t, "r1", 5.5, "EUR"), refund(t, "r2", -4.5, "eur"), refund(t, "r3", nil, "EUR"),
				event(t, "shop", "x", fields{"type": "deal", "amount": 100.0, "currency": "EUR"})}
		}, 20, 20.0, 0, 0},
		{"refunds alone", nil, func(t *testing.T) []Row {
			return []Row{refund(t, "r1", 5.0, nil)}
		}, -5, nil, 0, 0},
		{"sums exactly", func(t *testing.T) []Row {
			return []Row{o(t, "1", 0.1, "EUR", fields{}), o(t, "2", 0.2, "EUR", fields{})}
		}, nil, 0.3, 0.15, 0, 0},
		{"main currency by count", func(t *testing.T) []Row {
			return []Row{
				o(t, "1", 10.0, "EUR", at("2024-01-01T00:00:00Z")),
				o(t, "2", 20.0, "EUR", at("2024-02-01T00:00:00Z")),
				o(t, "3", 500.0, "USD", at("2024-06-01T00:00:00Z")),
			}
		}, func(t *testing.T) []Row {
			return []Row{refund(t, "r1", 100.0, "USD"), refund(t, "r2", 1.0, "EUR")}
		}, 29, 14.5, 1, 1},
		{"tie goes to the currency used last", func(t *testing.T) []Row {
			return []Row{
				o(t, "1", 10.0, "EUR", at("2024-01-01T00:00:00Z")),
				o(t, "2", 20.0, "USD", at("2024-02-01T00:00:00Z")),
			}
		}, nil, 20, 20.0, 1, 0},
		{"tie at the same time goes to the first code", func(t *testing.T) []Row {
			return []Row{
				o(t, "1", 20.0, "USD", at("2024-01-01T00:00:00Z")),
				o(t, "2", 10.0, "EUR", at("2024-01-01T00:00:00Z")),
			}
		}, nil, 10, 10.0, 1, 0},
		{"no currency is the main currency", func(t *testing.T) []Row {
			return []Row{o(t, "1", 10.0, nil, fields{}), o(t, "2", 5.0, "CHF", fields{}), o(t, "3", 7.0, "EUR", fields{})}
		}, nil, 15, 7.5, 1, 0}, // CHF and EUR tie at no time: CHF
		{"no currency anywhere", func(t *testing.T) []Row {
			return []Row{o(t, "1", 10.0, nil, fields{}), o(t, "2", 5.0, nil, fields{})}
		}, nil, 15, 7.5, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Records{CustomerID: "c_1", Customers: []Row{cust(t, "crm", "1", nil)}}
			if tt.orders != nil {
				r.Orders = tt.orders(t)
			}
			if tt.events != nil {
				r.Events = tt.events(t)
			}
			b := newBuilder(t, config.Survivorship{})
			out := build(t, b, r)
			if got := get(t, "customer", out, "revenue_total"); got != tt.revenue {
				t.Errorf("revenue_total = %v, want %v", got, tt.revenue)
			}
			if got := get(t, "customer", out, "avg_order_value"); got != tt.avg {
				t.Errorf("avg_order_value = %#v, want %#v", got, tt.avg)
			}
			if s := b.Stats(); s.ForeignCurrencyOrders != tt.foreign || s.ForeignCurrencyRefunds != tt.foreignR {
				t.Errorf("stats = %+v, want %d foreign orders, %d foreign refunds", s, tt.foreign, tt.foreignR)
			}
		})
	}
}

func TestDaysSinceLastPurchase(t *testing.T) {
	for _, tt := range []struct {
		at   string
		want int64
	}{
		{"2024-07-01T12:00:00Z", 0},
		{"2024-06-30T12:00:01Z", 0},
		{"2024-06-30T12:00:00Z", 1},
		{"2023-07-01T12:00:00Z", 366},
		{"2024-08-01T00:00:00Z", 0}, // after AsOf
	} {
		out := build(t, newBuilder(t, config.Survivorship{}), &Records{CustomerID: "c_1", Orders: []Row{order(t, "1", fields{"ordered_at": ts(tt.at)})}})
		if got := get(t, "customer", out, "days_since_last_purchase"); got != tt.want {
			t.Errorf("ordered %s: days_since_last_purchase = %v, want %d", tt.at, got, tt.want)
		}
	}
}

func shuffled(r *Records, rng *rand.Rand) *Records {
	s := *r
	for _, rows := range []*[]Row{&s.Customers, &s.Orders, &s.Tickets, &s.Messages, &s.Events} {
		*rows = append([]Row(nil), *rows...)
		rng.Shuffle(len(*rows), func(i, j int) { (*rows)[i], (*rows)[j] = (*rows)[j], (*rows)[i] })
	}
	return &s
}

func TestDeterminism(t *testing.T) {
	r := rich(t)
	// Records that tie on time so that only the tie rules decide.
	r.Customers = append(r.Customers,
		cust(t, "shop", "1", fields{"email": "x@shop.example", "phone": "030 1234567", "last_name": "Shop", "street": "A 1", "updated_at": ts("2024-01-01T00:00:00Z")}),
		cust(t, "erp", "1", fields{"email": "y@erp.example", "last_name": "Erp", "city": "B", "updated_at": ts("2024-01-01T00:00:00Z")}),
		cust(t, "erp", "2", fields{"last_name": "Erp2", "city": "C", "updated_at": ts("2024-01-01T00:00:00Z")}),
	)
	for _, surv := range []config.Survivorship{{}, {Default: config.MostFrequent}, {Default: config.SourcePriority, SourcePriority: []string{"shop"}}} {
		b := newBuilder(t, surv)
		wantRow, wantJourney := build(t, b, r), journey(t, b, r)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range 50 {
			s := shuffled(r, rng)
			if got := build(t, b, s); !reflect.DeepEqual(got, wantRow) {
				t.Fatalf("%v, shuffle %d: row\n%#v\nwant\n%#v", surv.Default, i, got, wantRow)
			}
			if got := journey(t, b, s); !reflect.DeepEqual(got, wantJourney) {
				t.Fatalf("%v, shuffle %d: journey differs", surv.Default, i)
			}
		}
	}
}

func TestProfileErrors(t *testing.T) {
	customers := rowset.New(model.MustLoad("customer"))
	tests := []struct {
		name string
		r    *Records
		out  *rowset.Set
		want string
	}{
		{"no id", &Records{Customers: []Row{cust(t, "crm", "1", nil)}}, customers, "without a customer_id"},
		{"no records", &Records{CustomerID: "c_1"}, customers, "c_1: no records"},
		{"output of another table", &Records{CustomerID: "c_1", Customers: []Row{cust(t, "crm", "1", nil)}}, rowset.New(model.MustLoad("event")), "set of table event, want customer"},
		{"input of another table", &Records{CustomerID: "c_1", Orders: []Row{ticket(t, "1", nil)}}, customers, "order row 0 is not a row of table order"},
		{"input without a set", &Records{CustomerID: "c_1", Orders: []Row{{}}}, customers, "order row 0 is not a row of table order"},
		{"amount too large", &Records{CustomerID: "c_1", Orders: []Row{order(t, "1", fields{"total": 1e15})}}, customers, "shop/orders/1: column total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newBuilder(t, config.Survivorship{}).Profile(tt.r, tt.out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Profile: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestJourneyErrors(t *testing.T) {
	b := newBuilder(t, config.Survivorship{})
	if err := b.Journey(rich(t), rowset.New(model.MustLoad("customer"))); err == nil || !strings.Contains(err.Error(), "set of table customer, want event") {
		t.Errorf("Journey into a customer set: %v", err)
	}
	noType := &Records{CustomerID: "c_1", Events: []Row{event(t, "crm", "1", nil)}}
	if err := b.Journey(noType, rowset.New(model.MustLoad("event"))); err == nil || !strings.Contains(err.Error(), "column type") {
		t.Errorf("Journey of an event without type: %v", err)
	}
}

// trim's fast path agrees with cutting every invisible character (Unicode
// spaces, controls, format characters such as U+200B) from both ends.
func TestTrim(t *testing.T) {
	parts := []string{"", " ", "\t", "\n", "\u00a0", "\u0085", "\u2003", "\u200b", "\ufeff", "\x00", "\x7f", "a", "é", "ab c"}
	for _, a := range parts {
		for _, b := range parts {
			for _, c := range parts {
				s := a + b + c
				if got, want := trim(s), strings.TrimFunc(s, invisible); got != want {
					t.Errorf("trim(%q) = %q, want %q", s, got, want)
				}
			}
		}
	}
}

// A ticket's phone counts like an order's: the customer had no other.
func TestTicketPhone(t *testing.T) {
	r := &Records{CustomerID: "c_1",
		Customers: []Row{cust(t, "crm", "1", fields{"first_name": "Jane"})},
		Tickets:   []Row{ticket(t, "t1", fields{"phone": "+49 30 1234567", "created_at": ts("2024-01-01T00:00:00Z")})},
	}
	out := build(t, newBuilder(t, config.Survivorship{}), r)
	if got := get(t, "customer", out, "phones"); !reflect.DeepEqual(got, []string{"+49301234567"}) {
		t.Errorf("phones = %#v, want [+49301234567]", got)
	}
	if got := get(t, "customer", out, "phone"); got != "+49301234567" {
		t.Errorf("phone = %#v, want +49301234567", got)
	}
}

// A paid order that is cancelled is refunded too (Shopify): its refund,
// naming it by order_ref, must not lower revenue a second time. A refund
// of an order that counts still does.
func TestRefundOfACancelledOrder(t *testing.T) {
	r := &Records{CustomerID: "c_1",
		Orders: []Row{
			order(t, "o1", fields{"ordered_at": ts("2024-05-01T00:00:00Z"), "total": 100.0, "currency": "EUR",
				"cancelled_at": ts("2024-05-02T00:00:00Z"), "financial_status": "REFUNDED", "status": "UNFULFILLED"}),
			order(t, "o2", fields{"ordered_at": ts("2024-06-01T00:00:00Z"), "total": 50.0, "currency": "EUR"}),
		},
		Events: []Row{
			event(t, "shop", "r1", fields{"type": "refund", "amount": 100.0, "currency": "EUR", "order_ref": "o1",
				"occurred_at": ts("2024-05-02T00:00:00Z")}),
			event(t, "shop", "r2", fields{"type": "refund", "amount": 10.0, "currency": "EUR", "order_ref": "o2",
				"occurred_at": ts("2024-06-02T00:00:00Z")}),
		},
	}
	b := newBuilder(t, config.Survivorship{})
	out := build(t, b, r)
	for name, want := range map[string]any{"orders_count": int64(1), "revenue_total": 40.0, "avg_order_value": 40.0, "rfm_monetary": 40.0} {
		if got := get(t, "customer", out, name); got != want {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	in, err := b.RFMInputs(r)
	if err != nil || in.Monetary != 40 || in.Frequency != 1 {
		t.Errorf("RFMInputs = %+v, %v; want monetary 40, frequency 1, as the profile", in, err)
	}
}

// Refunds do not outvote orders for the main currency.
func TestRefundsDoNotPickTheCurrency(t *testing.T) {
	r := &Records{CustomerID: "c_1",
		Orders: []Row{
			order(t, "o1", fields{"ordered_at": ts("2024-01-01T00:00:00Z"), "total": 100.0, "currency": "EUR"}),
			order(t, "o2", fields{"ordered_at": ts("2024-02-01T00:00:00Z"), "total": 100.0, "currency": "EUR"}),
			order(t, "o3", fields{"ordered_at": ts("2024-03-01T00:00:00Z"), "total": 50.0, "currency": "USD"}),
		},
		Events: []Row{
			event(t, "shop", "r1", fields{"type": "refund", "amount": 10.0, "currency": "USD", "occurred_at": ts("2024-03-02T00:00:00Z")}),
			event(t, "shop", "r2", fields{"type": "refund", "amount": 10.0, "currency": "USD", "occurred_at": ts("2024-03-03T00:00:00Z")}),
		},
	}
	out := build(t, newBuilder(t, config.Survivorship{}), r)
	if got := get(t, "customer", out, "revenue_total"); got != 200.0 {
		t.Errorf("revenue_total = %#v, want 200 (EUR: two of three orders)", got)
	}
}

// A ticket's status decides whether it is open; solved_at only when it
// has none (a reopened ticket keeps its old solved_at).
func TestReopenedTicketIsOpen(t *testing.T) {
	r := &Records{CustomerID: "c_1",
		Tickets: []Row{
			ticket(t, "t1", fields{"status": "open", "created_at": ts("2024-01-01T00:00:00Z"), "solved_at": ts("2024-01-02T00:00:00Z")}),
			ticket(t, "t2", fields{"created_at": ts("2024-01-01T00:00:00Z"), "solved_at": ts("2024-01-02T00:00:00Z")}),
		},
	}
	out := build(t, newBuilder(t, config.Survivorship{}), r)
	if got := get(t, "customer", out, "tickets_open"); got != int64(1) {
		t.Errorf("tickets_open = %#v, want 1", got)
	}
}

// A checkout draft and an order whose payment was voided or expired are
// not orders a customer placed.
func TestOrdersNeverPlacedOrPaid(t *testing.T) {
	r := &Records{CustomerID: "c_1",
		Orders: []Row{
			order(t, "o1", fields{"ordered_at": ts("2024-01-01T00:00:00Z"), "total": 80.0, "currency": "EUR", "status": "checkout-draft"}),
			order(t, "o2", fields{"ordered_at": ts("2024-01-01T00:00:00Z"), "total": 70.0, "currency": "EUR", "financial_status": "VOIDED", "status": "UNFULFILLED"}),
			order(t, "o3", fields{"ordered_at": ts("2024-01-01T00:00:00Z"), "total": 60.0, "currency": "EUR", "financial_status": "expired"}),
		},
	}
	out := build(t, newBuilder(t, config.Survivorship{}), r)
	if got := get(t, "customer", out, "orders_count"); got != int64(0) {
		t.Errorf("orders_count = %#v, want 0", got)
	}
}

// A name of invisible characters only is no name: it does not override an
// older real one.
func TestInvisibleValueIsNoValue(t *testing.T) {
	r := &Records{CustomerID: "c_1", Customers: []Row{
		cust(t, "crm", "1", fields{"first_name": "Jane", "updated_at": ts("2024-01-01T00:00:00Z")}),
		cust(t, "shop", "2", fields{"first_name": "\u200b", "updated_at": ts("2024-06-01T00:00:00Z")}),
	}}
	out := build(t, newBuilder(t, config.Survivorship{}), r)
	if got := get(t, "customer", out, "first_name"); got != "Jane" {
		t.Errorf("first_name = %#v, want Jane", got)
	}
}
