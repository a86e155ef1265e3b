package shopify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/connectors/internal/httpx"
	"github.com/desilo/desilo/connectors/internal/incremental"
	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

// fixedClock never moves: the bucket refills only through the waits the
// connector asks for.
func fixedClock() time.Time { return time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC) }

func testSource(rec *sleepRecorder) *Source {
	return &Source{sleep: rec.sleep, now: fixedClock}
}

func testConfig(t *testing.T, baseURL string, extra map[string]any) json.RawMessage {
	t.Helper()
	c := map[string]any{"base_url": baseURL, "token": fakeToken, "requests_per_second": 1000}
	for k, v := range extra {
		c[k] = v
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readStreams(t *testing.T, s *Source, config, state json.RawMessage, streams ...string) (*sdktest.Collector, error) {
	t.Helper()
	c := &sdktest.Collector{}
	err := s.Read(t.Context(), connector.ReadRequest{Config: config, State: state, Streams: streams}, c)
	return c, err
}

func field(t *testing.T, r connector.Record, path ...string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.Data, &v); err != nil {
		t.Fatal(err)
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func idsOf(t *testing.T, recs []connector.Record) []string {
	t.Helper()
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprint(field(t, r, "id")))
	}
	return out
}

func customerIDs(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("gid://shopify/Customer/%d", i))
	}
	return out
}

// seedShop fills the fake with 120 customers (ids 1..120; ids 40..70 share
// one updatedAt across the page boundary at 50) and 25 orders, every
// fifth with two refunds.
func seedShop(f *fakeShop) {
	for i := 1; i <= 120; i++ {
		minute := i / 10
		if i >= 40 && i <= 70 {
			minute = 30
		} else if i > 70 {
			minute = 31 + i/10
		}
		state := "NOT_SUBSCRIBED"
		if i%2 == 0 {
			state = "SUBSCRIBED"
		}
		f.addCustomer(i, ts(minute), state)
	}
	for i := 1; i <= 25; i++ {
		refunds := 0
		if i%5 == 0 {
			refunds = 2
		}
		f.addOrder(i, ts(i), i, refunds)
	}
}

func TestReadAllStreams(t *testing.T) {
	f, srv := newFakeShop(t)
	seedShop(f)
	rec := &sleepRecorder{}
	config := testConfig(t, srv.URL, nil)
	c, err := readStreams(t, testSource(rec), config, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Stream("customers")); got != 120 {
		t.Errorf("customers = %d, want 120", got)
	}
	if got := len(c.Stream("orders")); got != 25 {
		t.Errorf("orders = %d, want 25", got)
	}
	if got := len(c.Stream("refunds")); got != 10 {
		t.Errorf("refunds = %d, want 10", got)
	}
	// One checkpoint per page: customers 3 (50, 50, 20), orders 3 (10, 10, 5), refunds 1.
	if got := len(c.Checkpoints); got != 7 {
		t.Errorf("checkpoints = %d, want 7 (one per page)", got)
	}
	for _, r := range c.Stream("customers")[:2] {
		want := field(t, r, "defaultEmailAddress", "marketingState") == "SUBSCRIBED"
		if got := field(t, r, "consent_email"); got != want || field(t, r, "consent_sms") != nil {
			t.Errorf("consent of %s: email %v (want %v), sms %v (want null)", r.Data, got, want, field(t, r, "consent_sms"))
		}
	}
	order := c.Stream("orders")[0]
	if got := field(t, order, "totalPriceSet", "shopMoney", "amount"); got != "1234567.89" {
		t.Errorf("order total = %v, want the decimal string 1234567.89", got)
	}
	refund := c.Stream("refunds")[0]
	if field(t, refund, "order", "customer", "id") != "gid://shopify/Customer/5" || field(t, refund, "order", "name") != "#1005" || field(t, refund, "refunds") != nil {
		t.Errorf("refund = %s; want its order's name and customer, and no refunds list", refund.Data)
	}
	// customer_ref of an order is a customers-stream primary key.
	customerKeys := idsOf(t, c.Stream("customers"))
	for _, o := range c.Stream("orders") {
		if ref := field(t, o, "customer", "id"); !slices.Contains(customerKeys, fmt.Sprint(ref)) {
			t.Errorf("order %v: customer.id %v is not a customer key", field(t, o, "id"), ref)
		}
	}
	if len(rec.waits) != 0 {
		t.Errorf("waited %v with a full bucket", rec.waits)
	}
}

