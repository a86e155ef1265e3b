package hubspot

import (
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

const token = "pat-na1-11111111-2222-TOKEN"

// fakeRecord is one CRM record of the fake.
type fakeRecord struct {
	id         int
	props      map[string]any
	created    time.Time
	updated    time.Time
	archivedAt time.Time // zero: not archived
	indexed    time.Time // when search lists the record; zero: at once
}

func (r fakeRecord) json() map[string]any {
	m := map[string]any{
		"id": strconv.Itoa(r.id), "properties": r.props,
		"createdAt": r.created.Format("2006-01-02T15:04:05.000Z"), "updatedAt": r.updated.Format("2006-01-02T15:04:05.000Z"),
		"archived": !r.archivedAt.IsZero(),
	}
	if !r.archivedAt.IsZero() {
		m["archivedAt"] = r.archivedAt.Format("2006-01-02T15:04:05.000Z")
	}
	return m
}

// fakeHubSpot follows HubSpot's documented shapes: list paging by
// paging.next.after, search with a GTE filter, ascending sort and a result
// window, v4 association batch reads (207 with errors for ids without any).
// Search lists a record only once it is indexed, as the real index lists
// a change some time after it was made. Search allows 4 requests per
// searchSecond and answers more as HubSpot does: 429, no Retry-After,
// policyName SECONDLY in the body.
type fakeHubSpot struct {
	mu       sync.Mutex
	objects  map[string][]*fakeRecord
	assocs   map[string]map[int][]int // "contacts/companies" -> from -> to
	pageMax  int                      // server-side cap on limit, to force paging
	window   int
	inject   map[string][]func(w http.ResponseWriter) // path prefix -> one-shot responses
	requests []string
	now      time.Time // the server's clock, sent as the Date header

	searchSecond time.Duration // HubSpot's second for the search limit; tests shorten it
	searchTimes  []time.Time   // arrival of every search request
	searchOK     []time.Time   // arrival of the searches let through
	search429    int           // searches answered 429
}

// testSecond is the fake's searchSecond and, scaled alike, the search
// interval of testSource, so that tests keep to the limit quickly.
const testSecond = 50 * time.Millisecond

func newFake() *fakeHubSpot {
	t0 := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	f := &fakeHubSpot{objects: map[string][]*fakeRecord{}, assocs: map[string]map[int][]int{}, pageMax: 2, window: 10000, now: t0.Add(24 * time.Hour), searchSecond: testSecond, inject: map[string][]func(http.ResponseWriter){}}
	for i := 1; i <= 5; i++ {
		f.objects["contacts"] = append(f.objects["contacts"], &fakeRecord{id: 100 + i, created: t0, updated: t0.Add(time.Duration(i) * time.Hour),
			props: map[string]any{"email": fmt.Sprintf("c%d@example.com", i), "firstname": "First" + strconv.Itoa(i), "lastname": "Last", "zip": "10115", "phone": nil}})
	}
	f.objects["contacts"] = append(f.objects["contacts"], &fakeRecord{id: 199, created: t0, updated: t0, archivedAt: t0.Add(2 * time.Hour), props: map[string]any{}})
	for i := 1; i <= 3; i++ {
		f.objects["companies"] = append(f.objects["companies"], &fakeRecord{id: 200 + i, created: t0, updated: t0.Add(time.Duration(i) * time.Minute), props: map[string]any{"name": "Co" + strconv.Itoa(i)}})
		f.objects["deals"] = append(f.objects["deals"], &fakeRecord{id: 300 + i, created: t0, updated: t0.Add(time.Duration(i) * time.Second),
			props: map[string]any{"dealname": "Deal" + strconv.Itoa(i), "amount": "1200.50", "closedate": "2024-06-01T00:00:00Z"}})
	}
	f.assocs["contacts/companies"] = map[int][]int{101: {201}, 102: {201, 202}, 103: {203}}
	f.assocs["deals/contacts"] = map[int][]int{301: {105, 101}, 302: {103}}
	return f
}

func (f *fakeHubSpot) start(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

// failNext makes the next request whose path starts with prefix get resp.
func (f *fakeHubSpot) failNext(prefix string, resp func(w http.ResponseWriter)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inject[prefix] = append(f.inject[prefix], resp)
}

func (f *fakeHubSpot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	w.Header().Set("Date", f.now.Format(http.TimeFormat))
	if r.Header.Get("Authorization") != "Bearer "+token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"status":"error","message":"Authentication credentials not found.","category":"INVALID_AUTHENTICATION"}`)
		return
	}
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/search") && !f.searchAllowed() {
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","correlationId":"c033cdaa-2c40-4a64-ae48-b4cec88dad24","policyName":"SECONDLY"}`)
		return
	}
	for prefix, q := range f.inject {
		if strings.HasPrefix(r.URL.Path, prefix) && len(q) > 0 {
			f.inject[prefix] = q[1:]
			q[0](w)
			return
		}
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 4 && parts[0] == "crm" && parts[1] == "v3" && r.Method == http.MethodGet:
		f.list(w, r, parts[3])
	case len(parts) == 5 && parts[4] == "search" && r.Method == http.MethodPost:
		f.search(w, r, parts[3])
	case len(parts) == 7 && parts[1] == "v4" && parts[6] == "read" && r.Method == http.MethodPost:
		f.batchRead(w, r, parts[3], parts[4])
	default:
		http.Error(w, `{"status":"error","message":"not found"}`, http.StatusNotFound)
	}
}

