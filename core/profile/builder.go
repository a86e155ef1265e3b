package profile

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/normalize"
)

// Records are the mapped rows of one customer, each table's rows in its
// column order, with customer_id already set by identity.
type Records struct {
	CustomerID string
	// Rows of the tables customer_record, order, ticket, message, event.
	Customers, Orders, Tickets, Messages, Events [][]any
}

// Options configure a Builder.
type Options struct {
	Survivorship config.Survivorship
	// AsOf is the build's time: days since the last purchase count to it.
	AsOf time.Time
	// DefaultRegion is the ISO 3166-1 alpha-2 region of phone numbers
	// written without a country code; empty means such numbers are invalid.
	DefaultRegion string
}

// Stats count what the builder left out, summed over every customer it
// built. Nothing is dropped from the source rows; these say what did not
// make it into a profile.
type Stats struct {
	Customers int64
	// InvalidEmails and InvalidPhones count values that did not normalize
	// and are missing from emails and phones.
	InvalidEmails, InvalidPhones int64
	// ForeignCurrencyOrders and ForeignCurrencyRefunds count amounts left
	// out of revenue_total because they are not in the customer's main
	// currency.
	ForeignCurrencyOrders, ForeignCurrencyRefunds int64
}

// Add adds o to s, for summing the Stats of several builders.
func (s *Stats) Add(o Stats) {
	s.Customers += o.Customers
	s.InvalidEmails += o.InvalidEmails
	s.InvalidPhones += o.InvalidPhones
	s.ForeignCurrencyOrders += o.ForeignCurrencyOrders
	s.ForeignCurrencyRefunds += o.ForeignCurrencyRefunds
}

// Builder builds profiles and journeys. It is not safe for concurrent use.
type Builder struct {
	asOf     time.Time
	asOfAny  any
	phoneFn  normalize.Func
	scalars  []scalar
	address  rule
	email    rule
	phone    rule
	cust     custCols
	ord      orderCols
	tick     ticketCols
	msg      messageCols
	evt      eventCols
	out      outCols
	outWidth int
	evWidth  int
	reads    map[string][]int // per input table, the columns read
	stats    Stats

	// Per-call state and buffers, reused between customers.
	cid        string
	err        error
	crecs      []rec // customer records, most recent first
	orecs      []rec // other records holding an email or phone, most recent first
	emails     []string
	phones     []string
	srcs       []string
	chans      []string
	amts       []amount
	curs       []currency
	freq       []freqCand
	emailMemo  []memo
	phoneMemo  []memo
	items      []item
	evRow      []any
	first      tval
	last       tval
	lastAction tval
}

// memo remembers one normalization within a customer: the same address
// recurs on most of a customer's orders and messages.
type memo struct {
	raw, norm string
	ok        bool
}

const memoSize = 16

// tval is a time and the boxed value it was read from, which outputs
// reuse instead of boxing the time again. v is nil when there is no time.
type tval struct {
	t time.Time
	v any
}

// base holds the columns every mapped table shares.
type base struct {
	name                                                   string
	cols                                                   []model.Column
	width                                                  int
	source, stream, key, customerID, created, updated, ref int
	email                                                  int
}

type custCols struct {
	base
	phone, street, city, postal, region, country int
}

type orderCols struct {
	base
	phone, number, status, orderedAt, total, currency, cancelledAt int
}

type ticketCols struct {
	base
	subject, status, channel, solvedAt int
}

type messageCols struct {
	base
	direction, subject, sentAt, channel int
}

type eventCols struct {
	base
	typ, occurredAt, channel, amount, currency, description int
}

type outCols struct {
	customerID, email, emails, phone, phones                        int
	street, city, postal, region, country                           int
	firstSeen, lastSeen, sources, recordCount                       int
	ordersCount, revenue, firstOrder, lastOrder, avgOrder           int
	ticketsTotal, ticketsOpen, lastTicket, messagesIn, messagesOut  int
	lastContact, channels, daysSince, rfmRecency, rfmFreq, rfmMoney int
}

// Fields are the names survivorship rules may be configured for.
var Fields = []string{"first_name", "last_name", "full_name", "email", "phone", "birth_date",
	"gender", "company", "address", "language", "consent_email", "consent_sms"}