// TestTieSafeIncremental checks the state at a timestamp shared by many
// customers: a later read asks from that timestamp less the look-back,
// skips what was delivered and reads a new customer at the same
// timestamp.
func TestTieSafeIncremental(t *testing.T) {
	f, srv := newFakeShop(t)
	for i := 1; i <= 60; i++ { // 60 customers at one timestamp: two pages
		f.addCustomer(i, ts(30), "SUBSCRIBED")
	}
	s := testSource(&sleepRecorder{})
	config := testConfig(t, srv.URL, nil)
	first, err := readStreams(t, s, config, nil, "customers")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(first.Records); got != 60 {
		t.Fatalf("first read = %d records, want 60", got)
	}
	f.addCustomer(61, ts(30), "SUBSCRIBED") // same timestamp as the checkpoint
	f.addCustomer(62, ts(45), "SUBSCRIBED")
	f.searches = nil
	next, err := readStreams(t, s, config, first.State(), "customers")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := idsOf(t, next.Records), customerIDs(61, 62); !slices.Equal(got, want) {
		t.Errorf("incremental read = %v, want %v", got, want)
	}
	if want := "updated_at:>='" + ts(20) + "'"; len(f.searches) == 0 || f.searches[0] != want {
		t.Errorf("search = %v, want %q", f.searches, want)
	}
	again, err := readStreams(t, s, config, next.State(), "customers")
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Records) != 0 {
		t.Errorf("third read emitted %v", idsOf(t, again.Records))
	}
}

// TestPageSizeShrinksToFitTheMaxCost checks pages that cost more than
// Shopify runs in one query: the connector halves the page size until
// a page fits, and reads everything.
func TestPageSizeShrinksToFitTheMaxCost(t *testing.T) {
	f, srv := newFakeShop(t)
	seedShop(f)
	f.nodeCost = map[string]float64{"orders": 141} // 10 a page: 1,412 points
	c, err := readStreams(t, testSource(&sleepRecorder{}), testConfig(t, srv.URL, nil), nil, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Records); got != 25 {
		t.Errorf("orders = %d, want 25", got)
	}
}

