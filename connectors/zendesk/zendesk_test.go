package zendesk

import (
	"bytes"
	"context"
	"encoding/base64"
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

	"github.com/desilo/desilo/core/mapping"
	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

func cfgJSON(url string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"base_url": %q, "email": %q, "api_token": %q, "requests_per_second": 1000, "timeout": "5s"}`, url, email, apiToken))
}

func testSource(waits *[]time.Duration) *Source {
	return &Source{sleep: func(ctx context.Context, d time.Duration) error {
		if waits != nil {
			*waits = append(*waits, d)
		}
		return ctx.Err()
	}}
}

func read(t *testing.T, s *Source, cfg, st json.RawMessage) *sdktest.Collector {
	t.Helper()
	col := &sdktest.Collector{}
	if err := s.Read(context.Background(), connector.ReadRequest{Config: cfg, State: st}, col); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return col
}

func keys(recs []connector.Record) []string {
	var out []string
	for _, r := range recs {
		var m map[string]any
		if err := json.Unmarshal(r.Data, &m); err != nil {
			panic(err)
		}
		k := fmt.Sprintf("%s %v", r.Stream, m["id"])
		if r.Deleted {
			k += " -"
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var allKeys = []string{
	"organizations 200", "organizations 201 -", "organizations 202", "organizations 203", "organizations 204", "organizations 205",
	"ticket_comments 9011", "ticket_comments 9021", "ticket_comments 9031",
	"tickets 101", "tickets 102", "tickets 103 -", "tickets 104",
	"users 1", "users 2", "users 3", "users 4 -", "users 5",
}

func TestReadPagesToTheEnd(t *testing.T) {
	f := newFake()
	srv := f.start(t)
	col := read(t, testSource(nil), cfgJSON(srv.URL), nil)
	if got := keys(col.Records); !slices.Equal(got, allKeys) {
		t.Fatalf("records\n got %q\nwant %q", got, allKeys)
	}
	if len(col.Checkpoints) < 8 {
		t.Errorf("%d checkpoints, want one per page", len(col.Checkpoints))
	}
	var c map[string]any
	json.Unmarshal(col.Stream("ticket_comments")[0].Data, &c)
	want := map[string]any{"id": 9011.0, "ticket_id": 101.0, "author_id": 5.0, "public": true, "channel": "email", "created_at": "2024-03-01T10:00:00Z"}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("comment = %v, want %v", c, want)
	}
	for _, r := range col.Records {
		if bytes.Contains(r.Data, []byte("SECRET BODY")) {
			t.Errorf("a comment body reached a record: %s", r.Data)
		}
	}
}

// TestTicketsCarryNoCommentText checks that a ticket's description, the
// text of its first comment, stays out of its record, as all comment
// bodies do, while the rest of the ticket is kept.
func TestTicketsCarryNoCommentText(t *testing.T) {
	f := newFake()
	srv := f.start(t)
	col := read(t, testSource(nil), cfgJSON(srv.URL), nil)
	tickets := col.Stream("tickets")
	if len(tickets) == 0 {
		t.Fatal("no tickets read")
	}
	for _, r := range tickets {
		if bytes.Contains(r.Data, []byte("The fire is very colorful.")) || bytes.Contains(r.Data, []byte(`"description"`)) {
			t.Errorf("ticket record carries the first comment's text: %s", r.Data)
		}
		if !r.Deleted && !bytes.Contains(r.Data, []byte(`"subject":"Printer on fire"`)) {
			t.Errorf("ticket record lost its other fields: %s", r.Data)
		}
	}
}

func TestIncrementalReadEmitsOnlyChanges(t *testing.T) {
	f := newFake()
	srv := f.start(t)
	cfg := cfgJSON(srv.URL)
	s := testSource(nil)
	first := read(t, s, cfg, nil)
	if again := read(t, s, cfg, first.State()); len(again.Records) != 0 {
		t.Fatalf("unchanged source: reread emitted %q", keys(again.Records))
	}
	f.mu.Lock()
	later := time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)
	f.data["users"][1].t = later
	f.data["users"] = append(f.data["users"], &obj{id: 6, t: later, fields: map[string]any{"name": "New", "active": true}})
	f.data["tickets"][0].t = later
	f.data["tickets"][0].fields["status"] = "deleted"
	f.data["organizations"][0].t = later
	f.data["ticket_events"] = append(f.data["ticket_events"], &obj{id: 904, t: later})
	f.mu.Unlock()
	third := read(t, s, cfg, first.State())
	want := []string{"organizations 200", "ticket_comments 9041", "tickets 101 -", "users 2", "users 6"}
	if got := keys(third.Records); !slices.Equal(got, want) {
		t.Fatalf("changes\n got %q\nwant %q", got, want)
	}
	if fourth := read(t, s, cfg, third.State()); len(fourth.Records) != 0 {
		t.Errorf("re-emitted %q", keys(fourth.Records))
	}
}

func TestResumeFromCheckpoint(t *testing.T) {
	f := newFake()
	srv := f.start(t)
	cfg := cfgJSON(srv.URL)
	s := testSource(nil)
	full := read(t, s, cfg, nil)
	for stopAt := 1; stopAt < len(full.Records); stopAt += 3 {
		t.Run(fmt.Sprint(stopAt), func(t *testing.T) {
			stop := errors.New("host went away")
			broken := sdktest.StopAfter(stopAt, stop)
			if err := s.Read(context.Background(), connector.ReadRequest{Config: cfg}, broken); !errors.Is(err, stop) {
				t.Fatalf("interrupted Read returned %v", err)
			}
			rest := read(t, s, cfg, broken.State())
			got := keys(append(broken.Delivered(), rest.Records...))
			if !slices.Equal(got, allKeys) {
				t.Errorf("delivered + resumed\n got %q\nwant %q", got, allKeys)
			}
		})
	}
}

func TestHTTPFailures(t *testing.T) {
	tests := []struct {
		name      string
		inject    func(w http.ResponseWriter)
		wantErr   string
		wantWaits []time.Duration
	}{
		{"429 with Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "93")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":"APIRateLimitExceeded","description":"Number of allowed incremental export API requests per minute exceeded"}`)
		}, "", []time.Duration{93 * time.Second}},
		{"500", func(w http.ResponseWriter) { w.WriteHeader(500); io.WriteString(w, `{"error":"InternalError"}`) }, "", nil},
		{"malformed body", func(w http.ResponseWriter) { io.WriteString(w, `<html>maintenance</html>`) },
			`zendesk: GET /api/v2/incremental/users/cursor.json: malformed JSON response (invalid character '<' looking for beginning of value); body starts: "<html>maintenance</html>"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.failNext("/api/v2/incremental/users", tt.inject)
			srv := f.start(t)
			var waits []time.Duration
			col := &sdktest.Collector{}
			err := testSource(&waits).Read(context.Background(), connector.ReadRequest{Config: cfgJSON(srv.URL), Streams: []string{"users"}}, col)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error\n got %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(col.Records) != 5 {
				t.Errorf("%d users after the retry, want 5", len(col.Records))
			}
			if len(waits) != 1 || (tt.wantWaits != nil && !slices.Equal(waits, tt.wantWaits)) {
				t.Errorf("waits %v, want one retry %v", waits, tt.wantWaits)
			}
		})
	}
}

func TestAuthFailureAndNoTokenInLogsOrErrors(t *testing.T) {
	f := newFake()
	f.failNext("/api/v2/incremental/users", func(w http.ResponseWriter) {
		w.WriteHeader(503)
		io.WriteString(w, `{"error":"unavailable for `+apiToken+`"}`)
	})
	srv := f.start(t)
	var logs bytes.Buffer
	ctx := connector.WithLogger(context.Background(), slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	s := testSource(nil)
	if err := s.Read(ctx, connector.ReadRequest{Config: cfgJSON(srv.URL)}, &sdktest.Collector{}); err != nil {
		t.Fatal(err)
	}
	bad := json.RawMessage(strings.Replace(string(cfgJSON(srv.URL)), apiToken, apiToken+"x", 1))
	var errs []string
	checkErr := s.Check(ctx, bad)
	if checkErr == nil || !strings.Contains(checkErr.Error(), "credentials were not accepted") || !errors.Is(checkErr, connector.ErrConfig) {
		t.Errorf("Check with a wrong token: %v (want a connector.ErrConfig)", checkErr)
	}
	readErr := s.Read(ctx, connector.ReadRequest{Config: bad}, &sdktest.Collector{})
	want := "zendesk: GET /api/v2/incremental/users/cursor.json: 401 Unauthorized: check email and api_token"
	if readErr == nil || !strings.Contains(readErr.Error(), want) || !errors.Is(readErr, connector.ErrConfig) {
		t.Errorf("Read with a wrong token: %v, want %q as a connector.ErrConfig", readErr, want)
	}
	f.role = "agent"
	roleErr := s.Check(ctx, cfgJSON(srv.URL))
	if roleErr == nil || !strings.Contains(roleErr.Error(), "needs an admin") {
		t.Errorf("Check as an agent: %v", roleErr)
	}
	for _, e := range []error{checkErr, readErr, roleErr} {
		if e != nil {
			errs = append(errs, e.Error())
		}
	}
	if !strings.Contains(logs.String(), "retrying HTTP request") {
		t.Errorf("expected a retry log line, got %s", logs.String())
	}
	basic := base64.StdEncoding.EncodeToString([]byte(email + "/token:" + apiToken))
	for _, s := range append(errs, logs.String()) {
		if strings.Contains(s, apiToken) || strings.Contains(s, basic) {
			t.Errorf("token leaked: %s", s)
		}
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		cfg     string
		wantErr string
	}{
		{`{"subdomain": "acme", "email": "a@b.c", "api_token": "t"}`, ""},
		{`{"subdomain": "acme", "email": "a@b.c", "api_token": "t", "start_time": "2024-01-31"}`, ""},
		{`{"subdomain": "acme", "email": "a@b.c", "api_token": "t", "start_time": "1700000000"}`, ""},
		{`{"email": "a@b.c", "api_token": "t"}`, "subdomain is required"},
		{`{"subdomain": "acme.zendesk.com", "email": "a@b.c", "api_token": "t"}`, "want the name before .zendesk.com"},
		{`{"subdomain": "acme", "api_token": "t"}`, "email is required"},
		{`{"subdomain": "acme", "email": "a@b.c"}`, "api_token is required"},
		{`{"subdomain": "acme", "email": "a@b.c", "api_token": "t", "start_time": "last week"}`, "start_time"},
		{`{"subdomain": "acme", "email": "a@b.c", "api_token": "t", "password": "x"}`, `unknown field "password"`},
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
		Config: cfgJSON(srv.URL),
		BadConfigs: []json.RawMessage{
			json.RawMessage(`{}`),
			json.RawMessage(`{"email": "a@b.c", "api_token": "t"}`),
			json.RawMessage(`{"subdomain": "Not A Subdomain", "email": "a@b.c", "api_token": "t"}`),
			json.RawMessage(fmt.Sprintf(`{"base_url": %q, "email": %q, "api_token": "wrong"}`, srv.URL, email)),
		},
	})
}

// The default ticket mapping takes every Zendesk status: new and hold
// become the model's open and pending.
func TestDefaultMappingTakesEveryTicketStatus(t *testing.T) {
	var tickets connector.Stream
	for _, s := range streams() {
		if s.Name == "tickets" {
			tickets = s
		}
	}
	p, err := mapping.Default(tickets, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, _ := p.Table().Index("status")
	for from, want := range map[string]string{"new": "open", "open": "open", "pending": "pending", "hold": "pending", "solved": "solved", "closed": "closed"} {
		rec := `{"id":1,"requester_id":372000000013,"status":"` + from + `","subject":"x","via":{"channel":"web"},"created_at":"2025-02-06T08:50:42Z","updated_at":"2025-04-07T15:09:07Z"}`
		row := make([]any, len(p.Table().Columns))
		if err := p.Map("helpdesk", connector.Record{Stream: "tickets", Data: []byte(rec)}, row); err != nil {
			t.Errorf("status %q: %v", from, err)
			continue
		}
		if row[status] != want {
			t.Errorf("status %q maps to %v, want %q", from, row[status], want)
		}
	}
}