// New resolves the model's columns and compiles the survivorship rules.
func New(opts Options) (*Builder, error) {
	if opts.AsOf.IsZero() {
		return nil, errors.New("profile: Options.AsOf is required (the build's time)")
	}
	phoneFn, err := normalize.ByName("phone", normalize.Options{DefaultRegion: opts.DefaultRegion})
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	if err := checkSurvivorship(opts.Survivorship); err != nil {
		return nil, err
	}
	asOf := opts.AsOf.UTC()
	b := &Builder{asOf: asOf, asOfAny: asOf, phoneFn: phoneFn}
	if err := b.resolve(); err != nil {
		return nil, fmt.Errorf("profile: the model does not have the columns profiles need: %w", err)
	}
	s := opts.Survivorship
	for i := range b.scalars {
		b.scalars[i].rule = compile(s.For(b.scalars[i].name))
	}
	b.address, b.email, b.phone = compile(s.For("address")), compile(s.For("email")), compile(s.For("phone"))
	b.evRow = make([]any, b.evWidth)
	return b, nil
}

// checkSurvivorship rejects rules for fields that do not exist, so a typo
// in desilo.yaml does not silently leave a field on the default rule.
func checkSurvivorship(s config.Survivorship) error {
	var errs []error
	if err := checkRule("default", s.Default); err != nil {
		errs = append(errs, err)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Fields)) {
		switch {
		case slices.Contains(Fields, name):
			if err := checkRule(name, s.Fields[name].Rule); err != nil {
				errs = append(errs, err)
			}
		case slices.Contains([]string{"street", "city", "postal_code", "region", "country"}, name):
			errs = append(errs, fmt.Errorf("profile: survivorship field %q: the address (street, city, postal_code, region, country) survives as a whole; configure the field \"address\"", name))
		default:
			errs = append(errs, fmt.Errorf("profile: survivorship field %q is not a profile field (want one of %s)", name, strings.Join(Fields, ", ")))
		}
	}
	return errors.Join(errs...)
}

func checkRule(field string, r config.Rule) error {
	switch r {
	case "", config.MostRecent, config.SourcePriority, config.MostFrequent:
		return nil
	}
	return fmt.Errorf("profile: survivorship %s: unknown rule %q (want most_recent, source_priority or most_frequent)", field, r)
}

// resolver finds columns and checks their types, collecting every problem.
type resolver struct {
	t    *model.Table
	errs []error
	used []int // the columns found, in the order asked for
}

func (r *resolver) col(name string, typ model.Type, list bool) int {
	i, ok := r.t.Index(name)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("table %s has no column %q", r.t.Name, name))
		return 0
	}
	r.used = append(r.used, i)
	if c := r.t.Columns[i]; c.Type != typ || c.List != list {
		r.errs = append(r.errs, fmt.Errorf("table %s column %q is %v (list %v), want %v (list %v)", r.t.Name, name, c.Type, c.List, typ, list))
	}
	return i
}

func (r *resolver) str(name string) int  { return r.col(name, model.String, false) }
func (r *resolver) ts(name string) int   { return r.col(name, model.Timestamp, false) }
func (r *resolver) num(name string) int  { return r.col(name, model.Number, false) }
func (r *resolver) list(name string) int { return r.col(name, model.String, true) }

func (r *resolver) base() base {
	return base{
		name: r.t.Name, cols: r.t.Columns, width: len(r.t.Columns),
		source: r.str("source"), stream: r.str("stream"), key: r.str("record_key"),
		customerID: r.str("customer_id"), created: r.ts("created_at"), updated: r.ts("updated_at"),
		ref: r.str("customer_ref"), email: r.str("email"),
	}
}

