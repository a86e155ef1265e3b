package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/desilo/desilo/connectors/internal/httpx"
	"github.com/desilo/desilo/connectors/internal/incremental"
	"github.com/desilo/desilo/plugins/connector"
)

const (
	listLimit   = 100
	searchLimit = 200
)

// searchWindow is the most results one search query pages through (a var
// so that tests can make it small).
var searchWindow = 10000

// objectState is the checkpoint of one object stream.
type objectState struct {
	// Listing is set while the first full listing is in progress.
	Listing *pass `json:"listing,omitempty"`
	// Incremental is true once the first read is complete; searches then
	// start at Since.
	Incremental bool `json:"incremental,omitempty"`
	// Since is a modification time in Unix ms: every change before it
	// was delivered.
	Since int64 `json:"since_ms,omitempty"`
	// Seen holds id → modification time (ms) of records delivered with a
	// modification time at or after Since less the look-back, so a query
	// starting there skips them. It always holds the ids at Since; older
	// ones may be dropped (see incremental.MaxSeen).
	Seen incremental.Seen `json:"seen,omitempty"`
	// Archived tracks which archived records were reported as deleted.
	Archived archivedState `json:"archived"`
}

// pass is a listing in progress, paged by "after".
type pass struct {
	After string `json:"after,omitempty"`
	// Started is the server time (ms) of the listing's first response.
	Started int64 `json:"started_ms"`
	// Seen holds the records delivered by this pass with a time at or
	// after Started: the next window starts at Started and skips them.
	Seen incremental.Seen `json:"seen,omitempty"`
}

type archivedState struct {
	Since int64            `json:"since_ms,omitempty"`
	Seen  incremental.Seen `json:"seen,omitempty"`
	Pass  *pass            `json:"pass,omitempty"`
}

