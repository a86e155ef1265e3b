package profile

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/desilo/desilo/core/rowset"
)

// entity is the table a journey row comes from.
type entity uint8

const (
	fromOrder entity = iota
	fromTicket
	fromMessage
	fromEvent
)

// item is one journey row before it is written.
type item struct {
	at                  tval
	source, stream, key string
	from                entity
	row                 Row
}

// byJourney orders by time (rows without one last), then source, stream,
// record_key; the entity only separates records that share all of those.
func byJourney(a, b item) int {
	if a.at.ok != b.at.ok {
		if !a.at.ok {
			return 1
		}
		return -1
	}
	return cmp.Or(a.at.t.Compare(b.at.t), strings.Compare(a.source, b.source),
		strings.Compare(a.stream, b.stream), strings.Compare(a.key, b.key), cmp.Compare(a.from, b.from))
}

// Journey appends to out, a set of the event table, one row per order,
// ticket, message and event of the customer, in journey order (see the
// package documentation). After an error out may hold some of the rows.
func (b *Builder) Journey(r *Records, out *rowset.Set) error {
	if out.Table() != b.evTable {
		return fmt.Errorf("profile: the journey goes to a set of table %s, want %s", out.Table().Name, b.evTable.Name)
	}
	if err := b.start(r); err != nil {
		return err
	}
	b.items = b.items[:0]
	add := func(t *base, rows []Row, from entity, timeCol int) {
		for _, row := range rows {
			b.items = append(b.items, item{
				at:     b.journeyTime(t, row, timeCol),
				source: row.str(t.source), stream: row.str(t.stream), key: row.str(t.key),
				from: from, row: row,
			})
		}
	}
	add(&b.ord.base, r.Orders, fromOrder, b.ord.orderedAt)
	add(&b.tick.base, r.Tickets, fromTicket, b.tick.created)
	add(&b.msg.base, r.Messages, fromMessage, b.msg.sentAt)
	add(&b.evt.base, r.Events, fromEvent, b.evt.occurredAt)
	for _, row := range r.Events {
		if row.str(b.evt.typ) == "" {
			b.fail(&b.evt.base, row, b.evt.typ, "an event type")
		}
	}
	if b.err != nil {
		return b.err
	}
	slices.SortFunc(b.items, byJourney)

	e := &b.evt
	b.dst = out
	for i := range b.items {
		it := &b.items[i]
		b.di = out.Extend(1)
		if it.from == fromEvent {
			out.CopyRow(b.di, it.row.Set, it.row.I)
			// As in the customer's channels and revenue_currency.
			if ch := it.row.str(e.channel); ch != "" && ch != strings.ToLower(ch) {
				b.putStr(e.channel, strings.ToLower(ch))
			}
			if c := it.row.str(e.currency); c != strings.ToUpper(c) {
				b.putStr(e.currency, strings.ToUpper(c))
			}
		} else {
			b.common(it)
		}
		b.putStr(e.customerID, r.CustomerID)
		b.putTime(e.occurredAt, it.at)
		switch it.from {
		case fromOrder:
			o := &b.ord
			b.putStr(e.typ, "order")
			b.putStr(e.channel, "shop")
			b.copyCol(e.amount, it.row, o.total)
			b.putStr(e.currency, strings.ToUpper(it.row.str(o.currency)))
			b.copyCol(e.description, it.row, o.number)
		case fromTicket:
			t := &b.tick
			b.putStr(e.typ, "ticket")
			b.putStr(e.channel, channel(it.row.str(t.channel), "support"))
			b.copyCol(e.description, it.row, t.subject)
		case fromMessage:
			m := &b.msg
			b.putStr(e.typ, messageType(it.row.str(m.direction)))
			b.putStr(e.channel, channel(it.row.str(m.channel), "email"))
			b.copyCol(e.description, it.row, m.subject)
		}
	}
	return nil
}

// common copies the columns every mapped table shares into the event row.
func (b *Builder) common(it *item) {
	var t *base
	switch it.from {
	case fromOrder:
		t = &b.ord.base
	case fromTicket:
		t = &b.tick.base
	case fromMessage:
		t = &b.msg.base
	}
	e := &b.evt
	b.copyCol(e.source, it.row, t.source)
	b.copyCol(e.stream, it.row, t.stream)
	b.copyCol(e.key, it.row, t.key)
	b.copyCol(e.created, it.row, t.created)
	b.copyCol(e.updated, it.row, t.updated)
	b.copyCol(e.ref, it.row, t.ref)
	b.copyCol(e.email, it.row, t.email)
}

// channel is a record's channel (trimmed) lowercased, or fallback.
func channel(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return strings.ToLower(s) // no copy when s is lower case already
}

func messageType(direction string) string {
	switch {
	case strings.EqualFold(direction, "in"):
		return "message_in"
	case strings.EqualFold(direction, "out"):
		return "message_out"
	}
	return "message"
}