func (b *Builder) resolve() error {
	var errs []error
	load := func(name string) *resolver {
		t, err := model.Load(name)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		return &resolver{t: t}
	}
	rs := []*resolver{load("customer_record"), load("order"), load("ticket"), load("message"), load("event"), load("customer")}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c, o, t, m, e, out := rs[0], rs[1], rs[2], rs[3], rs[4], rs[5]

	b.cust = custCols{base: c.base(), phone: c.str("phone"), street: c.str("street"), city: c.str("city"),
		postal: c.str("postal_code"), region: c.str("region"), country: c.str("country")}
	b.ord = orderCols{base: o.base(), phone: o.str("phone"), number: o.str("order_number"), status: o.str("status"),
		orderedAt: o.ts("ordered_at"), total: o.num("total"), currency: o.str("currency"), cancelledAt: o.ts("cancelled_at")}
	b.tick = ticketCols{base: t.base(), subject: t.str("subject"), status: t.str("status"), channel: t.str("channel"), solvedAt: t.ts("solved_at")}
	b.msg = messageCols{base: m.base(), direction: m.str("direction"), subject: m.str("subject"), sentAt: m.ts("sent_at"), channel: m.str("channel")}
	b.evt = eventCols{base: e.base(), typ: e.str("type"), occurredAt: e.ts("occurred_at"), channel: e.str("channel"),
		amount: e.num("amount"), currency: e.str("currency"), description: e.str("description")}

	b.scalars = []scalar{
		{name: "first_name", kind: kindName, in: c.str("first_name"), out: out.str("first_name")},
		{name: "last_name", kind: kindName, in: c.str("last_name"), out: out.str("last_name")},
		{name: "full_name", kind: kindName, in: c.str("full_name"), out: out.str("full_name")},
		{name: "birth_date", kind: kindDate, in: c.col("birth_date", model.Date, false), out: out.col("birth_date", model.Date, false)},
		{name: "gender", kind: kindLower, in: c.str("gender"), out: out.str("gender")},
		{name: "company", kind: kindName, in: c.str("company"), out: out.str("company")},
		{name: "language", kind: kindLower, in: c.str("language"), out: out.str("language")},
		{name: "consent_email", kind: kindFlag, in: c.col("consent_email", model.Boolean, false), out: out.col("consent_email", model.Boolean, false)},
		{name: "consent_sms", kind: kindFlag, in: c.col("consent_sms", model.Boolean, false), out: out.col("consent_sms", model.Boolean, false)},
	}
	integer := func(name string) int { return out.col(name, model.Integer, false) }
	b.out = outCols{
		customerID: out.str("customer_id"), email: out.str("email"), emails: out.list("emails"),
		phone: out.str("phone"), phones: out.list("phones"),
		street: out.str("street"), city: out.str("city"), postal: out.str("postal_code"),
		region: out.str("region"), country: out.str("country"),
		firstSeen: out.ts("first_seen"), lastSeen: out.ts("last_seen"), sources: out.list("sources"),
		recordCount: integer("record_count"), ordersCount: integer("orders_count"), revenue: out.num("revenue_total"),
		firstOrder: out.ts("first_order_at"), lastOrder: out.ts("last_order_at"), avgOrder: out.num("avg_order_value"),
		ticketsTotal: integer("tickets_total"), ticketsOpen: integer("tickets_open"), lastTicket: out.ts("last_ticket_at"),
		messagesIn: integer("messages_in"), messagesOut: integer("messages_out"), lastContact: out.ts("last_contact_at"),
		channels: out.list("channels"), daysSince: integer("days_since_last_purchase"),
		rfmRecency: integer("rfm_recency_days"), rfmFreq: integer("rfm_frequency"), rfmMoney: out.num("rfm_monetary"),
	}
	b.outWidth, b.evWidth = len(out.t.Columns), len(e.t.Columns)
	b.reads = map[string][]int{}
	for _, r := range rs[:5] {
		b.reads[r.t.Name] = slices.Compact(slices.Sorted(slices.Values(r.used)))
	}
	for _, r := range rs {
		errs = append(errs, r.errs...)
	}
	return errors.Join(errs...)
}

// Reads lists the columns of an input table (customer_record, order,
// ticket, message, event) that Profile and Journey read, ascending. Rows
// given to them need only these; the other columns may be nil. A caller
// that materializes rows for profiles can skip the rest.
func (b *Builder) Reads(table string) []int { return b.reads[table] }

// Stats returns what the builder left out so far, over all customers.
func (b *Builder) Stats() Stats { return b.stats }

// start resets the per-customer state and checks the rows' widths.
func (b *Builder) start(r *Records) error {
	if r.CustomerID == "" {
		return errors.New("profile: a customer without a customer_id")
	}
	b.cid, b.err = r.CustomerID, nil
	for _, t := range []struct {
		cols *base
		rows [][]any
	}{{&b.cust.base, r.Customers}, {&b.ord.base, r.Orders}, {&b.tick.base, r.Tickets}, {&b.msg.base, r.Messages}, {&b.evt.base, r.Events}} {
		for i, row := range t.rows {
			if len(row) != t.cols.width {
				return fmt.Errorf("profile of customer %s: %s row %d has %d values, the table has %d columns", r.CustomerID, t.cols.name, i, len(row), t.cols.width)
			}
		}
	}
	return nil
}