type listPage struct {
	Results []object `json:"results"`
	Paging  struct {
		Next struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

func (r *reader) readObject(ctx context.Context, name string) error {
	st := r.st.Objects[name]
	if st == nil {
		st = &objectState{}
		r.st.Objects[name] = st
	}
	if !st.Incremental {
		if r.start > 0 {
			st.Incremental, st.Since = true, r.start
		} else if err := r.listAll(ctx, name, st); err != nil {
			return err
		}
	}
	if err := r.search(ctx, name, st); err != nil {
		return err
	}
	return r.listArchived(ctx, name, st)
}

// listAll is the first read of a stream: every record, by id.
func (r *reader) listAll(ctx context.Context, name string, st *objectState) error {
	if st.Listing == nil {
		st.Listing = &pass{}
	}
	p := st.Listing
	q := url.Values{"limit": {strconv.Itoa(listLimit)}, "properties": {strings.Join(r.properties(name), ",")}}
	for {
		if p.After != "" {
			q.Set("after", p.After)
		}
		var page listPage
		resp, err := r.c.GetJSON(ctx, "/crm/v3/objects/"+name, q, &page)
		if err != nil {
			return err
		}
		if p.Started == 0 {
			p.Started = serverTime(resp.Header)
		}
		if err := r.enrich(ctx, name, page.Results); err != nil {
			return err
		}
		for i, o := range page.Results {
			mod, err := r.modified(ctx, name, o, fmt.Sprintf("list page after %q, item %d", p.After, i))
			if err != nil {
				return err
			}
			if mod < 0 {
				continue
			}
			if mod >= p.Started-r.lookback {
				p.Seen.Add(o.ID, mod)
			}
			if err := r.emit(ctx, name, o, false); err != nil {
				return err
			}
		}
		p.Seen.Prune(p.Started-r.lookback, p.Started)
		p.After = page.Paging.Next.After
		if p.After == "" {
			// From here on, searches start when the listing started.
			st.Incremental, st.Since, st.Seen, st.Listing = true, p.Started, p.Seen, nil
		}
		if err := r.checkpoint(ctx); err != nil {
			return err
		}
		if p.After == "" {
			return nil
		}
	}
}

type searchPage struct {
	Total   int      `json:"total"`
	Results []object `json:"results"`
	Paging  struct {
		Next struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

// search reads the records modified at or after st.Since less the
// look-back, oldest first, and skips those delivered already.
func (r *reader) search(ctx context.Context, name string, st *objectState) error {
	prop := modifiedProperty[name]
	sliceStart := max(st.Since-r.lookback, 0)
	for {
		last, _, full, err := r.searchPages(ctx, name, st, []any{filter(prop, "GTE", sliceStart)}, prop, fmt.Sprintf("search from %d", sliceStart))
		if err != nil || !full {
			return err
		}
		if last < sliceStart {
			return fmt.Errorf("hubspot: %s: a whole search window from %s held no usable record", name, time.UnixMilli(sliceStart).UTC().Format(time.RFC3339Nano))
		}
		// The next page would pass the search window: query again from
		// the newest time this query returned. When every record it
		// returned has that time, page through that time by id first.
		if last == sliceStart {
			if err := r.searchTies(ctx, name, st, sliceStart); err != nil {
				return err
			}
			last++
		}
		sliceStart = last
	}
}

// searchTies reads the records modified at t, more than one search
// window's worth, in order of id.
func (r *reader) searchTies(ctx context.Context, name string, st *objectState, t int64) error {
	prop := modifiedProperty[name]
	afterID := int64(0)
	for {
		filters := []any{filter(prop, "EQ", t), filter(idProperty, "GT", afterID)}
		_, lastID, full, err := r.searchPages(ctx, name, st, filters, idProperty, fmt.Sprintf("records modified at %d after id %d", t, afterID))
		if err != nil || !full {
			return err
		}
		next, err := strconv.ParseInt(lastID, 10, 64)
		if err != nil || next <= afterID {
			return fmt.Errorf("hubspot: %s: paging by id through the records modified at %s: id %q does not follow id %d",
				name, time.UnixMilli(t).UTC().Format(time.RFC3339Nano), lastID, afterID)
		}
		afterID = next
	}
}

// idProperty is the record id as a searchable property.
const idProperty = "hs_object_id"

func filter(prop, op string, v int64) map[string]any {
	return map[string]any{"propertyName": prop, "operator": op, "value": strconv.FormatInt(v, 10)}
}

// searchPages runs one search query sorted by sortBy, page by page up to
// the search window, emitting what was not delivered already and
// checkpointing after every page. It returns the modification time (-1:
// none) and id of the last usable record, and whether the window ended
// the query before its results did.
func (r *reader) searchPages(ctx context.Context, name string, st *objectState, filters []any, sortBy, what string) (last int64, lastID string, full bool, err error) {
	last, after := -1, ""
	for {
		body := map[string]any{
			"filterGroups": []any{map[string]any{"filters": filters}},
			"sorts":        []any{map[string]any{"propertyName": sortBy, "direction": "ASCENDING"}},
			"properties":   r.properties(name),
			"limit":        searchLimit,
		}
		if after != "" {
			body["after"] = after
		}
		var page searchPage
		resp, err := r.c.Do(ctx, httpx.Request{Method: http.MethodPost, Path: "/crm/v3/objects/" + name + "/search", Body: body, Limiter: r.searchLim})
		if err == nil {
			err = resp.JSON(&page)
		}
		if err != nil {
			return last, lastID, false, err
		}
		if err := r.enrich(ctx, name, page.Results); err != nil {
			return last, lastID, false, err
		}
		for i, o := range page.Results {
			mod, err := r.modified(ctx, name, o, fmt.Sprintf("%s after %q, item %d", what, after, i))
			if err != nil {
				return last, lastID, false, err
			}
			if mod < 0 {
				continue // unusable: rejected
			}
			last, lastID = mod, o.ID
			if st.Seen.Delivered(o.ID, mod) {
				continue // delivered already
			}
			st.Since = max(st.Since, mod)
			if mod >= st.Since-r.lookback {
				st.Seen.Add(o.ID, mod)
			}
			if err := r.emit(ctx, name, o, false); err != nil {
				return last, lastID, false, err
			}
		}
		st.Seen.Prune(st.Since-r.lookback, st.Since)
		if err := r.checkpoint(ctx); err != nil {
			return last, lastID, false, err
		}
		next := page.Paging.Next.After
		if next == "" || len(page.Results) == 0 {
			return last, lastID, false, nil
		}
		// HubSpot refuses a page that ends past the window (after+limit).
		if off, err := strconv.Atoi(next); err == nil && off+len(page.Results) > searchWindow {
			return last, lastID, true, nil
		}
		after = next
	}
}

// listArchived emits each archived record once, as deleted.
func (r *reader) listArchived(ctx context.Context, name string, st *objectState) error {
	a := &st.Archived
	if a.Pass == nil {
		a.Pass = &pass{}
	}
	p := a.Pass
	q := url.Values{"limit": {strconv.Itoa(listLimit)}, "archived": {"true"}, "properties": {"hs_object_id"}}
	for {
		if p.After != "" {
			q.Set("after", p.After)
		}
		var page listPage
		resp, err := r.c.GetJSON(ctx, "/crm/v3/objects/"+name, q, &page)
		if err != nil {
			return err
		}
		if p.Started == 0 {
			p.Started = serverTime(resp.Header)
		}
		for _, o := range page.Results {
			at, err := parseTime(o.ArchivedAt)
			if err != nil || o.ID == "" {
				connector.Log(ctx).Warn("hubspot: archived record without id or archivedAt; not reported as deleted", "stream", name, "id", o.ID)
				continue
			}
			if at >= p.Started {
				p.Seen.Add(o.ID, at)
			}
			if at < a.Since || a.Seen.Delivered(o.ID, at) {
				continue // reported by an earlier pass
			}
			del := object{ID: o.ID, Archived: true, ArchivedAt: o.ArchivedAt}
			if err := r.emit(ctx, name, del, true); err != nil {
				return err
			}
		}
		p.After = page.Paging.Next.After
		if p.After == "" {
			a.Since, a.Seen, a.Pass = p.Started, p.Seen, nil
		}
		if err := r.checkpoint(ctx); err != nil {
			return err
		}
		if p.After == "" {
			return nil
		}
	}
}

// modified returns a record's modification time in ms, or -1 after
// rejecting a record that has none.
func (r *reader) modified(ctx context.Context, name string, o object, where string) (int64, error) {
	mod, err := parseTime(o.UpdatedAt)
	if err == nil && o.ID != "" {
		return mod, nil
	}
	raw, _ := json.Marshal(o)
	reason := "record has no id"
	if o.ID != "" {
		reason = fmt.Sprintf("updatedAt %q is not an RFC 3339 time", o.UpdatedAt)
	}
	return -1, r.out.Reject(ctx, connector.Reject{Stream: name, Location: where, Reason: reason, Raw: raw})
}

func (r *reader) emit(ctx context.Context, stream string, o object, deleted bool) error {
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("hubspot: %s: encoding record %s: %w", stream, o.ID, err)
	}
	return r.out.Emit(ctx, connector.Record{Stream: stream, Data: b, Deleted: deleted})
}

// enrich adds the associated contact ids to deals.
func (r *reader) enrich(ctx context.Context, name string, objs []object) error {
	if name != "deals" || len(objs) == 0 {
		return nil
	}
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = o.ID
	}
	assoc, err := r.associations(ctx, "deals", "contacts", ids)
	if err != nil {
		return err
	}
	for i := range objs {
		var cs []string
		for _, l := range assoc[objs[i].ID] {
			cs = append(cs, l.ToObjectID.String())
		}
		sortIDs(cs)
		objs[i].ContactIDs = cs
	}
	return nil
}

// sortIDs sorts numeric ids by value (shorter first), others after.
func sortIDs(ids []string) {
	sort.Slice(ids, func(i, j int) bool {
		if len(ids[i]) != len(ids[j]) {
			return len(ids[i]) < len(ids[j])
		}
		return ids[i] < ids[j]
	})
}

func parseTime(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, err
	}
	return t.UnixMilli(), nil
}

// serverTime is the time of a response by the server's clock, so that the
// local clock's skew does not matter; the Date header has whole seconds,
// which errs early (safe). Without it, the local clock less a margin.
func serverTime(h http.Header) int64 {
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		return t.UnixMilli()
	}
	return time.Now().Add(-5 * time.Minute).UnixMilli()
}
