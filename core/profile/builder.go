package profile

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/normalize"
	"github.com/desilo/desilo/core/rowset"
)

// Records are the mapped rows of one customer. Profiles read them where
// they are held, typed (core/rowset): nothing is boxed per value.
type Records struct {
	CustomerID string
	// Rows of the tables customer_record, order, ticket, message, event.
	Customers, Orders, Tickets, Messages, Events []Row
}

// Row is one input record: row I of Set, a set of the record's table.
type Row struct {
	Set *rowset.Set
	I   int
}

// str returns a String column trimmed; "" when null.
func (r Row) str(col int) string { return trim(r.Set.String(r.I, col)) }

// when returns a Timestamp or Date column; ok false when null or zero.
func (r Row) when(col int) tval {
	t, ok := r.Set.Time(r.I, col)
	return tval{t, ok && !t.IsZero()}
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
	outTable *model.Table // customer
	evTable  *model.Table // event
	stats    Stats

	// The output row being filled: row di of dst.
	dst *rowset.Set
	di  int

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
	voided     []string // source NUL record_key of the cancelled orders
	freq       []freqCand
	emailMemo  []memo
	phoneMemo  []memo
	items      []item
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

// tval is a time that may be absent (ok false).
type tval struct {
	t  time.Time
	ok bool
}

// base holds the columns every mapped table shares.
type base struct {
	table                                                  *model.Table // shared (model.Load): rows are checked by pointer
	source, stream, key, customerID, created, updated, ref int
	email                                                  int
}

type custCols struct {
	base
	phone, street, city, postal, region, country int
}

type orderCols struct {
	base
	phone, number, status, financial, orderedAt, total, currency, cancelledAt int
}

type ticketCols struct {
	base
	phone, subject, status, channel, solvedAt int
}

type messageCols struct {
	base
	direction, subject, sentAt, channel int
}

type eventCols struct {
	base
	typ, occurredAt, channel, amount, currency, description, orderRef int
}

type outCols struct {
	customerID, email, emails, phone, phones                           int
	street, city, postal, region, country                              int
	firstSeen, lastSeen, sources, recordCount                          int
	ordersCount, revenue, revCurrency, firstOrder, lastOrder, avgOrder int
	ticketsTotal, ticketsOpen, lastTicket, messagesIn, messagesOut     int
	lastContact, channels, daysSince, rfmRecency, rfmFreq, rfmMoney    int
}

// Fields are the names survivorship rules may be configured for.
var Fields = []string{"first_name", "last_name", "full_name", "email", "phone", "birth_date",
	"gender", "company", "address", "language", "consent_email", "consent_sms"}

// New resolves the model's columns and compiles the survivorship rules.
func New(opts Options) (*Builder, error) {
	if opts.AsOf.IsZero() {
		return nil, errors.New("profile: Options.AsOf is required (the build's time)")
	}
	phoneFn, err := normalize.PhoneFunc(opts.DefaultRegion)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	if err := checkSurvivorship(opts.Survivorship); err != nil {
		return nil, err
	}
	asOf := opts.AsOf.UTC()
	b := &Builder{asOf: asOf, phoneFn: phoneFn}
	if err := b.resolve(); err != nil {
		return nil, fmt.Errorf("profile: the model does not have the columns profiles need: %w", err)
	}
	s := opts.Survivorship
	for i := range b.scalars {
		b.scalars[i].rule = compile(s.For(b.scalars[i].name))
	}
	b.address, b.email, b.phone = compile(s.For("address")), compile(s.For("email")), compile(s.For("phone"))
	return b, nil
}

// checkSurvivorship rejects rules for fields that do not exist, so a typo
// in desilo.yaml does not silently leave a field on the default rule.
func checkSurvivorship(s config.Survivorship) error {
	var errs []error
	if err := checkRule("", s.Default); err != nil {
		errs = append(errs, err)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Fields)) {
		switch {
		case slices.Contains(Fields, name):
			if err := checkRule(name, s.Fields[name].Rule); err != nil {
				errs = append(errs, err)
			}
		case slices.Contains([]string{"street", "city", "postal_code", "region", "country"}, name):
			errs = append(errs, &SurvivorshipError{Field: name, Msg: "the address (street, city, postal_code, region, country) survives as a whole; configure the field \"address\""})
		default:
			errs = append(errs, &SurvivorshipError{Field: name, Msg: "not a profile field (want one of " + strings.Join(Fields, ", ") + ")"})
		}
	}
	return errors.Join(errs...)
}