// TestLateIndexedChangeIsReadByTheLookback checks a change the search
// index lists after a later one was read: the next read's look-back finds
// it, and without a look-back it is lost.
func TestLateIndexedChangeIsReadByTheLookback(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra map[string]any
		want  []string
	}{
		{"default look-back", nil, customerIDs(2, 2)},
		{"look-back off", map[string]any{"search_lookback": "0s"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeShop(t)
			f.addCustomer(1, ts(10), "SUBSCRIBED")
			f.addCustomer(3, ts(20), "SUBSCRIBED")
			s := testSource(&sleepRecorder{})
			config := testConfig(t, srv.URL, tc.extra)
			first, err := readStreams(t, s, config, nil, "customers")
			if err != nil {
				t.Fatal(err)
			}
			f.addCustomer(2, ts(15), "SUBSCRIBED") // the index lists it only now
			next, err := readStreams(t, s, config, first.State(), "customers")
			if err != nil {
				t.Fatal(err)
			}
			if got := idsOf(t, next.Records); !slices.Equal(got, tc.want) {
				t.Errorf("next read = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestResumeAfterANodeAheadOfTheIndex checks a read interrupted after a
// node whose updatedAt is far ahead of where the index sorts it (it was
// updated during the read): the resumed read pages on from the cursor and
// delivers every record once.
func TestResumeAfterANodeAheadOfTheIndex(t *testing.T) {
	f, srv := newFakeShop(t)
	f.addCustomer(1, ts(59), "SUBSCRIBED")
	f.customers[0]["_indexedAt"] = ts(1)
	for i := 2; i <= 58; i++ {
		f.addCustomer(i, ts(i), "SUBSCRIBED")
	}
	s := testSource(&sleepRecorder{})
	config := testConfig(t, srv.URL, nil)
	failing := sdktest.StopAfter(55, errors.New("host went away"))
	if err := s.Read(t.Context(), connector.ReadRequest{Config: config, Streams: []string{"customers"}}, failing); err == nil {
		t.Fatal("interrupted read returned nil")
	}
	resumed, err := readStreams(t, s, config, failing.State(), "customers")
	if err != nil {
		t.Fatal(err)
	}
	got := append(idsOf(t, failing.Delivered()), idsOf(t, resumed.Records)...)
	slices.Sort(got)
	want := customerIDs(1, 58)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("delivered + resumed = %d records %v, want each of the 58 once (state after page 1: %s)", len(got), got, failing.State())
	}
}

// TestSecondChangeInTheSameSecond checks a record read in the second it
// changed: it may change again within that second without a new
// updatedAt, so the next read emits it again rather than skipping it.
func TestSecondChangeInTheSameSecond(t *testing.T) {
	f, srv := newFakeShop(t)
	f.addCustomer(1, ts(29), "NOT_SUBSCRIBED")
	f.addCustomer(2, ts(30), "NOT_SUBSCRIBED")
	f.date, _ = time.Parse(time.RFC3339, ts(30)) // the server's clock: in customer 2's second
	s := testSource(&sleepRecorder{})
	config := testConfig(t, srv.URL, nil)
	first, err := readStreams(t, s, config, nil, "customers")
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.customers[1]["defaultEmailAddress"].(map[string]any)["marketingState"] = "SUBSCRIBED" // same second
	f.date = f.date.Add(time.Minute)
	f.mu.Unlock()
	next, err := readStreams(t, s, config, first.State(), "customers")
	if err != nil {
		t.Fatal(err)
	}
	if got := idsOf(t, next.Records); !slices.Equal(got, customerIDs(2, 2)) {
		t.Fatalf("next read = %v, want customer 2 again (customer 1's second had passed)", got)
	}
	if field(t, next.Records[0], "consent_email") != true {
		t.Errorf("customer 2 = %s, want its second change", next.Records[0].Data)
	}
}

func TestResumeMidStream(t *testing.T) {
	f, srv := newFakeShop(t)
	seedShop(f)
	s := testSource(&sleepRecorder{})
	config := testConfig(t, srv.URL, nil)
	full, err := readStreams(t, s, config, nil, "customers")
	if err != nil {
		t.Fatal(err)
	}
	failing := &sdktest.Collector{}
	failing.OnEmit = func(connector.Record) error {
		if len(failing.Records) == 70 {
			return errors.New("host went away")
		}
		return nil
	}
	if err := s.Read(t.Context(), connector.ReadRequest{Config: config, Streams: []string{"customers"}}, failing); err == nil {
		t.Fatal("interrupted read returned nil")
	}
	if len(failing.Checkpoints) != 1 {
		t.Fatalf("checkpoints before the interruption = %d, want 1 (after page 1)", len(failing.Checkpoints))
	}
	resumed, err := readStreams(t, s, config, failing.State(), "customers")
	if err != nil {
		t.Fatal(err)
	}
	got := append(idsOf(t, failing.Records[:50]), idsOf(t, resumed.Records)...)
	if want := idsOf(t, full.Records); !slices.Equal(got, want) {
		t.Errorf("delivered + resumed = %d records, want the %d of a full read, in order, once each", len(got), len(want))
	}
}

func TestStartDate(t *testing.T) {
	f, srv := newFakeShop(t)
	seedShop(f)
	c, err := readStreams(t, testSource(&sleepRecorder{}), testConfig(t, srv.URL, map[string]any{"start_date": ts(20)}), nil, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Records); got != 6 {
		t.Errorf("orders since minute 20 = %d, want 6 (orders 20..25)", got)
	}
	if f.searches[0] != "updated_at:>='"+ts(20)+"'" {
		t.Errorf("search = %q", f.searches[0])
	}
	c, err = readStreams(t, testSource(&sleepRecorder{}), testConfig(t, srv.URL, map[string]any{"start_date": "2024-05-01"}), nil, "orders")
	if err != nil || len(c.Records) != 25 {
		t.Errorf("orders since 2024-05-01 = %d, %v; want 25", len(c.Records), err)
	}
}

// TestFailures checks each failure a read meets: what is retried, and
// what ends the read with a clear error, never with the token in it.
func TestFailures(t *testing.T) {
	cases := []struct {
		name      string
		script    func(f *fakeShop) []func(http.ResponseWriter)
		token     string
		wantErr   []string // empty: the read succeeds
		wantWaits []time.Duration
	}{
		{name: "401", token: "shpat_wrong_token_value", wantErr: []string{"401 Unauthorized", "check the Admin API access token"}},
		{name: "429 with Retry-After", script: func(*fakeShop) []func(http.ResponseWriter) {
			return []func(http.ResponseWriter){status(429, "7", `{"errors":"Too Many Requests"}`)}
		}, wantWaits: []time.Duration{7 * time.Second}},
		{name: "500 then success", script: func(*fakeShop) []func(http.ResponseWriter) {
			return []func(http.ResponseWriter){status(500, "", `{"errors":"Internal error"}`), status(503, "", "")}
		}},
		{name: "500 every time", script: func(*fakeShop) []func(http.ResponseWriter) {
			var s []func(http.ResponseWriter)
			for range 10 {
				s = append(s, status(500, "", `oops`))
			}
			return s
		}, wantErr: []string{"500 Internal Server Error after 3 attempts"}},
		{name: "malformed body", script: func(*fakeShop) []func(http.ResponseWriter) {
			return []func(http.ResponseWriter){status(200, "", `{"data": {"customers": [`)}
		}, wantErr: []string{"malformed JSON"}},
		{name: "throttled then success", script: func(f *fakeShop) []func(http.ResponseWriter) {
			f.available = 2
			return []func(http.ResponseWriter){f.throttled(502)}
		}, wantWaits: []time.Duration{10 * time.Second}}, // (502-2)/50
		{name: "throttled every time", script: func(f *fakeShop) []func(http.ResponseWriter) {
			f.available = 2
			return []func(http.ResponseWriter){f.throttled(502), f.throttled(502), f.throttled(502)}
		}, wantErr: []string{"still throttled after 3 attempts"}},
		{name: "access denied", script: func(*fakeShop) []func(http.ResponseWriter) {
			return []func(http.ResponseWriter){status(200, "", `{"data": null, "errors": [{"message": "Access denied for customers field. Required access: read_customers access scope.", "extensions": {"code": "ACCESS_DENIED"}}]}`)}
		}, wantErr: []string{"Required access: read_customers", "ACCESS_DENIED"}},
		{name: "max cost, then smaller pages", script: func(*fakeShop) []func(http.ResponseWriter) {
			return []func(http.ResponseWriter){status(200, "", `{"errors": [{"message": "Query cost is 1502, which exceeds the single query max cost limit (1000).", "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 1502, "maxCost": 1000}}]}`)}
		}},
		{name: "max cost at one node a page", script: func(f *fakeShop) []func(http.ResponseWriter) {
			f.nodeCost = map[string]float64{"customers": 1500}
			return nil
		}, wantErr: []string{"exceeds Shopify's single-query maximum", "1502"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeShop(t)
			f.addCustomer(1, ts(1), "SUBSCRIBED")
			if tc.script != nil {
				f.script = tc.script(f)
			}
			if tc.token != "" {
				f.token = tc.token // the connector sends fakeToken
			}
			var logs bytes.Buffer
			ctx := connector.WithLogger(t.Context(), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			rec := &sleepRecorder{}
			c := &sdktest.Collector{}
			err := testSource(rec).Read(ctx, connector.ReadRequest{
				Config: testConfig(t, srv.URL, map[string]any{"max_retries": 2}), Streams: []string{"customers"}}, c)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				if len(c.Records) != 1 {
					t.Errorf("records = %d, want 1", len(c.Records))
				}
			} else {
				if err == nil {
					t.Fatal("Read succeeded")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				if strings.Contains(err.Error(), fakeToken) {
					t.Errorf("error leaks the token: %v", err)
				}
			}
			if tc.wantWaits != nil && !slices.Equal(rec.waits, tc.wantWaits) {
				t.Errorf("waits = %v, want %v", rec.waits, tc.wantWaits)
			}
			if strings.Contains(logs.String(), fakeToken) {
				t.Errorf("logs leak the token:\n%s", logs.String())
			}
		})
	}
}

// TestGraphQLInternalErrorIsRetriedLikeA500 checks INTERNAL_SERVER_ERROR,
// which Shopify returns in a 200 instead of a 500 in most cases: it is
// retried with the HTTP client's backoff, up to max_retries times.
func TestGraphQLInternalErrorIsRetriedLikeA500(t *testing.T) {
	internal := status(200, "", `{"errors": [{"message": "Internal error. Looks like something went wrong on our end. Request ID: 1b355a21-7117-44c5-8d8b-8948082f40a8 (include this in support requests).", "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "1b355a21-7117-44c5-8d8b-8948082f40a8"}}]}`)
	for _, tc := range []struct {
		name    string
		times   int
		wantErr string // empty: the read succeeds
	}{
		{"once", 1, ""},
		{"every time", 3, "Request ID: 1b355a21-7117-44c5-8d8b-8948082f40a8 (include this in support requests). (INTERNAL_SERVER_ERROR) after 3 attempts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeShop(t)
			f.addCustomer(1, ts(1), "SUBSCRIBED")
			for range tc.times {
				f.script = append(f.script, internal)
			}
			rec := &sleepRecorder{}
			c, err := readStreams(t, testSource(rec), testConfig(t, srv.URL, map[string]any{"max_retries": 2}), nil, "customers")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Read failed on a transient INTERNAL_SERVER_ERROR: %v", err)
				}
				if len(c.Records) != 1 {
					t.Errorf("records = %d, want 1", len(c.Records))
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if len(rec.waits) != min(tc.times, 2) {
				t.Errorf("waits %v, want %d", rec.waits, min(tc.times, 2))
			}
			for i, w := range rec.waits {
				if ceil := httpx.DefaultBaseBackoff << i; w <= 0 || w > ceil {
					t.Errorf("wait %d = %v, want a backoff in (0, %v]", i+1, w, ceil)
				}
			}
		})
	}
}

// TestPreemptiveSlowDown checks that the connector waits for the bucket to
// refill before a query that would not fit, instead of being throttled.
func TestPreemptiveSlowDown(t *testing.T) {
	f, srv := newFakeShop(t)
	seedShop(f)
	f.available = 100 // after each query; a customers page requests 502
	rec := &sleepRecorder{}
	c, err := readStreams(t, testSource(rec), testConfig(t, srv.URL, nil), nil, "customers")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Records) != 120 {
		t.Fatalf("records = %d, want 120", len(c.Records))
	}
	// Three pages: the first runs on an unknown bucket, the next two each
	// wait (502-100)/50 s = 8.04 s.
	want := []time.Duration{8040 * time.Millisecond, 8040 * time.Millisecond}
	if !slices.Equal(rec.waits, want) {
		t.Errorf("waits = %v, want %v", rec.waits, want)
	}
	if f.requests != 3 {
		t.Errorf("requests = %d, want 3 (none throttled)", f.requests)
	}
}

func TestWaitForUsesElapsedRestore(t *testing.T) {
	now := fixedClock()
	rec := &sleepRecorder{}
	g := &gqlClient{sleep: rec.sleep, now: func() time.Time { return now }}
	g.record(&queryCost{RequestedQueryCost: 500, ThrottleStatus: &throttleStatus{MaximumAvailable: 1000, CurrentlyAvailable: 0, RestoreRate: 50}})
	now = now.Add(4 * time.Second) // 200 points restored
	if err := g.waitFor(t.Context(), "q", 500); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{6 * time.Second}; !slices.Equal(rec.waits, want) {
		t.Errorf("waits = %v, want %v", rec.waits, want)
	}
	if err := g.waitFor(t.Context(), "q", 1500); !errors.Is(err, errMaxCost) {
		t.Errorf("a query costlier than the bucket: %v, want errMaxCost", err)
	}
}

func TestCheck(t *testing.T) {
	f, srv := newFakeShop(t)
	if err := testSource(&sleepRecorder{}).Check(t.Context(), testConfig(t, srv.URL, nil)); err != nil {
		t.Fatalf("Check: %v", err)
	}
	f.token = "other"
	err := testSource(&sleepRecorder{}).Check(t.Context(), testConfig(t, srv.URL, nil))
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), fakeToken) || !errors.Is(err, connector.ErrConfig) ||
		!strings.Contains(err.Error(), "(reading the shop, a customer and an order)") {
		t.Errorf("Check with a bad token = %v (want a connector.ErrConfig)", err)
	}
}

func TestParseConfig(t *testing.T) {
	cases := []struct {
		config string
		want   string
	}{
		{`{"shop": "acme-store", "token": "t"}`, ""},
		{`{"shop": "acme-store.myshopify.com", "token": "t", "api_version": "2025-07", "start_date": "2024-01-31"}`, ""},
		{`{"base_url": "http://127.0.0.1:1", "token": "t", "timeout": "5s", "max_retries": 0}`, ""},
		{`{"token": "t"}`, "give shop"},
		{`{"shop": "acme"}`, "token is required"},
		{`{"shop": "Acme Store", "token": "t"}`, `shop "Acme Store"`},
		{`{"shop": "acme", "token": "t", "api_version": "latest"}`, `api_version "latest"`},
		{`{"shop": "acme", "token": "t", "start_date": "yesterday"}`, `start_date "yesterday"`},
		{`{"shop": "acme", "token": "t", "password": "x"}`, `unknown field "password"`},
	}
	for _, tc := range cases {
		_, err := parseConfig(json.RawMessage(tc.config))
		if tc.want == "" && err != nil {
			t.Errorf("%s: %v", tc.config, err)
		}
		if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: error %v, want %q", tc.config, err, tc.want)
		}
	}
}

