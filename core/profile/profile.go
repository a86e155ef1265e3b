package profile

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/desilo/desilo/core/rowset"
)

// amount is an order total (positive) or a refund (negative) in units of
// 1/10000, integers so that the sum does not depend on the order of terms.
type amount struct {
	currency string // upper case; "" when not stated
	units    int64
	refund   bool
}

const unitsPerMajor = 10000

// currency tallies the amounts stated in one currency.
type currency struct {
	code    string
	orders  int // votes of orders
	refunds int // votes of refunds, which count only between equal orders
	last    time.Time
}

// Profile appends the customer's row to out, a set of the customer table,
// built from the customer's records. rfm_r, rfm_f, rfm_m and rfm_score
// stay null (see RFM). After an error out may hold a partial row.
func (b *Builder) Profile(r *Records, out *rowset.Set) error {
	if out.Table() != b.outTable {
		return fmt.Errorf("profile: the output is a set of table %s, want %s", out.Table().Name, b.outTable.Name)
	}
	if err := b.start(r); err != nil {
		return err
	}
	n := len(r.Customers) + len(r.Orders) + len(r.Tickets) + len(r.Messages) + len(r.Events)
	if n == 0 {
		return fmt.Errorf("profile of customer %s: no records", r.CustomerID)
	}
	b.reset()
	b.dst, b.di = out, out.Extend(1)
	b.putStr(b.out.customerID, r.CustomerID)
	b.putInt(b.out.recordCount, int64(n))

	b.scanCustomers(r.Customers)
	ordersCount, firstOrder, lastOrder := b.scanOrders(r.Orders)
	b.scanTickets(r.Tickets)
	b.scanMessages(r.Messages)
	b.scanEvents(r.Events)
	if b.err != nil {
		return b.err
	}
	slices.SortFunc(b.crecs, byRecency)
	slices.SortFunc(b.orecs, byRecency)
	b.survive()
	if b.err != nil {
		return b.err
	}

	if !b.first.ok {
		b.first, b.last = tval{b.asOf, true}, tval{b.asOf, true}
	}
	b.putTime(b.out.firstSeen, b.first)
	b.putTime(b.out.lastSeen, b.last)
	b.putSet(b.out.sources, b.srcs, "")
	b.putSet(b.out.channels, b.chans, "")
	b.putTime(b.out.lastContact, b.lastAction)

	revenue, main, counted := b.revenue()
	b.putInt(b.out.ordersCount, int64(ordersCount))
	b.putFloat(b.out.revenue, revenue)
	b.putStr(b.out.revCurrency, main)
	b.putTime(b.out.firstOrder, firstOrder)
	b.putTime(b.out.lastOrder, lastOrder)
	if counted > 0 {
		b.putFloat(b.out.avgOrder, revenue/float64(counted))
	}
	in := b.rfmInputs(ordersCount, lastOrder, revenue, main)
	if in.Frequency > 0 {
		b.putInt(b.out.rfmFreq, in.Frequency)
		b.putFloat(b.out.rfmMoney, revenue)
		if in.HasRecency {
			b.putInt(b.out.daysSince, in.RecencyDays)
			b.putInt(b.out.rfmRecency, in.RecencyDays)
		}
	}
	b.stats.Customers++
	return nil
}

// RFMInputs are the metrics RFM scores a customer by, as Profile puts
// them in the customer row: rfm_recency_days (HasRecency false when no
// order has a time), rfm_frequency (0: no orders, no scores) and
// rfm_monetary, in Currency (revenue_currency; "" when none is stated).
type RFMInputs struct {
	RecencyDays int64
	HasRecency  bool
	Frequency   int64
	Monetary    float64
	Currency    string
}

// RFMInputs computes a customer's RFM inputs from its orders and events
// alone (the other tables of r are ignored), by the same rules as
// Profile, for a caller that must know every customer's scores before it
// builds the first profile. It leaves Stats alone: Profile counts what it leaves out.
func (b *Builder) RFMInputs(r *Records) (RFMInputs, error) {
	defer func(s Stats) { b.stats = s }(b.stats)
	if err := b.start(r); err != nil {
		return RFMInputs{}, err
	}
	b.reset()
	count, _, last := b.orderMetrics(r.Orders)
	b.refunds(r.Events)
	revenue, main, _ := b.revenue()
	return b.rfmInputs(count, last, revenue, main), b.err
}