// SurvivorshipError is a survivorship rule that cannot apply, for Field
// ("" for the default rule); a caller with the config file places it at
// its line.
type SurvivorshipError struct {
	Field string
	Rule  bool // the rule is wrong, not the field
	Msg   string
}

func (e *SurvivorshipError) Error() string {
	if e.Field == "" {
		return "profile: survivorship default: " + e.Msg
	}
	return fmt.Sprintf("profile: survivorship field %q: %s", e.Field, e.Msg)
}

func checkRule(field string, r config.Rule) error {
	switch r {
	case "", config.MostRecent, config.SourcePriority, config.MostFrequent:
		return nil
	}
	return &SurvivorshipError{Field: field, Rule: true, Msg: fmt.Sprintf("unknown rule %q (want most_recent, source_priority or most_frequent)", r)}
}

// resolver finds columns and checks their types, collecting every problem.
type resolver struct {
	t    *model.Table
	errs []error
}

func (r *resolver) col(name string, typ model.Type, list bool) int {
	i, ok := r.t.Index(name)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("table %s has no column %q", r.t.Name, name))
		return 0
	}
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
		table:  r.t,
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
		financial: o.str("financial_status"), orderedAt: o.ts("ordered_at"), total: o.num("total"), currency: o.str("currency"),
		cancelledAt: o.ts("cancelled_at")}
	b.tick = ticketCols{base: t.base(), phone: t.str("phone"), subject: t.str("subject"), status: t.str("status"),
		channel: t.str("channel"), solvedAt: t.ts("solved_at")}
	b.msg = messageCols{base: m.base(), direction: m.str("direction"), subject: m.str("subject"), sentAt: m.ts("sent_at"), channel: m.str("channel")}
	b.evt = eventCols{base: e.base(), typ: e.str("type"), occurredAt: e.ts("occurred_at"), channel: e.str("channel"),
		amount: e.num("amount"), currency: e.str("currency"), description: e.str("description"), orderRef: e.str("order_ref")}

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
		revCurrency: out.str("revenue_currency"),
		firstOrder:  out.ts("first_order_at"), lastOrder: out.ts("last_order_at"), avgOrder: out.num("avg_order_value"),
		ticketsTotal: integer("tickets_total"), ticketsOpen: integer("tickets_open"), lastTicket: out.ts("last_ticket_at"),
		messagesIn: integer("messages_in"), messagesOut: integer("messages_out"), lastContact: out.ts("last_contact_at"),
		channels: out.list("channels"), daysSince: integer("days_since_last_purchase"),
		rfmRecency: integer("rfm_recency_days"), rfmFreq: integer("rfm_frequency"), rfmMoney: out.num("rfm_monetary"),
	}
	b.outTable, b.evTable = out.t, e.t
	for _, r := range rs {
		errs = append(errs, r.errs...)
	}
	return errors.Join(errs...)
}

// Stats returns what the builder left out so far, over all customers.
func (b *Builder) Stats() Stats { return b.stats }

// start resets the per-customer state and checks that each row comes
// from a set of its table.
func (b *Builder) start(r *Records) error {
	if r.CustomerID == "" {
		return errors.New("profile: a customer without a customer_id")
	}
	b.cid, b.err = r.CustomerID, nil
	for _, t := range []struct {
		cols *base
		rows []Row
	}{{&b.cust.base, r.Customers}, {&b.ord.base, r.Orders}, {&b.tick.base, r.Tickets}, {&b.msg.base, r.Messages}, {&b.evt.base, r.Events}} {
		for i, row := range t.rows {
			if row.Set == nil || row.Set.Table() != t.cols.table {
				return fmt.Errorf("profile of customer %s: %s row %d is not a row of table %s", r.CustomerID, t.cols.table.Name, i, t.cols.table.Name)
			}
		}
	}
	return nil
}

