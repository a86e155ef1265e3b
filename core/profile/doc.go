// Package profile builds one customer's row of the customer table and the
// customer's journey (event rows) from the mapped records identity linked
// to the customer, then scores recency, frequency and monetary value
// across all customers (AssignRFM).
//
// Rows are typed (core/rowset), in the column order of
// schema/*.schema.json (see core/model): a Builder reads each record where
// its set holds it and appends the customer and event rows to sets of
// those tables, so no value is boxed on the way. AssignRFM and RFM.Score
// also take []any rows. A Builder resolves the column positions once; it
// keeps buffers between calls and is not safe for concurrent use: give
// each goroutine its own.
//
// # Survivorship
//
// Each of first_name, last_name, full_name, email, phone, birth_date,
// gender, company, language, consent_email, consent_sms and the address
// block takes its value from one customer record, by the field's rule
// (config.Survivorship.For; the address block's rule is configured as the
// field "address"). Only records that hold a value take part: a string
// that is empty after trimming, a missing date or consent is no value.
//
//   - most_recent (the default): the record changed last, by updated_at,
//     else created_at; records with neither come last. Ties go to the
//     smallest (source, stream, record_key), so the result never depends
//     on the order the records arrive in.
//   - source_priority: the first listed source holding a value (its most
//     recent record); when none does, most_recent among the rest.
//   - most_frequent: the value most records agree on after normalization
//     (names case-folded as by normalize.Name, gender and language
//     lowercased, the address block as a whole); a tie goes to the value
//     of the most recent record. The surviving spelling is that of the
//     group's most recent record.
//
// The address block (street, city, postal_code, region, country) comes
// from one record, so a street is never paired with another record's
// city. Records with a street, city or postal code take part; only when
// none has one do records with just a region or country. country is
// written as an ISO 3166-1 alpha-2 code when normalize.Country knows it.
//
// email and phone are normalized (normalize.Email without provider rules;
// normalize.Phone to E.164 with Options.DefaultRegion). The primary one is
// chosen by its field's rule among the customer records; when none holds
// a valid one, among the customer's orders, tickets, messages and events.
// emails and phones list every distinct valid value of every record of
// the customer, the primary first, the rest sorted. Invalid values stay
// out of the lists (they remain in the source rows and the order, ticket
// and message tables) and are counted in Stats.
//
// # Traits
//
// Times: every record contributes its created_at and updated_at, and its
// journey time (below); first_seen and last_seen are the earliest and the
// latest of them. A customer none of whose records carries any time gets
// Options.AsOf for both. record_count counts the records of all entities.
//
// Orders: an order is cancelled when cancelled_at is set, its status is
// cancelled, canceled, refunded, failed, voided or checkout-draft, or its
// financial_status is voided or expired (any case). Cancelled orders stay
// in the journey and in channels but count nowhere else.
// orders_count, first_order_at and last_order_at (ordered_at, else
// created_at) cover the other orders.
//
// Revenue: revenue_total is the sum of the totals of those orders minus
// refunds: events of type refund (any case), whose amount is subtracted
// whatever its sign, except a refund whose order_ref names a cancelled
// order of its source (a paid order that is cancelled is refunded too,
// and its total never counted). A refund without order_ref is not tied to
// an order, so a connector maps a full refund either as an order status
// (WooCommerce) or as a refund event, never both. Currencies are never
// added up: the customer's main currency is the one stated by most orders
// (ties: by most refunds, then the one used last, then the alphabetically
// first; refunds decide only among currencies as many orders state); amounts in
// other currencies are left out of revenue and counted in Stats. An
// amount without a currency is taken to be in the main currency, which
// revenue_currency names (absent when no amount states one). Amounts
// are summed in units of 1/10000, so the sum does not depend on order.
// avg_order_value is revenue_total divided by the number of orders that
// went into it (those with a total in the main currency).
//
// Tickets: tickets_total counts all; a ticket is open unless its status is
// solved or closed, or it has no status and solved_at is set (a reopened
// ticket keeps the solved_at of before). last_ticket_at is the latest
// created_at. Messages: messages_in and messages_out count by direction; a
// message without one counts in neither.
//
// channels: "shop" for an order, a ticket's channel else "support", a
// message's channel else "email", an event's channel when set; lowercased,
// distinct, sorted. last_contact_at is the latest journey time.
// days_since_last_purchase and rfm_recency_days are whole days from
// last_order_at to Options.AsOf (0 when the order lies after AsOf);
// rfm_frequency is orders_count and rfm_monetary revenue_total, all three
// absent for a customer without orders. AssignRFM sets rfm_r, rfm_f, rfm_m
// and rfm_score over the whole population, except that rfm_m compares a
// customer only with those of the same revenue_currency.
//
// # Journey
//
// One event row per order (type order, at ordered_at, amount and currency
// of the order, channel shop, description its order number), per ticket
// (type ticket, at created_at, its channel else support, description its
// subject), per message (type message_in, message_out, or message without
// a direction, at sent_at, its channel else email, description its
// subject), and each mapped event as it is, its channel lowercased as in
// channels. A row's currency is upper case, as revenue_currency. A row's
// occurred_at falls back
// to created_at. Rows carry the customer id and their record's source,
// stream, record_key, created_at, updated_at, customer_ref and email, and
// come ordered by (occurred_at, source, stream, record_key); rows without
// a time come last.
package profile