func (b *Builder) rfmInputs(orders int, last tval, revenue float64, currency string) RFMInputs {
	if orders == 0 {
		return RFMInputs{}
	}
	in := RFMInputs{Frequency: int64(orders), Monetary: revenue, Currency: currency}
	if last.ok {
		in.RecencyDays, in.HasRecency = int64(max(0, b.asOf.Sub(last.t))/(24*time.Hour)), true
	}
	return in
}

func (b *Builder) reset() {
	b.crecs, b.orecs = b.crecs[:0], b.orecs[:0]
	b.emails, b.phones, b.srcs, b.chans = b.emails[:0], b.phones[:0], b.srcs[:0], b.chans[:0]
	b.amts, b.curs, b.voided = b.amts[:0], b.curs[:0], b.voided[:0]
	b.emailMemo, b.phoneMemo = b.emailMemo[:0], b.phoneMemo[:0]
	b.first, b.last, b.lastAction = tval{}, tval{}, tval{}
}

// record does what every record needs: its source, its times, its email
// and phone (phoneCol < 0 when the table has none). It returns the
// record for survivorship.
func (b *Builder) record(t *base, row Row, at tval, phoneCol int) rec {
	r := rec{t: t, row: row, source: row.str(t.source), stream: row.str(t.stream), key: row.str(t.key)}
	if n := len(b.srcs); n == 0 || b.srcs[n-1] != r.source {
		b.srcs = append(b.srcs, r.source)
	}
	b.seen(t, row, at)
	if u := row.when(t.updated); u.ok {
		r.at = u.t
	} else if c := row.when(t.created); c.ok {
		r.at = c.t
	}
	if raw := row.str(t.email); raw != "" {
		if e, ok := b.normEmail(raw); ok {
			r.email = e
			b.emails = append(b.emails, e)
		} else {
			b.stats.InvalidEmails++
		}
	}
	if phoneCol >= 0 {
		if raw := row.str(phoneCol); raw != "" {
			if p, ok := b.normPhone(raw); ok {
				r.phone = p
				b.phones = append(b.phones, p)
			} else {
				b.stats.InvalidPhones++
			}
		}
	}
	return r
}

// other keeps a non-customer record as a fallback for email and phone.
func (b *Builder) other(r rec) {
	if r.email != "" || r.phone != "" {
		b.orecs = append(b.orecs, r)
	}
}

func (b *Builder) scanCustomers(rows []Row) {
	for _, row := range rows {
		b.crecs = append(b.crecs, b.record(&b.cust.base, row, tval{}, b.cust.phone))
	}
}

// journeyTime is a record's time in the journey: its own, else created_at.
func (b *Builder) journeyTime(t *base, row Row, col int) tval {
	if v := row.when(col); v.ok {
		return v
	}
	return row.when(t.created)
}

func (b *Builder) contact(at tval) { b.lastAction = later(b.lastAction, at) }

func (b *Builder) channel(raw string, fallback string) {
	if raw == "" {
		raw = fallback
	}
	b.chans = append(b.chans, strings.ToLower(raw))
}

func (b *Builder) scanOrders(rows []Row) (count int, first, last tval) {
	o := &b.ord
	for _, row := range rows {
		at := b.journeyTime(&o.base, row, o.orderedAt)
		b.other(b.record(&o.base, row, at, o.phone))
		b.contact(at)
		b.channel("", "shop")
	}
	return b.orderMetrics(rows)
}

// orderMetrics counts the orders that are not cancelled, with their first
// and last time, and adds their totals to the amounts.
func (b *Builder) orderMetrics(rows []Row) (count int, first, last tval) {
	o := &b.ord
	for _, row := range rows {
		if b.cancelled(row) {
			b.voided = append(b.voided, row.str(o.source)+"\x00"+row.str(o.key))
			continue
		}
		at := b.journeyTime(&o.base, row, o.orderedAt)
		count++
		first, last = earlier(first, at), later(last, at)
		if total, ok := b.num(&o.base, row, o.total); ok {
			b.addAmount(row.str(o.currency), total, false, at)
		}
	}
	return count, first, last
}

// cancelled says whether an order counts for nothing but the journey.
func (b *Builder) cancelled(row Row) bool {
	if row.when(b.ord.cancelledAt).ok {
		return true
	}
	s := row.str(b.ord.status)
	for _, c := range [...]string{"cancelled", "canceled", "refunded", "failed", "voided", "checkout-draft"} {
		if strings.EqualFold(s, c) {
			return true
		}
	}
	// A payment that was voided or expired: the order was never paid.
	f := row.str(b.ord.financial)
	return strings.EqualFold(f, "voided") || strings.EqualFold(f, "expired")
}

