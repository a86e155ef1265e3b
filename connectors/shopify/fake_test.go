package shopify

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeShop is an httptest GraphQL Admin API written from Shopify's docs:
// POST /admin/api/VERSION/graphql.json with X-Shopify-Access-Token, the
// customers and orders connections with first/after/query and
// sortKey UPDATED_AT, pageInfo, and extensions.cost with throttleStatus.
// It routes by the query's root field and honours first, after and an
// updated_at:>='T' search filter. A node's _indexedAt, when set, is the
// time the search index holds for it (sort and filter use it; it is not
// sent): an index that has not caught up with the node's updatedAt. The
// requested cost of a page is 2 plus its size times nodeCost (default
// 10), and a page above 1,000 points is refused with MAX_COST_EXCEEDED.
type fakeShop struct {
	t     *testing.T
	token string

	mu        sync.Mutex
	customers []map[string]any
	orders    []map[string]any
	// script holds responses sent, one per request, before normal answers.
	script []func(w http.ResponseWriter)
	// available is the throttleStatus.currentlyAvailable reported.
	available float64
	// searches records the query variable of every connection request.
	searches []string
	requests int
	// nodeCost is the requested cost of one node, by root field.
	nodeCost map[string]float64
	// date, when set, is the server's clock in the Date header.
	date time.Time
}

const (
	fakeToken       = "shpat_fake_0123456789abcdef"
	fakeMaxBucket   = 1000.0
	fakeRestoreRate = 50.0
)

