package zendesk

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	email    = "admin@acme.example"
	apiToken = "zd-API-TOKEN-6wiIBWbGkBMo"
)

// obj is one exported object of the fake: id, time and JSON fields.
type obj struct {
	id     int64
	t      time.Time
	fields map[string]any
}

func (o *obj) json() map[string]any {
	m := map[string]any{"id": o.id, "updated_at": o.t.Format(time.RFC3339), "created_at": "2024-01-01T00:00:00Z"}
	for k, v := range o.fields {
		m[k] = v
	}
	return m
}

// fakeZendesk follows the documented incremental exports: cursor-based
// (after_cursor, end_of_stream) for users and tickets, time-based
// (end_time, next_page, end_of_stream; items at end_time repeat on the
// next page) for organizations and ticket events.
type fakeZendesk struct {
	mu      sync.Mutex
	data    map[string][]*obj // users, tickets, organizations, ticket_events
	pageMax int               // cursor exports
	// timedMax is the page size of time-based exports; like Zendesk's
	// 1000, it exceeds the number of items sharing one second.
	timedMax int
	inject   map[string][]func(w http.ResponseWriter)
	srvURL   string
	role     string
}

func newFake() *fakeZendesk {
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	f := &fakeZendesk{data: map[string][]*obj{}, pageMax: 2, timedMax: 3, inject: map[string][]func(http.ResponseWriter){}, role: "admin"}
	for i := int64(1); i <= 5; i++ {
		f.data["users"] = append(f.data["users"], &obj{id: i, t: t0.Add(time.Duration(i) * time.Minute), fields: map[string]any{
			"name": fmt.Sprintf("User %d", i), "email": fmt.Sprintf("u%d@example.com", i), "phone": nil, "role": "end-user", "active": i != 4, "organization_id": nil}})
	}
	for i := int64(1); i <= 4; i++ {
		status := "open"
		if i == 3 {
			status = "deleted"
		}
		f.data["tickets"] = append(f.data["tickets"], &obj{id: 100 + i, t: t0.Add(time.Duration(i) * time.Minute), fields: map[string]any{
			"requester_id": i, "status": status, "priority": "high", "subject": "Printer on fire", "via": map[string]any{"channel": "web"},
			"satisfaction_rating": map[string]any{"score": "good", "id": 1234}, "description": "The fire is very colorful."}})
	}
	// Organizations share seconds, so time-based pages repeat items.
	for i, sec := range []int{0, 0, 5, 5, 9, 12} {
		f.data["organizations"] = append(f.data["organizations"], &obj{id: 200 + int64(i), t: t0.Add(time.Duration(sec) * time.Second), fields: map[string]any{
			"name": fmt.Sprintf("Org %d", i), "domain_names": []string{}, "deleted_at": nil}})
	}
	f.data["organizations"][1].fields["deleted_at"] = "2024-03-01T10:00:00Z"
	for i := int64(1); i <= 3; i++ {
		f.data["ticket_events"] = append(f.data["ticket_events"], &obj{id: 900 + i, t: t0.Add(time.Duration(i/2) * time.Second)})
	}
	return f
}

func (f *fakeZendesk) start(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(f)
	f.srvURL = srv.URL
	t.Cleanup(srv.Close)
	return srv
}

func (f *fakeZendesk) failNext(prefix string, resp func(w http.ResponseWriter)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inject[prefix] = append(f.inject[prefix], resp)
}