// searchAllowed records a search request and says whether fewer than 4
// were let through in the searchSecond before it.
func (f *fakeHubSpot) searchAllowed() bool {
	now := time.Now()
	f.searchTimes = append(f.searchTimes, now)
	in := 0
	for _, t := range f.searchOK {
		if now.Sub(t) < f.searchSecond {
			in++
		}
	}
	if in >= 4 {
		f.search429++
		return false
	}
	f.searchOK = append(f.searchOK, now)
	return true
}

func (f *fakeHubSpot) limit(s string, max int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		n = 10
	}
	return min(n, max, f.pageMax)
}

func (f *fakeHubSpot) list(w http.ResponseWriter, r *http.Request, obj string) {
	q := r.URL.Query()
	archived := q.Get("archived") == "true"
	var recs []*fakeRecord
	for _, rec := range f.objects[obj] {
		if archived == !rec.archivedAt.IsZero() {
			recs = append(recs, rec)
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].id < recs[j].id })
	after, _ := strconv.Atoi(q.Get("after")) // the next id to return
	var page []map[string]any
	limit := f.limit(q.Get("limit"), 100)
	next := ""
	for _, rec := range recs {
		if rec.id < after {
			continue
		}
		if len(page) == limit {
			next = strconv.Itoa(rec.id)
			break
		}
		page = append(page, rec.json())
	}
	writePage(w, page, next)
}

func writePage(w http.ResponseWriter, results []map[string]any, next string) {
	body := map[string]any{"results": results}
	if results == nil {
		body["results"] = []any{}
	}
	if next != "" {
		body["paging"] = map[string]any{"next": map[string]any{"after": next, "link": "https://api.hubapi.com/ignored?after=" + next}}
	}
	json.NewEncoder(w).Encode(body)
}

