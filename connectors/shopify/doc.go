// Package shopify is the shopify connector: customers, orders and refunds
// of one store through the Shopify GraphQL Admin API
// (POST /admin/api/VERSION/graphql.json, X-Shopify-Access-Token).
//
// Paging and state. Each stream pages with first/after and
// pageInfo{hasNextPage endCursor}, sorted by UPDATED_AT. A read filters
// with query: "updated_at:>='T'", T being the newest updatedAt the last
// complete read delivered less search_lookback (default 10 minutes): the
// search index lists a change some time after it was made, and the
// look-back reads a change that arrived late. Records delivered in that
// window are remembered (id and updatedAt) and skipped when unchanged;
// updatedAt has whole seconds, so a record read in the second it changed
// is not remembered, and a second change within that second is read too.
// The connector checkpoints after every page; while a read is under way
// the checkpoint holds its search and endCursor, so an interrupted read
// resumes where it stopped and a record updated during the read never
// moves the search past records not read yet. A page Shopify refuses as
// too costly (MAX_COST_EXCEEDED) is asked again at half the size. Refunds
// have no list query of their own: the refunds stream reads the orders
// updated since its checkpoint (a refund updates its order) and emits each
// of their refunds, up to 10 an order (a warning names an order with more),
// with a reference to the order.
//
// Not read: deleted customers and orders (the customers and orders
// queries do not return them; `desilo sync --full-refresh --source NAME`
// replaces what is staged with what the store holds now), and, without
// the read_all_orders scope, orders older than 60 days.
//
// Rate limits. Shopify charges each query its calculated cost from a
// leaky bucket (extensions.cost.throttleStatus). The connector remembers
// the bucket after each response and, before the next query, waits until
// the bucket refilled at restoreRate holds the query's requested cost; a
// query answered THROTTLED anyway is retried after such a wait, up to
// max_retries times. HTTP 429 (honouring Retry-After), 5xx and network
// errors are retried by the shared HTTP client; so is, with the same
// backoff and max_retries, a GraphQL INTERNAL_SERVER_ERROR, which Shopify
// returns instead of a 500 in most cases. Other GraphQL errors fail
// the read with Shopify's messages; the token never appears in an error
// or a log.
//
// Records are the GraphQL nodes as Shopify returns them (money as decimal
// strings in shop and presentment currency). Customers get two derived
// fields, consent_email and consent_sms (marketing state SUBSCRIBED).
// Every stream has a default mapping: customers → customer, orders →
// order, refunds → event (type refund). customer_ref of orders and refunds
// is the customer's global id, the customers stream's primary key.
package shopify