// fail records the first bad value of the current customer.
func (b *Builder) fail(t *base, row Row, col int, want string) {
	if b.err == nil {
		b.err = fmt.Errorf("profile of customer %s: %s record %s/%s/%s: column %s: want %s",
			b.cid, t.table.Name, row.str(t.source), row.str(t.stream), row.str(t.key), t.table.Columns[col].Name, want)
	}
}

// trim cuts invisible characters from both ends of s, with the common
// case, nothing to cut, decided by two byte comparisons inline.
func trim(s string) string {
	if s == "" || (s[0] > ' ' && s[0] < 0x7f && s[len(s)-1] > ' ' && s[len(s)-1] < 0x7f) {
		return s
	}
	return strings.TrimFunc(s, invisible)
}

// invisible is a character that shows nothing: white space, a control or
// a format character (zero-width space, joiners, a byte-order mark). A
// value of only such characters is no value.
func invisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// maxAmount bounds amounts so that their sum in units of 1/10000 fits an int64.
const maxAmount = 1e14

// num returns an amount column.
func (b *Builder) num(t *base, row Row, col int) (float64, bool) {
	if row.Set.Null(row.I, col) {
		return 0, false
	}
	if v := math.Float64frombits(row.Set.Word(row.I, col)); math.Abs(v) < maxAmount { // false for NaN too
		return v, true
	}
	b.fail(t, row, col, "an amount below 10^14")
	return 0, false
}

// The output row's setters: each sets column col of row di of dst.

func (b *Builder) putStr(col int, s string) {
	if s != "" {
		b.dst.PutText(b.di, col, s)
	}
}

func (b *Builder) putTime(col int, v tval) {
	if v.ok {
		b.dst.PutWord(b.di, col, uint64(v.t.UnixMicro()))
	}
}

func (b *Builder) putInt(col int, x int64) { b.dst.PutWord(b.di, col, uint64(x)) }

func (b *Builder) putFloat(col int, x float64) { b.dst.PutWord(b.di, col, math.Float64bits(x)) }

// copyCol sets column col to column from of row as it is, untrimmed; a
// null leaves it null. The two columns must have the same type.
func (b *Builder) copyCol(col int, row Row, from int) {
	switch {
	case row.Set.Null(row.I, from):
	case row.Set.Table().Columns[from].Type == model.String:
		b.dst.PutText(b.di, col, row.Set.String(row.I, from))
	default:
		b.dst.PutWord(b.di, col, row.Set.Word(row.I, from))
	}
}

// seen widens first/last by a record's times and its journey time.
func (b *Builder) seen(t *base, row Row, at tval) {
	b.widen(row.when(t.created))
	b.widen(row.when(t.updated))
	b.widen(at)
}

func (b *Builder) widen(v tval) {
	if !v.ok {
		return
	}
	if !b.first.ok || v.t.Before(b.first.t) {
		b.first = v
	}
	if !b.last.ok || v.t.After(b.last.t) {
		b.last = v
	}
}

func later(cur, v tval) tval {
	if v.ok && (!cur.ok || v.t.After(cur.t)) {
		return v
	}
	return cur
}

func earlier(cur, v tval) tval {
	if v.ok && (!cur.ok || v.t.Before(cur.t)) {
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

// putSet sets list column col to buf sorted and deduplicated (in place),
// an empty list when buf is empty; first, when not empty, goes to the
// front.
func (b *Builder) putSet(col int, buf []string, first string) {
	slices.Sort(buf)
	buf = slices.Compact(buf)
	b.dst.PutEmptyList(b.di, col)
	if first != "" {
		b.dst.AddText(b.di, col, first)
	}
	for _, s := range buf {
		if s != first {
			b.dst.AddText(b.di, col, s)
		}
	}
}