func (f *fakeZendesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	authed := r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte(email+"/token:"+apiToken))
	if r.URL.Path == "/api/v2/users/me.json" {
		if !authed { // Zendesk answers as the anonymous user
			io.WriteString(w, `{"user":{"id":null,"name":"Anonymous user","role":"end-user"}}`)
			return
		}
		fmt.Fprintf(w, `{"user":{"id":7,"name":"Admin","email":%q,"role":%q}}`, email, f.role)
		return
	}
	if !authed {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"Couldn't authenticate you"}`)
		return
	}
	for prefix, q := range f.inject {
		if strings.HasPrefix(r.URL.Path, prefix) && len(q) > 0 {
			f.inject[prefix] = q[1:]
			q[0](w)
			return
		}
	}
	switch r.URL.Path {
	case "/api/v2/incremental/users/cursor.json":
		f.cursor(w, r, "users")
	case "/api/v2/incremental/tickets/cursor.json":
		f.cursor(w, r, "tickets")
	case "/api/v2/incremental/organizations.json":
		f.timed(w, r, "organizations")
	case "/api/v2/incremental/ticket_events.json":
		if r.URL.Query().Get("include") != "comment_events" {
			http.Error(w, `{"error":"test expects the comment_events sideload"}`, http.StatusBadRequest)
			return
		}
		f.timed(w, r, "ticket_events")
	default:
		http.Error(w, `{"error":"InvalidEndpoint"}`, http.StatusNotFound)
	}
}

func (f *fakeZendesk) sorted(kind string) []*obj {
	list := append([]*obj(nil), f.data[kind]...)
	sort.Slice(list, func(i, j int) bool {
		if !list[i].t.Equal(list[j].t) {
			return list[i].t.Before(list[j].t)
		}
		return list[i].id < list[j].id
	})
	return list
}

// cursor: the cursor encodes the (time, id) of the last item returned.
func (f *fakeZendesk) cursor(w http.ResponseWriter, r *http.Request, kind string) {
	q := r.URL.Query()
	var afterT, afterID int64 = -1, -1
	if c := q.Get("cursor"); c != "" {
		b, err := base64.StdEncoding.DecodeString(c)
		if _, err2 := fmt.Sscanf(string(b), "%d|%d", &afterT, &afterID); err != nil || err2 != nil {
			http.Error(w, `{"error":"InvalidCursor"}`, http.StatusBadRequest)
			return
		}
	} else if st, err := strconv.ParseInt(q.Get("start_time"), 10, 64); err == nil {
		afterT, afterID = st, -1
	} else {
		http.Error(w, `{"error":"start_time or cursor required"}`, http.StatusBadRequest)
		return
	}
	n, _ := strconv.Atoi(q.Get("per_page"))
	n = min(max(n, 1), f.pageMax)
	var page []map[string]any
	var last *obj
	more := false
	for _, o := range f.sorted(kind) {
		ot := o.t.Unix()
		if ot < afterT || (ot == afterT && o.id <= afterID) {
			continue
		}
		if len(page) == n {
			more = true
			break
		}
		page = append(page, o.json())
		last = o
	}
	cur := q.Get("cursor")
	if last != nil {
		cur = base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%d|%d", last.t.Unix(), last.id)))
	} else if cur == "" {
		cur = base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%d|%d", afterT, afterID)))
	}
	if page == nil {
		page = []map[string]any{}
	}
	json.NewEncoder(w).Encode(map[string]any{
		kind: page, "after_cursor": cur, "before_cursor": nil, "before_url": nil,
		"after_url":     f.srvURL + r.URL.Path + "?cursor=" + cur,
		"end_of_stream": !more,
	})
}

// timed returns items with time >= start_time; a page ends with every item
// of its last second, like Zendesk's.
func (f *fakeZendesk) timed(w http.ResponseWriter, r *http.Request, kind string) {
	start, err := strconv.ParseInt(r.URL.Query().Get("start_time"), 10, 64)
	if err != nil {
		http.Error(w, `{"error":"start_time required"}`, http.StatusBadRequest)
		return
	}
	var items []*obj
	for _, o := range f.sorted(kind) {
		if o.t.Unix() >= start {
			items = append(items, o)
		}
	}
	n := min(len(items), f.timedMax)
	for n < len(items) && n > 0 && items[n].t.Equal(items[n-1].t) {
		n++
	}
	end := start
	if n > 0 {
		end = items[n-1].t.Unix()
	}
	out := []map[string]any{}
	for _, o := range items[:n] {
		if kind == "ticket_events" {
			out = append(out, ticketEventJSON(o))
		} else {
			out = append(out, o.json())
		}
	}
	json.NewEncoder(w).Encode(map[string]any{
		kind: out, "count": len(out), "end_time": end, "end_of_stream": n == len(items),
		"next_page": fmt.Sprintf("%s%s?start_time=%d", f.srvURL, r.URL.Path, end),
	})
}

// ticketEventJSON is an audit event with a comment child event (with a
// body, which the connector must drop) and a field change.
func ticketEventJSON(o *obj) map[string]any {
	return map[string]any{
		"id": o.id, "ticket_id": o.id - 800, "timestamp": o.t.Unix(), "created_at": o.t.Format(time.RFC3339),
		"updater_id": 7, "via": map[string]any{"channel": "web"}, "event_type": "Audit",
		"child_events": []any{
			map[string]any{"id": o.id*10 + 1, "via": map[string]any{"channel": "email", "source": map[string]any{}}, "type": "Comment", "event_type": "Comment",
				"author_id": 5, "body": "SECRET BODY of comment", "html_body": "<p>SECRET BODY</p>", "public": true, "attachments": []any{}, "audit_id": o.id,
				"created_at": o.t.Format(time.RFC3339)},
			map[string]any{"id": o.id*10 + 2, "event_type": "Change", "field_name": "status", "value": "open", "previous_value": "new"},
		},
	}
}