func (b *Builder) addAmount(cur string, major float64, refund bool, at tval) {
	units := int64(math.Round(major * unitsPerMajor))
	if refund {
		units = -abs(units)
	}
	cur = strings.ToUpper(cur)
	b.amts = append(b.amts, amount{currency: cur, units: units, refund: refund})
	if cur == "" {
		return
	}
	i := slices.IndexFunc(b.curs, func(c currency) bool { return c.code == cur })
	if i < 0 {
		i = len(b.curs)
		b.curs = append(b.curs, currency{code: cur, last: at.t})
	}
	c := &b.curs[i]
	if refund {
		c.refunds++
	} else {
		c.orders++
	}
	if at.t.After(c.last) {
		c.last = at.t
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// revenue sums the amounts in the main currency, which it returns too,
// and counts the orders among them.
func (b *Builder) revenue() (float64, string, int) {
	main := ""
	if len(b.curs) > 0 {
		main = slices.MinFunc(b.curs, func(x, y currency) int {
			return cmp.Or(cmp.Compare(y.orders, x.orders), cmp.Compare(y.refunds, x.refunds),
				y.last.Compare(x.last), strings.Compare(x.code, y.code))
		}).code
	}
	var units int64
	orders := 0
	for _, a := range b.amts {
		switch {
		case a.currency != "" && a.currency != main && a.refund:
			b.stats.ForeignCurrencyRefunds++
		case a.currency != "" && a.currency != main:
			b.stats.ForeignCurrencyOrders++
		default:
			units += a.units
			if !a.refund {
				orders++
			}
		}
	}
	return float64(units) / unitsPerMajor, main, orders
}

func (b *Builder) scanTickets(rows []Row) {
	t := &b.tick
	var open int64
	var last tval
	for _, row := range rows {
		at := b.journeyTime(&t.base, row, t.created)
		b.other(b.record(&t.base, row, at, t.phone))
		b.contact(at)
		last = later(last, at)
		b.channel(row.str(t.channel), "support")
		// The status decides; solved_at only when there is none, as a
		// reopened ticket keeps the time it was solved before.
		s := row.str(t.status)
		solved := strings.EqualFold(s, "solved") || strings.EqualFold(s, "closed") || s == "" && row.when(t.solvedAt).ok
		if !solved {
			open++
		}
	}
	b.putInt(b.out.ticketsTotal, int64(len(rows)))
	b.putInt(b.out.ticketsOpen, open)
	b.putTime(b.out.lastTicket, last)
}

func (b *Builder) scanMessages(rows []Row) {
	m := &b.msg
	var in, outbound int64
	for _, row := range rows {
		at := b.journeyTime(&m.base, row, m.sentAt)
		b.other(b.record(&m.base, row, at, -1))
		b.contact(at)
		b.channel(row.str(m.channel), "email")
		switch d := row.str(m.direction); {
		case strings.EqualFold(d, "in"):
			in++
		case strings.EqualFold(d, "out"):
			outbound++
		}
	}
	b.putInt(b.out.messagesIn, in)
	b.putInt(b.out.messagesOut, outbound)
}

func (b *Builder) scanEvents(rows []Row) {
	e := &b.evt
	for _, row := range rows {
		at := b.journeyTime(&e.base, row, e.occurredAt)
		b.other(b.record(&e.base, row, at, -1))
		b.contact(at)
		if ch := row.str(e.channel); ch != "" {
			b.channel(ch, "")
		}
	}
	b.refunds(rows)
}

// refunds adds the amounts of refund events, but not those of a cancelled
// order named by order_ref (its total was never added: a cancelled paid
// order is refunded too).
func (b *Builder) refunds(rows []Row) {
	e := &b.evt
	for _, row := range rows {
		if strings.EqualFold(row.str(e.typ), "refund") {
			if ref := row.str(e.orderRef); ref != "" && slices.Contains(b.voided, row.str(e.source)+"\x00"+ref) {
				continue
			}
			if amt, ok := b.num(&e.base, row, e.amount); ok {
				b.addAmount(row.str(e.currency), amt, true, b.journeyTime(&e.base, row, e.occurredAt))
			}
		}
	}
}