func (f *fakeHubSpot) search(w http.ResponseWriter, r *http.Request, obj string) {
	var req struct {
		FilterGroups []struct {
			Filters []struct{ PropertyName, Operator, Value string }
		}
		Sorts []struct{ PropertyName, Direction string }
		Limit int
		After string
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.FilterGroups) != 1 || len(req.Sorts) != 1 || req.Sorts[0].Direction != "ASCENDING" {
		http.Error(w, `{"status":"error","message":"bad search request"}`, http.StatusBadRequest)
		return
	}
	// The filters the connector uses: the modification time GTE or EQ a
	// time, the id GT an id; all of a group must hold.
	var keep []func(*fakeRecord) bool
	for _, flt := range req.FilterGroups[0].Filters {
		v, err := strconv.ParseInt(flt.Value, 10, 64)
		switch {
		case err != nil:
			http.Error(w, `{"status":"error","message":"filter value is not a number"}`, http.StatusBadRequest)
			return
		case flt.PropertyName == modifiedProperty[obj] && flt.Operator == "GTE":
			keep = append(keep, func(rec *fakeRecord) bool { return rec.updated.UnixMilli() >= v })
		case flt.PropertyName == modifiedProperty[obj] && flt.Operator == "EQ":
			keep = append(keep, func(rec *fakeRecord) bool { return rec.updated.UnixMilli() == v })
		case flt.PropertyName == "hs_object_id" && flt.Operator == "GT":
			keep = append(keep, func(rec *fakeRecord) bool { return int64(rec.id) > v })
		default:
			http.Error(w, `{"status":"error","message":"unexpected filter"}`, http.StatusBadRequest)
			return
		}
	}
	byID := req.Sorts[0].PropertyName == "hs_object_id"
	if !byID && req.Sorts[0].PropertyName != modifiedProperty[obj] {
		http.Error(w, `{"status":"error","message":"unexpected sort"}`, http.StatusBadRequest)
		return
	}
	var recs []*fakeRecord
	for _, rec := range f.objects[obj] {
		ok := rec.archivedAt.IsZero() && !rec.indexed.After(f.now)
		for _, k := range keep {
			ok = ok && k(rec)
		}
		if ok {
			recs = append(recs, rec)
		}
	}
	// Ties on the modification time come in no particular order (here:
	// by descending id), as HubSpot promises none.
	sort.Slice(recs, func(i, j int) bool {
		switch {
		case byID:
			return recs[i].id < recs[j].id
		case !recs[i].updated.Equal(recs[j].updated):
			return recs[i].updated.Before(recs[j].updated)
		}
		return recs[i].id > recs[j].id
	})
	off, _ := strconv.Atoi(req.After)
	limit := f.limit(strconv.Itoa(req.Limit), 200)
	if off+limit > f.window {
		http.Error(w, `{"status":"error","message":"paging past the result window"}`, http.StatusBadRequest)
		return
	}
	var page []map[string]any
	for i := off; i < len(recs) && i < off+limit; i++ {
		page = append(page, recs[i].json())
	}
	body := map[string]any{"total": len(recs), "results": page}
	if page == nil {
		body["results"] = []any{}
	}
	if off+limit < len(recs) {
		body["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(off + limit)}}
	}
	json.NewEncoder(w).Encode(body)
}

func (f *fakeHubSpot) batchRead(w http.ResponseWriter, r *http.Request, from, to string) {
	var req struct {
		Inputs []struct{ ID, After string }
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"status":"error","message":"bad body"}`, http.StatusBadRequest)
		return
	}
	links := f.assocs[from+"/"+to]
	var results, errs []any
	for _, in := range req.Inputs {
		id, _ := strconv.Atoi(in.ID)
		tos := links[id]
		if len(tos) == 0 {
			errs = append(errs, map[string]any{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "No " + to + " is associated with " + in.ID})
			continue
		}
		// One association per page, to exercise per-id paging.
		start, _ := strconv.Atoi(in.After)
		res := map[string]any{"from": map[string]any{"id": in.ID}, "to": []any{map[string]any{
			"toObjectId":       tos[start],
			"associationTypes": []any{map[string]any{"category": "HUBSPOT_DEFINED", "typeId": 1, "label": nil}},
		}}}
		if start+1 < len(tos) {
			res["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(start + 1)}}
		}
		results = append(results, res)
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusMultiStatus
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"status": "COMPLETE", "results": results, "numErrors": len(errs), "errors": errs,
		"startedAt": "2024-05-01T09:00:00Z", "completedAt": "2024-05-01T09:00:01Z"})
}
