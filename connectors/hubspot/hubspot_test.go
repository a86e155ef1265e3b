package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/connectors/internal/httpx"
	"github.com/desilo/desilo/connectors/internal/incremental"
	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

func cfgJSON(url string, extra string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"token": %q, "base_url": %q, "requests_per_second": 1000, "timeout": "5s"%s}`, token, url, extra))
}

// testSource records retry waits instead of sleeping, and spaces search
// requests for the fake's shortened second.
func testSource(waits *[]time.Duration) *Source {
	return &Source{sleep: func(ctx context.Context, d time.Duration) error {
		if waits != nil {
			*waits = append(*waits, d)
		}
		return ctx.Err()
	}, searchEvery: searchInterval * testSecond / time.Second}
}

func read(t *testing.T, s *Source, cfg json.RawMessage, st json.RawMessage) *sdktest.Collector {
	t.Helper()
	col := &sdktest.Collector{}
	if err := s.Read(context.Background(), connector.ReadRequest{Config: cfg, State: st}, col); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return col
}

// keys lists "stream id" (or "stream from-to"), "-" marking deletes.
func keys(recs []connector.Record) []string {
	var out []string
	for _, r := range recs {
		var m map[string]any
		if err := json.Unmarshal(r.Data, &m); err != nil {
			panic(err)
		}
		k := r.Stream + " "
		if id, ok := m["id"]; ok {
			k += fmt.Sprint(id)
		} else {
			var parts []string
			for _, f := range []string{"contact_id", "company_id", "deal_id"} {
				if v, ok := m[f]; ok {
					parts = append(parts, f+"="+fmt.Sprint(v))
				}
			}
			sort.Strings(parts)
			k += strings.Join(parts, ",")
		}
		if r.Deleted {
			k += " -"
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var allKeys = []string{
	"companies 201", "companies 202", "companies 203",
	"contact_companies company_id=201,contact_id=101", "contact_companies company_id=201,contact_id=102",
	"contact_companies company_id=202,contact_id=102", "contact_companies company_id=203,contact_id=103",
	"contacts 101", "contacts 102", "contacts 103", "contacts 104", "contacts 105", "contacts 199 -",
	"deal_contacts contact_id=101,deal_id=301", "deal_contacts contact_id=103,deal_id=302", "deal_contacts contact_id=105,deal_id=301",
	"deals 301", "deals 302", "deals 303",
}

func TestFirstReadPagesToTheEnd(t *testing.T) {
	f := newFake()
	srv := f.start(t)
	col := read(t, testSource(nil), cfgJSON(srv.URL, ""), nil)
	if got := keys(col.Records); !slices.Equal(got, allKeys) {
		t.Fatalf("records\n got %q\nwant %q", got, allKeys)
	}
	// Paging: 5 live contacts at 2 per page need 3 list requests.
	if n := countRequests(f, "GET /crm/v3/objects/contacts"); n < 3 {
		t.Errorf("contacts listed in %d requests, want paging", n)
	}
	if len(col.Checkpoints) < 10 {
		t.Errorf("%d checkpoints, want one per page", len(col.Checkpoints))
	}
	var deal301 object
	for _, r := range col.Stream("deals") {
		var o object
		json.Unmarshal(r.Data, &o)
		if o.ID == "301" {
			deal301 = o
		}
	}
	if !slices.Equal(deal301.ContactIDs, []string{"101", "105"}) || deal301.Properties["dealname"] != "Deal1" {
		t.Errorf("deal 301 = %+v", deal301)
	}
}

func countRequests(f *fakeHubSpot, prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func TestIncrementalReadEmitsOnlyChanges(t *testing.T) {
	f := newFake()
	s, cfg, first := firstRead(t, f, "")

	again := read(t, s, cfg, first.State())
	var objs []connector.Record
	for _, r := range again.Records {
		if slices.Contains(objectNames, r.Stream) {
			objs = append(objs, r)
		}
	}
	if len(objs) != 0 {
		t.Fatalf("unchanged source: reread emitted %q", keys(objs))
	}

	// Changes after the first read: an update, a new contact, two
	// contacts modified in the same millisecond, an archived company.
	f.mu.Lock()
	later := f.now.Add(time.Hour)
	f.objects["contacts"][1].updated = later
	f.objects["contacts"][1].props["email"] = "new@example.com"
	f.objects["contacts"] = append(f.objects["contacts"], &fakeRecord{id: 106, created: later, updated: later, props: map[string]any{}})
	f.objects["companies"][0].archivedAt = later
	f.now = later.Add(time.Hour)
	f.mu.Unlock()

	third := read(t, s, cfg, again.State())
	want := []string{"companies 201 -", "contacts 102", "contacts 106"}
	var got []connector.Record
	for _, r := range third.Records {
		if slices.Contains(objectNames, r.Stream) {
			got = append(got, r)
		}
	}
	if k := keys(got); !slices.Equal(k, want) {
		t.Fatalf("changes\n got %q\nwant %q", k, want)
	}
	// And nothing more on the next run.
	fourth := read(t, s, cfg, third.State())
	for _, r := range fourth.Records {
		if slices.Contains(objectNames, r.Stream) {
			t.Errorf("re-emitted %s %s", r.Stream, r.Data)
		}
	}
}

// firstRead starts f and reads it once, to set up an incremental read.
func firstRead(t *testing.T, f *fakeHubSpot, extraConfig string) (*Source, json.RawMessage, *sdktest.Collector) {
	t.Helper()
	srv := f.start(t)
	cfg := cfgJSON(srv.URL, extraConfig)
	s := testSource(nil)
	return s, cfg, read(t, s, cfg, nil)
}

// smallWindow makes the fake's and the connector's search window n
// results, so tests pass it with a few records.
func smallWindow(t *testing.T, f *fakeHubSpot, n int) {
	old := searchWindow
	f.window, searchWindow = n, n
	t.Cleanup(func() { searchWindow = old })
}

func TestSearchWindowIsResliced(t *testing.T) {
	f := newFake()
	smallWindow(t, f, 4) // the fake refuses paging past 4 results
	// 9 contacts, several sharing a modification time at slice boundaries.
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	f.objects["contacts"] = nil
	for i, m := range []int{0, 1, 1, 1, 2, 2, 3, 3, 4} {
		f.objects["contacts"] = append(f.objects["contacts"], &fakeRecord{id: 400 + i, created: base, updated: base.Add(time.Duration(m) * time.Minute), props: map[string]any{}})
	}
	srv := f.start(t)
	cfg := cfgJSON(srv.URL, `, "start_date": "2023-12-31"`)
	col := &sdktest.Collector{}
	if err := testSource(nil).Read(context.Background(), connector.ReadRequest{Config: cfg, Streams: []string{"contacts"}}, col); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 9 {
		want = append(want, fmt.Sprintf("contacts %d", 400+i))
	}
	if got := keys(col.Records); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestMoreTiesThanTheSearchWindow checks records sharing one modification
// time beyond the search window: they are paged through by id.
func TestMoreTiesThanTheSearchWindow(t *testing.T) {
	f := newFake()
	smallWindow(t, f, 4)
	// 13 contacts: 2 at minute 0, 9 at minute 1, 2 at minute 2.
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	f.objects["contacts"] = nil
	var want []string
	for i, m := range []int{0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2} {
		f.objects["contacts"] = append(f.objects["contacts"], &fakeRecord{id: 400 + i, created: base, updated: base.Add(time.Duration(m) * time.Minute), props: map[string]any{}})
		want = append(want, fmt.Sprintf("contacts %d", 400+i))
	}
	srv := f.start(t)
	cfg := cfgJSON(srv.URL, `, "start_date": "2023-12-31"`)
	req := connector.ReadRequest{Config: cfg, Streams: []string{"contacts"}}
	s := testSource(nil)
	col := &sdktest.Collector{}
	if err := s.Read(context.Background(), req, col); err != nil {
		t.Fatal(err)
	}
	if got := keys(col.Records); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if countRequests(f, "POST /crm/v3/objects/contacts/search") < 6 {
		t.Errorf("%d searches, want the ties paged by id in several queries", countRequests(f, "POST /crm/v3/objects/contacts/search"))
	}
	req.State = col.State()
	again := &sdktest.Collector{}
	if err := s.Read(context.Background(), req, again); err != nil {
		t.Fatal(err)
	}
	if len(again.Records) != 0 {
		t.Errorf("the next run re-emitted %q", keys(again.Records))
	}

	// Interrupted anywhere, the resumed read delivers the rest.
	for stopAt := 1; stopAt < 13; stopAt += 2 {
		stop := errors.New("host went away")
		broken := sdktest.StopAfter(stopAt, stop)
		req.State = nil
		if err := s.Read(context.Background(), req, broken); !errors.Is(err, stop) {
			t.Fatalf("stop at %d: interrupted Read returned %v", stopAt, err)
		}
		req.State = broken.State()
		rest := &sdktest.Collector{}
		if err := s.Read(context.Background(), req, rest); err != nil {
			t.Fatal(err)
		}
		if got := keys(append(broken.Delivered(), rest.Records...)); !slices.Equal(got, want) {
			t.Errorf("stop at %d: delivered + resumed\n got %q\nwant %q", stopAt, got, want)
		}
	}
}

func TestResumeFromCheckpoint(t *testing.T) {
	f := newFake()
	srv := f.start(t)
	cfg := cfgJSON(srv.URL, "")
	s := testSource(nil)
	full := read(t, s, cfg, nil)

	for _, stopAt := range []int{1, 3, 7, 12} {
		t.Run(fmt.Sprint(stopAt), func(t *testing.T) {
			stop := errors.New("host went away")
			broken := sdktest.StopAfter(stopAt, stop)
			err := s.Read(context.Background(), connector.ReadRequest{Config: cfg}, broken)
			if !errors.Is(err, stop) {
				t.Fatalf("interrupted Read returned %v", err)
			}
			rest := read(t, s, cfg, broken.State())
			got := keys(append(broken.Delivered(), rest.Records...))
			if want := keys(full.Records); !slices.Equal(got, want) {
				t.Errorf("delivered + resumed\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestHTTPFailures(t *testing.T) {
	tests := []struct {
		name      string
		inject    func(w http.ResponseWriter)
		wantErr   string // empty: the read succeeds
		wantWaits []time.Duration
	}{
		{"429 with Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(429)
			io.WriteString(w, `{"status":"error","message":"You have reached your secondly limit.","category":"RATE_LIMITS"}`)
		}, "", []time.Duration{3 * time.Second}},
		{"500", func(w http.ResponseWriter) {
			w.WriteHeader(500)
			io.WriteString(w, `{"status":"error","message":"internal"}`)
		}, "", nil},
		{"malformed body", func(w http.ResponseWriter) { io.WriteString(w, `{"results": [{"id": "101", "properties": {`) },
			"hubspot: GET /crm/v3/objects/contacts: malformed JSON response", nil},
		// HubSpot's 429s carry no Retry-After; policyName names the limit.
		{"429 secondly", rateLimit("SECONDLY"), "", []time.Duration{time.Second}},
		{"429 ten-secondly", rateLimit("TEN_SECONDLY_ROLLING"), "", []time.Duration{time.Second}},
		{"429 daily", rateLimit("DAILY"), "hubspot: GET /crm/v3/objects/contacts: 429 Too Many Requests: the HubSpot account's daily API request limit is used up", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.failNext("/crm/v3/objects/contacts", tt.inject)
			srv := f.start(t)
			var waits []time.Duration
			col := &sdktest.Collector{}
			err := testSource(&waits).Read(context.Background(), connector.ReadRequest{Config: cfgJSON(srv.URL, ""), Streams: []string{"contacts"}}, col)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if len(waits) != 0 {
					t.Errorf("retried after %v, want no retry", waits)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(col.Stream("contacts")) != 6 {
				t.Errorf("%d contacts after the retry, want 6", len(col.Stream("contacts")))
			}
			if len(waits) != 1 || (tt.wantWaits != nil && !slices.Equal(waits, tt.wantWaits)) {
				t.Errorf("waits %v, want one retry %v", waits, tt.wantWaits)
			}
		})
	}
}

// rateLimit is HubSpot's 429 for the limit policy.
func rateLimit(policy string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(429)
		fmt.Fprintf(w, `{"status":"error","message":"You have reached your limit.","errorType":"RATE_LIMIT","correlationId":"c033cdaa-2c40-4a64-ae48-b4cec88dad24","policyName":%q}`, policy)
	}
}

// manyContacts gives f n more contacts, modified a minute apart.
func manyContacts(f *fakeHubSpot, n int) {
	t0 := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		f.objects["contacts"] = append(f.objects["contacts"], &fakeRecord{id: 1000 + i, created: t0, updated: t0.Add(time.Duration(i) * time.Minute), props: map[string]any{}})
	}
}

// TestSearchRespectsSearchRateLimit checks the default settings against
// HubSpot's real search limit, 4 requests per second per token: the
// general limit (9/s, burst 9) alone would send them faster.
func TestSearchRespectsSearchRateLimit(t *testing.T) {
	f := newFake()
	f.searchSecond = time.Second
	manyContacts(f, 7) // with the 5 live ones, 6 search pages of 2
	srv := f.start(t)
	// Default requests_per_second: not set in the config.
	cfg := []byte(fmt.Sprintf(`{"token": %q, "base_url": %q, "start_date": "2024-01-01"}`, token, srv.URL))
	col := &sdktest.Collector{}
	if err := New().Read(context.Background(), connector.ReadRequest{Config: cfg, Streams: []string{"contacts"}}, col); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	worst := 0
	for i := range f.searchTimes {
		n := 0
		for j := i; j < len(f.searchTimes) && f.searchTimes[j].Sub(f.searchTimes[i]) < time.Second; j++ {
			n++
		}
		worst = max(worst, n)
	}
	if len(f.searchTimes) < 6 || worst > 4 || f.search429 > 0 {
		t.Errorf("%d search requests, up to %d within one second, %d answered 429; HubSpot allows 4 per second", len(f.searchTimes), worst, f.search429)
	}
}

// TestSearch429sAgainstEnforcedSearchLimit reads from the fake, which
// enforces the search limit as HubSpot does. HubSpot asks that errors stay
// under 5% of requests; a read that keeps to the limit gets no 429. A
// connector that did not would get them, and wait at least a second
// before each retry, as HubSpot's 429s carry no Retry-After.
func TestSearch429sAgainstEnforcedSearchLimit(t *testing.T) {
	f := newFake()
	manyContacts(f, 40)
	// A "second" of 250 ms here, not the other tests' 50 ms: the limiter's
	// slack (4 × 300 ms against a second) shrinks with the scale, and at
	// 50 ms a loaded machine's scheduling delays alone could fill it.
	f.searchSecond = 250 * time.Millisecond
	srv := f.start(t)
	cfg := cfgJSON(srv.URL, `, "start_date": "2024-01-01"`)
	req := connector.ReadRequest{Config: cfg, Streams: []string{"contacts"}}
	var waits []time.Duration
	col := &sdktest.Collector{}
	src := testSource(&waits)
	src.searchEvery = searchInterval * f.searchSecond / time.Second
	if err := src.Read(context.Background(), req, col); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	searches, n429 := len(f.searchTimes), f.search429
	f.mu.Unlock()
	if n429 > 0 || len(waits) > 0 || len(col.Stream("contacts")) != 46 {
		t.Errorf("%d of %d search requests answered 429, retry waits %v, %d contacts; want no 429 and 46 contacts", n429, searches, waits, len(col.Stream("contacts")))
	}

	// Without the search limiter: 429s, each retried after at least a
	// second (scaled like the fake's).
	waits = nil
	fast := &Source{searchEvery: time.Nanosecond, sleep: func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return httpx.Sleep(ctx, d*f.searchSecond/time.Second)
	}}
	if err := fast.Read(context.Background(), req, &sdktest.Collector{}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	n429 = f.search429
	f.mu.Unlock()
	if n429 == 0 || len(waits) != n429 {
		t.Fatalf("fast reader: %d 429s, waits %v; want a wait per 429", n429, waits)
	}
	for _, w := range waits {
		if w < time.Second {
			t.Errorf("waited %v after a 429 without Retry-After, want at least 1s", w)
		}
	}
}

func TestAuthFailureAndNoTokenInLogsOrErrors(t *testing.T) {
	f := newFake()
	// The fake answers 429 once, echoing the token, then refuses it.
	f.failNext("/crm/v3/objects/contacts", func(w http.ResponseWriter) {
		w.WriteHeader(429)
		io.WriteString(w, `{"message":"slow down, `+token+`"}`)
	})
	f.failNext("/crm/v3/objects/contacts", func(w http.ResponseWriter) {
		w.WriteHeader(401)
		io.WriteString(w, `{"status":"error","message":"The OAuth token used to make this call expired: `+token+`"}`)
	})
	srv := f.start(t)
	var logs bytes.Buffer
	ctx := connector.WithLogger(context.Background(), slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	s := testSource(nil)
	err := s.Check(ctx, cfgJSON(srv.URL, ""))
	want := "hubspot: GET /crm/v3/objects/contacts: 401 Unauthorized: check the token"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Check error %v, want %q", err, want)
	}
	var errs []string
	errs = append(errs, err.Error())
	// A wrong token: every call fails with 401.
	bad := json.RawMessage(strings.Replace(string(cfgJSON(srv.URL, "")), token, token+"x", 1))
	for _, call := range []func() error{
		func() error { return s.Check(ctx, bad) },
		func() error { return s.Read(ctx, connector.ReadRequest{Config: bad}, &sdktest.Collector{}) },
	} {
		err := call()
		if err == nil || !strings.Contains(err.Error(), "401 Unauthorized: check the token") || !errors.Is(err, connector.ErrConfig) {
			t.Errorf("wrong token: %v (want a connector.ErrConfig)", err)
		}
		errs = append(errs, err.Error())
	}
	// The successful read logs too (debug: association errors).
	read(t, s, cfgJSON(srv.URL, ""), nil)
	if !strings.Contains(logs.String(), "retrying HTTP request") {
		t.Errorf("expected a retry log line, got %s", logs.String())
	}
	for _, s := range append(errs, logs.String()) {
		if strings.Contains(s, token) {
			t.Errorf("token leaked: %s", s)
		}
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		cfg     string
		wantErr string
	}{
		{`{"token": "t"}`, ""},
		{`{"token": "t", "properties": {"contacts": ["lifecyclestage"]}, "start_date": "2024-01-31", "max_retries": 2}`, ""},
		{`{}`, "token is required"},
		{`{"token": "t", "tokn": "x"}`, `unknown field "tokn"`},
		{`{"token": "t", "properties": {"tickets": ["x"]}}`, "properties.tickets: unknown object"},
		{`{"token": "t", "start_date": "yesterday"}`, "start_date"},
		{`{"token": "t", "search_lookback": "0s"}`, ""},
		{`{"token": "t", "search_lookback": "1h30m"}`, ""},
		{`{"token": "t", "search_lookback": "ten minutes"}`, "search_lookback"},
		{`{"token": "t", "search_lookback": "-5m"}`, "search_lookback"},
	}
	for _, tt := range tests {
		_, err := parseConfig(json.RawMessage(tt.cfg))
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("parseConfig(%s) = %v, want %q", tt.cfg, err, tt.wantErr)
		}
	}
}

func TestConformance(t *testing.T) {
	f := newFake()
	srv := f.start(t)
	sdktest.Run(t, testSource(nil), sdktest.Options{
		Config: cfgJSON(srv.URL, ""),
		BadConfigs: []json.RawMessage{
			json.RawMessage(`{}`),
			json.RawMessage(`{"token": ""}`),
			json.RawMessage(`{"token": "x", "colour": "blue"}`),
			json.RawMessage(`{"token": "x", "timeout": "soon"}`),
			json.RawMessage(fmt.Sprintf(`{"token": "wrong", "base_url": %q}`, srv.URL)),
		},
	})
}

// objectKeys is keys of the records of object streams only.
func objectKeys(col *sdktest.Collector) []string {
	var recs []connector.Record
	for _, r := range col.Records {
		if slices.Contains(objectNames, r.Stream) {
			recs = append(recs, r)
		}
	}
	return keys(recs)
}

func TestSearchLookbackReadsLateIndexedChanges(t *testing.T) {
	for _, tt := range []struct {
		name, extra string
		wantLate    []string // what the run after the index caught up emits
	}{
		{"default look-back", "", []string{"contacts 101"}},
		{"look-back off", `, "search_lookback": "0s"`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			s, cfg, first := firstRead(t, f, tt.extra)

			// Contact 101 changes two minutes before 102, but the index
			// lists it half an hour late: the next run sees only 102.
			f.mu.Lock()
			later := f.now.Add(time.Hour)
			c101, c102 := f.objects["contacts"][0], f.objects["contacts"][1]
			c101.updated, c101.indexed, c101.props["email"] = later.Add(-2*time.Minute), later.Add(30*time.Minute), "late@example.com"
			c102.updated, c102.props["email"] = later, "prompt@example.com"
			f.now = later.Add(time.Minute)
			f.mu.Unlock()
			second := read(t, s, cfg, first.State())
			if got := objectKeys(second); !slices.Equal(got, []string{"contacts 102"}) {
				t.Fatalf("while 101 is not indexed: got %q, want only contacts 102", got)
			}

			f.mu.Lock()
			f.now = later.Add(time.Hour)
			f.mu.Unlock()
			third := read(t, s, cfg, second.State())
			if got := objectKeys(third); !slices.Equal(got, tt.wantLate) {
				t.Fatalf("once 101 is indexed: got %q, want %q", got, tt.wantLate)
			}
			if fourth := read(t, s, cfg, third.State()); len(objectKeys(fourth)) != 0 {
				t.Errorf("the run after re-emitted %q", objectKeys(fourth))
			}
		})
	}
}

// TestLookbackWiderThanTheSearchWindow checks a look-back window that
// holds more records than one search returns: a late change past the
// first window is still read.
func TestLookbackWiderThanTheSearchWindow(t *testing.T) {
	f := newFake()
	smallWindow(t, f, 4)
	s, cfg, first := firstRead(t, f, "")

	// Six changes a minute apart; the fifth is indexed half an hour late.
	f.mu.Lock()
	later := f.now.Add(time.Hour)
	f.objects["contacts"] = append(f.objects["contacts"], &fakeRecord{id: 106, created: later, props: map[string]any{}})
	var six []*fakeRecord
	for _, c := range f.objects["contacts"] {
		if c.archivedAt.IsZero() {
			six = append(six, c)
		}
	}
	for i, c := range six {
		c.updated = later.Add(time.Duration(i-6) * time.Minute)
	}
	six[4].indexed = later.Add(30 * time.Minute)
	f.now = later.Add(time.Minute)
	f.mu.Unlock()
	second := read(t, s, cfg, first.State())
	if got, want := objectKeys(second), []string{"contacts 101", "contacts 102", "contacts 103", "contacts 104", "contacts 106"}; !slices.Equal(got, want) {
		t.Fatalf("before 105 is indexed: got %q, want %q", got, want)
	}

	f.mu.Lock()
	f.now = later.Add(time.Hour)
	f.mu.Unlock()
	third := read(t, s, cfg, second.State())
	if got, want := objectKeys(third), []string{"contacts 105"}; !slices.Equal(got, want) {
		t.Fatalf("once 105 is indexed: got %q, want %q", got, want)
	}
}

func TestSeenIsBoundedAndDropsTheOldest(t *testing.T) {
	old := incremental.MaxSeen
	incremental.MaxSeen = 2
	t.Cleanup(func() { incremental.MaxSeen = old })
	f := newFake()
	s, cfg, first := firstRead(t, f, "")

	// A bulk update: all five live contacts within the look-back window.
	f.mu.Lock()
	later := f.now.Add(time.Hour)
	for i, c := range f.objects["contacts"][:5] {
		c.updated = later.Add(time.Duration(i-4) * time.Minute)
	}
	f.now = later.Add(time.Minute)
	f.mu.Unlock()
	second := read(t, s, cfg, first.State())
	if got, want := objectKeys(second), []string{"contacts 101", "contacts 102", "contacts 103", "contacts 104", "contacts 105"}; !slices.Equal(got, want) {
		t.Fatalf("bulk update: got %q, want %q", got, want)
	}
	var st state
	if err := json.Unmarshal(second.State(), &st); err != nil {
		t.Fatal(err)
	}
	seen := st.Objects["contacts"].Seen
	if len(seen) != 2 || seen["104"] == 0 || seen["105"] != later.UnixMilli() {
		t.Fatalf("seen = %v, want the two newest, 104 and 105", seen)
	}
	// The dropped ids are read again, which staging absorbs; nothing is
	// lost and the kept ones are not repeated.
	third := read(t, s, cfg, second.State())
	if got, want := objectKeys(third), []string{"contacts 101", "contacts 102", "contacts 103"}; !slices.Equal(got, want) {
		t.Fatalf("after the bulk update: got %q, want the dropped %q", got, want)
	}
}