// fail records the first wrongly typed value of the current customer.
func (b *Builder) fail(t *base, row []any, col int, want string) {
	if b.err == nil {
		got := fmt.Sprintf("holds %T", row[col])
		if row[col] == nil {
			got = "is empty"
		}
		b.err = fmt.Errorf("profile of customer %s: %s record %v/%v/%v: column %s %s, want %s",
			b.cid, t.name, row[t.source], row[t.stream], row[t.key], t.cols[col].Name, got, want)
	}
}

// str returns a string column trimmed; "" when absent.
func (b *Builder) str(t *base, row []any, col int) string {
	switch v := row[col].(type) {
	case nil:
		return ""
	case string:
		return trim(v)
	}
	b.fail(t, row, col, "string")
	return ""
}

// trim is strings.TrimSpace with the common case, nothing to trim, decided
// by two byte comparisons inline.
func trim(s string) string {
	if s == "" || (s[0] > ' ' && s[0] < 0x80 && s[len(s)-1] > ' ' && s[len(s)-1] < 0x80) {
		return s
	}
	return strings.TrimSpace(s)
}

// strAny is str boxed, reusing the row's value when it needs no trimming.
func (b *Builder) strAny(t *base, row []any, col int) any {
	s := b.str(t, row, col)
	switch {
	case s == "":
		return nil
	case s == row[col]:
		return row[col]
	}
	return s
}

// when returns a time column; the zero tval when absent.
func (b *Builder) when(t *base, row []any, col int) tval {
	switch v := row[col].(type) {
	case nil:
		return tval{}
	case time.Time:
		if v.IsZero() {
			return tval{}
		}
		return tval{v, row[col]}
	}
	b.fail(t, row, col, "time.Time")
	return tval{}
}

// maxAmount bounds amounts so that their sum in units of 1/10000 fits an int64.
const maxAmount = 1e14

// num returns an amount column.
func (b *Builder) num(t *base, row []any, col int) (float64, bool) {
	switch v := row[col].(type) {
	case nil:
		return 0, false
	case float64:
		if math.Abs(v) < maxAmount { // false for NaN too
			return v, true
		}
		b.fail(t, row, col, "an amount below 10^14")
		return 0, false
	}
	b.fail(t, row, col, "float64")
	return 0, false
}

// flag returns a boolean column boxed, or nil.
func (b *Builder) flag(t *base, row []any, col int) any {
	switch row[col].(type) {
	case nil, bool:
		return row[col]
	}
	b.fail(t, row, col, "bool")
	return nil
}

// seen widens first/last by a record's times and its journey time.
func (b *Builder) seen(t *base, row []any, at tval) {
	b.widen(b.when(t, row, t.created))
	b.widen(b.when(t, row, t.updated))
	b.widen(at)
}

func (b *Builder) widen(v tval) {
	if v.v == nil {
		return
	}
	if b.first.v == nil || v.t.Before(b.first.t) {
		b.first = v
	}
	if b.last.v == nil || v.t.After(b.last.t) {
		b.last = v
	}
}

func later(cur, v tval) tval {
	if v.v != nil && (cur.v == nil || v.t.After(cur.t)) {
		return v
	}
	return cur
}

func earlier(cur, v tval) tval {
	if v.v != nil && (cur.v == nil || v.t.Before(cur.t)) {
		return v
	}
	return cur
}

func (b *Builder) normEmail(raw string) (string, bool) {
	return b.memoized(&b.emailMemo, raw, func(s string) (string, bool) { return normalize.Email(s, normalize.EmailOptions{}) })
}

func (b *Builder) normPhone(raw string) (string, bool) {
	return b.memoized(&b.phoneMemo, raw, b.phoneFn)
}

func (b *Builder) memoized(m *[]memo, raw string, f func(string) (string, bool)) (string, bool) {
	for _, e := range *m {
		if e.raw == raw {
			return e.norm, e.ok
		}
	}
	n, ok := f(raw)
	if len(*m) < memoSize {
		*m = append(*m, memo{raw, n, ok})
	}
	return n, ok
}

// sortedSet sorts and dedupes buf in place and returns a copy the caller
// may keep, never nil; first, when not empty, goes to the front.
func sortedSet(buf []string, first string) []string {
	slices.Sort(buf)
	buf = slices.Compact(buf)
	if len(buf) == 0 {
		return []string{}
	}
	out := make([]string, 0, len(buf))
	if first != "" {
		out = append(out, first)
	}
	for _, s := range buf {
		if s != first {
			out = append(out, s)
		}
	}
	return out
}