func newFakeShop(t *testing.T) (*fakeShop, *httptest.Server) {
	f := &fakeShop{t: t, token: fakeToken, available: fakeMaxBucket}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func ts(minute int) string {
	return time.Date(2024, 5, 1, 10, minute, 0, 0, time.UTC).Format(time.RFC3339)
}

func (f *fakeShop) addCustomer(n int, updated string, emailState string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := map[string]any{
		"id": fmt.Sprintf("gid://shopify/Customer/%d", n), "firstName": "First" + fmt.Sprint(n), "lastName": "Last",
		"createdAt": ts(0), "updatedAt": updated, "state": "ENABLED", "tags": []any{}, "numberOfOrders": "1",
		"amountSpent":         map[string]any{"amount": "49.9", "currencyCode": "EUR"},
		"defaultEmailAddress": map[string]any{"emailAddress": fmt.Sprintf("c%d@example.com", n), "marketingState": emailState, "marketingOptInLevel": "SINGLE_OPT_IN", "marketingUpdatedAt": nil},
		"defaultPhoneNumber":  nil,
		"defaultAddress":      map[string]any{"id": "gid://shopify/MailingAddress/1", "address1": "Hauptstr. 1", "address2": nil, "city": "Berlin", "zip": "10115", "province": nil, "provinceCode": nil, "country": "Germany", "countryCodeV2": "DE", "company": nil, "phone": nil},
		"addressesV2":         map[string]any{"nodes": []any{}},
	}
	f.customers = append(f.customers, c)
}

func (f *fakeShop) addOrder(n int, updated string, customer int, refunds int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	moneyBag := func(a string) map[string]any {
		return map[string]any{"shopMoney": map[string]any{"amount": a, "currencyCode": "EUR"}, "presentmentMoney": map[string]any{"amount": a, "currencyCode": "EUR"}}
	}
	var rs []any
	for i := 1; i <= refunds; i++ {
		rs = append(rs, map[string]any{"id": fmt.Sprintf("gid://shopify/Refund/%d%02d", n, i), "createdAt": updated, "note": nil, "totalRefundedSet": moneyBag("5.00")})
	}
	var cust any
	if customer > 0 {
		cust = map[string]any{"id": fmt.Sprintf("gid://shopify/Customer/%d", customer)}
	}
	f.orders = append(f.orders, map[string]any{
		"id": fmt.Sprintf("gid://shopify/Order/%d", n), "name": fmt.Sprintf("#%d", 1000+n), "email": "buyer@example.com", "phone": nil,
		"createdAt": ts(0), "processedAt": ts(0), "updatedAt": updated, "cancelledAt": nil, "cancelReason": nil, "closedAt": nil,
		"displayFinancialStatus": "PAID", "displayFulfillmentStatus": "FULFILLED", "currencyCode": "EUR", "presentmentCurrencyCode": "EUR",
		"subtotalLineItemsQuantity": 2, "test": false,
		"totalPriceSet": moneyBag("1234567.89"), "subtotalPriceSet": moneyBag("1234567.89"), "totalTaxSet": moneyBag("0.00"), "totalRefundedSet": moneyBag("0.00"),
		"customer":  cust,
		"lineItems": map[string]any{"pageInfo": map[string]any{"hasNextPage": false}, "nodes": []any{map[string]any{"id": "gid://shopify/LineItem/1", "title": "Mug", "sku": "M1", "quantity": 2, "variant": nil, "originalUnitPriceSet": moneyBag("10.00")}}},
		"refunds":   rs,
	})
}

var (
	rootFieldRE = regexp.MustCompile(`\{\s*(\w+)\s*[({]`)
	searchRE    = regexp.MustCompile(`^updated_at:>='([^']+)'$`)
)

func (f *fakeShop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if !f.date.IsZero() {
		w.Header().Set("Date", f.date.Format(http.TimeFormat))
	}
	if r.Method != http.MethodPost || r.URL.Path != "/admin/api/2025-10/graphql.json" {
		http.Error(w, `{"errors":"Not Found"}`, http.StatusNotFound)
		return
	}
	if r.Header.Get("X-Shopify-Access-Token") != f.token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
		return
	}
	if len(f.script) > 0 {
		next := f.script[0]
		f.script = f.script[1:]
		next(w)
		return
	}
	var body struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"errors":"bad body"}`, http.StatusBadRequest)
		return
	}
	m := rootFieldRE.FindStringSubmatch(body.Query)
	if m == nil {
		f.t.Errorf("fake shop: no root field in %q", body.Query)
		http.Error(w, "no root field", http.StatusBadRequest)
		return
	}
	var data map[string]any
	cost := 1.0
	switch m[1] {
	case "shop":
		data = map[string]any{"shop": map[string]any{"name": "Fake"}, "customers": map[string]any{"nodes": []any{}}, "orders": map[string]any{"nodes": []any{}}}
	case "customers", "orders":
		nodes := f.customers
		if m[1] == "orders" {
			nodes = f.orders
		}
		conn, err := f.connection(nodes, body.Variables)
		if err != nil {
			f.t.Errorf("fake shop: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		data = map[string]any{m[1]: conn}
		per := 10.0
		if c, ok := f.nodeCost[m[1]]; ok {
			per = c
		}
		if cost = 2 + per*body.Variables["first"].(float64); cost > 1000 {
			json.NewEncoder(w).Encode(map[string]any{
				"errors": []any{map[string]any{"message": fmt.Sprintf("Query cost is %.0f, which exceeds the single query max cost limit (1000).", cost),
					"extensions": map[string]any{"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": 1000}}},
				"extensions": f.costExtension(cost, nil),
			})
			return
		}
	default:
		f.t.Errorf("fake shop: unknown root field %s", m[1])
	}
	json.NewEncoder(w).Encode(map[string]any{"data": data, "extensions": f.costExtension(cost, &cost)})
}

func (f *fakeShop) costExtension(requested float64, actual *float64) map[string]any {
	return map[string]any{"cost": map[string]any{
		"requestedQueryCost": requested, "actualQueryCost": actual,
		"throttleStatus": map[string]any{"maximumAvailable": fakeMaxBucket, "currentlyAvailable": f.available, "restoreRate": fakeRestoreRate},
	}}
}

// connection pages through nodes sorted by (updatedAt, id); a cursor is
// the id of the last node of the previous page.
func (f *fakeShop) connection(all []map[string]any, vars map[string]any) (map[string]any, error) {
	first, ok := vars["first"].(float64)
	if !ok || first < 1 || first > 250 {
		return nil, fmt.Errorf("first = %v, want 1..250", vars["first"])
	}
	search, _ := vars["query"].(string)
	f.searches = append(f.searches, search)
	var from time.Time
	if search != "" {
		m := searchRE.FindStringSubmatch(search)
		if m == nil {
			return nil, fmt.Errorf("search %q is not updated_at:>='T'", search)
		}
		t, err := time.Parse(time.RFC3339, m[1])
		if err != nil {
			return nil, err
		}
		from = t
	}
	indexed := func(n map[string]any) time.Time {
		v := n["updatedAt"].(string)
		if ix, ok := n["_indexedAt"].(string); ok {
			v = ix
		}
		t, _ := time.Parse(time.RFC3339, v)
		return t
	}
	order := func(a, b map[string]any) int {
		if c := indexed(a).Compare(indexed(b)); c != 0 {
			return c
		}
		return cmp.Compare(a["id"].(string), b["id"].(string))
	}
	nodes := slices.Clone(all)
	slices.SortStableFunc(nodes, order)
	nodes = slices.DeleteFunc(nodes, func(n map[string]any) bool { return indexed(n).Before(from) })
	if after, _ := vars["after"].(string); after != "" {
		// A cursor is a position in the sort order, "time|id", as
		// Shopify's encode the sort key: paging on after it works even
		// when that node has changed since.
		at, id, ok := strings.Cut(after, "|")
		if !ok {
			return nil, fmt.Errorf("unknown cursor %q", after)
		}
		pos := map[string]any{"updatedAt": at, "id": id}
		nodes = slices.DeleteFunc(nodes, func(n map[string]any) bool { return order(n, pos) <= 0 })
	}
	hasNext := len(nodes) > int(first)
	if hasNext {
		nodes = nodes[:int(first)]
	}
	end := any(nil)
	if len(nodes) > 0 {
		last := nodes[len(nodes)-1]
		end = indexed(last).Format(time.RFC3339) + "|" + last["id"].(string)
	}
	out := make([]map[string]any, len(nodes))
	for i, n := range nodes {
		out[i] = maps.Clone(n)
		delete(out[i], "_indexedAt")
	}
	return map[string]any{"pageInfo": map[string]any{"hasNextPage": hasNext, "endCursor": end}, "nodes": out}, nil
}

// Scripted responses.

func status(code int, retryAfter string, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

func (f *fakeShop) throttled(requested float64) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		json.NewEncoder(w).Encode(map[string]any{
			"errors":     []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}},
			"extensions": f.costExtension(requested, nil),
		})
	}
}

// sleepRecorder is the injected sleep: it records waits and returns at once.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}