func TestConformance(t *testing.T) {
	f, srv := newFakeShop(t)
	seedShop(f)
	sdktest.Run(t, testSource(&sleepRecorder{}), sdktest.Options{
		Config: testConfig(t, srv.URL, nil),
		BadConfigs: []json.RawMessage{
			json.RawMessage(`{}`),
			json.RawMessage(`{"shop": "acme"}`),
			testConfig(t, srv.URL, map[string]any{"token": "wrong"}),
		},
	})
}

// FuzzDecodeState checks that any saved state is decoded or refused,
// never a panic, and that a decoded one works as a read position.
func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"streams":{"customers":{"updated_at":"2024-05-01T10:30:00Z","ids":["gid://shopify/Customer/1"]}}}`))
	f.Add([]byte(`{"streams":{"orders":{"updated_at":"2024-05-01T10:30:00Z","walk":{"from":"2024-05-01T10:20:00Z","after":"c","newest":"2024-05-01T10:59:00Z"}}}}`))
	f.Add([]byte(`{"streams":{"orders":null}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		st, err := decodeState(raw)
		if err != nil {
			return
		}
		for name := range st.Streams {
			r := &streamReader{def: &streamDef{name: name}, st: st, lookback: incremental.DefaultLookback}
			if w := r.begin(); w.From != nil {
				_ = w.From.UTC().Format(time.RFC3339)
			}
		}
	})
}
