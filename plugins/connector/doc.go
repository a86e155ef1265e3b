package connector

// Mapping targets. The unified model's JSON Schemas in schema/ are the
// authority; this is the list a connector author maps to. Every entity
// takes created_at and updated_at (timestamps; updated_at decides which
// version of a record is the latest and which value is most recent), and
// customer_ref: the primary key of the customer record of the same source
// that this record belongs to (an order's customer, a ticket's requester),
// which links the two without any configured key.
//
//	customer  email, phone, first_name, last_name, full_name, birth_date
//	          (date), gender, company, street, city, postal_code, region,
//	          country, language, consent_email (boolean), consent_sms
//	          (boolean), ids.<name> (external ids usable as match keys,
//	          e.g. ids.hubspot_contact_id)
//	order     order_number, email, phone, status, financial_status,
//	          ordered_at (timestamp), total (number, major units),
//	          currency (ISO 4217), items_count (integer), cancelled_at
//	ticket    ticket_number, email, phone, subject, status (open, pending,
//	          solved, closed), priority, channel, satisfaction,
//	          solved_at
//	message   message_id, email (the customer's side: From when
//	          inbound, To when outbound), direction (in, out), from, to,
//	          cc, subject, sent_at, thread_id, in_reply_to, size (integer),
//	          channel (email)
//	event     type (refund, deal, ...), occurred_at, email, channel,
//	          amount (number), currency, description
