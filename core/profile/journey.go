package profile

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
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
	row                 []any
}

// byJourney orders by time (rows without one last), then source, stream,
// record_key; the entity only separates records that share all of those.
func byJourney(a, b item) int {
	if (a.at.v == nil) != (b.at.v == nil) {
		if a.at.v == nil {
			return 1
		}
		return -1
	}
	return cmp.Or(a.at.t.Compare(b.at.t), strings.Compare(a.source, b.source),
		strings.Compare(a.stream, b.stream), strings.Compare(a.key, b.key), cmp.Compare(a.from, b.from))
}

// Journey calls emit with one event-table row per order, ticket, message
// and event of the customer, in journey order (see the package
// documentation). emit must not keep row: it is reused for the next call.
// An error from emit stops the journey and is returned.
func (b *Builder) Journey(r *Records, emit func(row []any) error) error {
	if err := b.start(r); err != nil {
		return err
	}
	b.items = b.items[:0]
	add := func(t *base, rows [][]any, from entity, timeCol int) {
		for _, row := range rows {
			b.items = append(b.items, item{
				at:     b.journeyTime(t, row, timeCol),
				source: b.str(t, row, t.source), stream: b.str(t, row, t.stream), key: b.str(t, row, t.key),
				from: from, row: row,
			})
		}
	}
	add(&b.ord.base, r.Orders, fromOrder, b.ord.orderedAt)
	add(&b.tick.base, r.Tickets, fromTicket, b.tick.created)
	add(&b.msg.base, r.Messages, fromMessage, b.msg.sentAt)
	add(&b.evt.base, r.Events, fromEvent, b.evt.occurredAt)
	for _, row := range r.Events {
		if b.str(&b.evt.base, row, b.evt.typ) == "" {
			b.fail(&b.evt.base, row, b.evt.typ, "an event type")
		}
	}
	if b.err != nil {
		return b.err
	}
	slices.SortFunc(b.items, byJourney)

	cid := any(r.CustomerID)
	e := &b.evt
	for i := range b.items {
		it := &b.items[i]
		row := b.evRow
		if it.from == fromEvent {
			copy(row, it.row)
		} else {
			clear(row)
			b.common(row, it)
		}
		row[e.customerID], row[e.occurredAt] = cid, it.at.v
		switch it.from {
		case fromOrder:
			o := &b.ord
			row[e.typ], row[e.channel] = "order", "shop"
			row[e.amount], row[e.currency], row[e.description] = it.row[o.total], it.row[o.currency], it.row[o.number]
		case fromTicket:
			t := &b.tick
			row[e.typ], row[e.channel] = "ticket", b.channelAny(&t.base, it.row, t.channel, channelSupport)
			row[e.description] = it.row[t.subject]
		case fromMessage:
			m := &b.msg
			row[e.typ], row[e.channel] = messageType(b.str(&m.base, it.row, m.direction)), b.channelAny(&m.base, it.row, m.channel, channelEmail)
			row[e.description] = it.row[m.subject]
		}
		if b.err != nil {
			return b.err
		}
		if err := emit(row); err != nil {
			return fmt.Errorf("journey of customer %s: %w", r.CustomerID, err)
		}
	}
	return nil
}

// common copies the columns every mapped table shares into an event row.
func (b *Builder) common(row []any, it *item) {
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
	row[e.source], row[e.stream], row[e.key] = it.row[t.source], it.row[t.stream], it.row[t.key]
	row[e.created], row[e.updated], row[e.ref] = it.row[t.created], it.row[t.updated], it.row[t.ref]
	row[e.email] = it.row[t.email]
}

// Values boxed once: boxing a string that is not a constant allocates.
var (
	channelSupport, channelEmail      any = "support", "email"
	messageIn, messageOut, messageAny any = "message_in", "message_out", "message"
)

// channelAny is a record's channel lowercased, or fallback, boxed without
// allocating when the value needs no change.
func (b *Builder) channelAny(t *base, row []any, col int, fallback any) any {
	s := b.str(t, row, col)
	switch {
	case s == "":
		return fallback
	case s == row[col] && s == strings.ToLower(s):
		return row[col]
	}
	return strings.ToLower(s)
}

func messageType(direction string) any {
	switch {
	case strings.EqualFold(direction, "in"):
		return messageIn
	case strings.EqualFold(direction, "out"):
		return messageOut
	}
	return messageAny
}
