// Package shopify is the shopify connector: customers, orders and refunds
// of one store through the Shopify GraphQL Admin API
// (POST /admin/api/VERSION/graphql.json, X-Shopify-Access-Token).
//
// Paging and state. Each stream pages with first/after and
// pageInfo{hasNextPage endCursor}, sorted by UPDATED_AT, and checkpoints
// after every page: the largest updatedAt delivered and the ids delivered
// at exactly that time. A later read filters with
// query: "updated_at:>='T'" and skips those ids, so records sharing the
// checkpoint's timestamp are neither lost nor repeated. Refunds have no
// list query of their own: the refunds stream reads the orders updated
// since its checkpoint (a refund updates its order) and emits each of their
// refunds with a reference to the order.
//
// Rate limits. Shopify charges each query its calculated cost from a
// leaky bucket (extensions.cost.throttleStatus). The connector remembers
// the bucket after each response and, before the next query, waits until
// the bucket refilled at restoreRate holds the query's requested cost; a
// query answered THROTTLED anyway is retried after such a wait, up to
// max_retries times. HTTP 429 (honouring Retry-After), 5xx and network
// errors are retried by the shared HTTP client. Other GraphQL errors fail
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
