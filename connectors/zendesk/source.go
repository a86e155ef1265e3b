// Package zendesk is the Zendesk Support connector, built on the
// incremental export API.
//
//   - users and tickets use the cursor-based exports
//     (/api/v2/incremental/{users,tickets}/cursor.json): the state keeps the
//     after_cursor, so a later read gets exactly what changed since.
//   - organizations and ticket_comments use the time-based exports
//     (/api/v2/incremental/organizations.json and ticket_events.json with
//     the comment_events sideload), the only kind Zendesk offers for them.
//     A time-based page ends at end_time and the next starts there, so
//     items at that second come twice: the state keeps the ids delivered
//     at it, and they are skipped.
//
// Deleted users (active false), tickets (status deleted) and organizations
// (deleted_at set) are emitted as deleted records. Comment bodies are never
// read into records: a ticket's description, the text of its first
// comment, is left out of its record. A checkpoint follows every page.
package zendesk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/desilo/desilo/connectors/internal/httpx"
	"github.com/desilo/desilo/plugins/connector"
)

const perPage = 1000

// Source is the zendesk connector.
type Source struct {
	// sleep replaces the retry waits in tests; nil waits for real.
	sleep func(context.Context, time.Duration) error
}

// New returns the zendesk connector.
func New() *Source { return &Source{} }

var _ connector.Connector = (*Source)(nil)

// Spec implements connector.Connector.
func (*Source) Spec() connector.Spec {
	return connector.Spec{
		Name:            "zendesk",
		Version:         "0.1.0",
		ProtocolVersion: connector.ProtocolVersion,
		Description:     "Zendesk Support: users, organizations, tickets and comment metadata (incremental exports).",
		ConfigSchema:    configSchema,
	}
}

// Check asks who the credentials belong to. Zendesk answers bad
// credentials on this endpoint with an anonymous user rather than 401.
func (s *Source) Check(ctx context.Context, raw json.RawMessage) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	c, err := cfg.client(s.sleep)
	if err != nil {
		return err
	}
	var me struct {
		User struct {
			ID   *int64 `json:"id"`
			Role string `json:"role"`
		} `json:"user"`
	}
	if _, err := c.GetJSON(ctx, "/api/v2/users/me.json", nil, &me); err != nil {
		return err
	}
	if me.User.ID == nil {
		return fmt.Errorf("zendesk: the credentials were not accepted (Zendesk answered as an anonymous user): check email and api_token: %w", connector.ErrConfig)
	}
	if me.User.Role != "admin" {
		return fmt.Errorf("zendesk: %s has role %q; the incremental export API needs an admin: %w", cfg.Email, me.User.Role, connector.ErrConfig)
	}
	return nil
}

// Discover implements connector.Connector. The streams are fixed, so it
// only checks the config.
func (*Source) Discover(ctx context.Context, raw json.RawMessage) ([]connector.Stream, error) {
	if _, err := parseConfig(raw); err != nil {
		return nil, err
	}
	return streams(), nil
}

// state is the checkpoint of the whole source.
type state struct {
	// Cursors are the after_cursor values of the cursor-based exports.
	Cursors map[string]string `json:"cursors,omitempty"`
	// Times are the positions of the time-based exports.
	Times map[string]*timeState `json:"times,omitempty"`
}

type timeState struct {
	StartTime int64 `json:"start_time"`
	// Seen holds id → time (Unix s) of the items delivered at or after
	// StartTime.
	Seen map[string]int64 `json:"seen,omitempty"`
}

type reader struct {
	c     *httpx.Client
	out   connector.Emitter
	st    state
	start int64
}

// Read implements connector.Connector.
func (s *Source) Read(ctx context.Context, req connector.ReadRequest, out connector.Emitter) error {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return err
	}
	c, err := cfg.client(s.sleep)
	if err != nil {
		return err
	}
	r := &reader{c: c, out: out}
	r.start, _ = cfg.startTime() // checked by parseConfig
	if len(req.State) > 0 {
		if err := json.Unmarshal(req.State, &r.st); err != nil {
			return fmt.Errorf("zendesk: saved state is not valid: %w (reset the source's state to read in full)", err)
		}
	}
	if r.st.Cursors == nil {
		r.st.Cursors = map[string]string{}
	}
	if r.st.Times == nil {
		r.st.Times = map[string]*timeState{}
	}
	all := []string{"users", "organizations", "tickets", "ticket_comments"}
	for _, name := range req.Streams {
		if !slices.Contains(all, name) {
			return fmt.Errorf("zendesk: unknown stream %q", name)
		}
	}
	for _, name := range all {
		if len(req.Streams) > 0 && !slices.Contains(req.Streams, name) {
			continue
		}
		var err error
		switch name {
		case "users":
			err = r.cursorExport(ctx, name, "/api/v2/incremental/users/cursor.json", "users", userDeleted)
		case "tickets":
			err = r.cursorExport(ctx, name, "/api/v2/incremental/tickets/cursor.json", "tickets", ticketDeleted)
		case "organizations":
			err = r.timeExport(ctx, name, "/api/v2/incremental/organizations.json", "organizations", nil, r.organizations)
		case "ticket_comments":
			err = r.timeExport(ctx, name, "/api/v2/incremental/ticket_events.json", "ticket_events", url.Values{"include": {"comment_events"}}, r.comments)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) checkpoint(ctx context.Context) error {
	b, err := json.Marshal(r.st)
	if err != nil {
		return fmt.Errorf("zendesk: encoding state: %w", err)
	}
	return r.out.Checkpoint(ctx, b)
}

// item is the part of an exported object the connector looks at; the
// whole object is emitted.
type item struct {
	ID        *int64  `json:"id"`
	Active    *bool   `json:"active"`
	Status    string  `json:"status"`
	DeletedAt *string `json:"deleted_at"`
	UpdatedAt string  `json:"updated_at"`
}

func userDeleted(it item) bool   { return it.Active != nil && !*it.Active }
func ticketDeleted(it item) bool { return it.Status == "deleted" }

// cursorExport pages a cursor-based export to its end_of_stream.
func (r *reader) cursorExport(ctx context.Context, stream, path, key string, deleted func(item) bool) error {
	for {
		q := url.Values{"per_page": {strconv.Itoa(perPage)}}
		if cur := r.st.Cursors[stream]; cur != "" {
			q.Set("cursor", cur)
		} else {
			q.Set("start_time", strconv.FormatInt(r.start, 10))
		}
		var meta struct {
			AfterCursor *string `json:"after_cursor"`
			EndOfStream bool    `json:"end_of_stream"`
		}
		items, err := r.page(ctx, path, q, key, &meta)
		if err != nil {
			return err
		}
		for i, raw := range items {
			if err := r.emitItem(ctx, stream, raw, fmt.Sprintf("%s page at cursor %q, item %d", path, r.st.Cursors[stream], i), deleted); err != nil {
				return err
			}
		}
		if meta.AfterCursor != nil && *meta.AfterCursor != "" {
			r.st.Cursors[stream] = *meta.AfterCursor
		} else if !meta.EndOfStream {
			return fmt.Errorf("zendesk: GET %s: a page without after_cursor before end_of_stream", path)
		}
		if err := r.checkpoint(ctx); err != nil {
			return err
		}
		if meta.EndOfStream {
			return nil
		}
	}
}

// page gets one export page: the array under key, and the page's other
// fields into meta.
func (r *reader) page(ctx context.Context, path string, q url.Values, key string, meta any) ([]json.RawMessage, error) {
	resp, err := r.c.Do(ctx, httpx.Request{Method: "GET", Path: path, Query: q})
	if err != nil {
		return nil, err
	}
	var page map[string]json.RawMessage
	if err := resp.JSON(&page); err != nil {
		return nil, err
	}
	if err := resp.JSON(meta); err != nil {
		return nil, err
	}
	raw, ok := page[key]
	if !ok {
		return nil, fmt.Errorf("zendesk: GET %s: the response has no %q array (body starts %.80q)", path, key, r.c.Redact(string(resp.Body)))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, fmt.Errorf("zendesk: GET %s: field %q is not an array: %w", path, key, err)
	}
	return items, nil
}

// emitItem emits one exported object, or rejects it when it has no id.
func (r *reader) emitItem(ctx context.Context, stream string, raw json.RawMessage, where string, deleted func(item) bool) error {
	if stream == "tickets" {
		raw = withoutDescription(raw)
	}
	var it item
	if err := json.Unmarshal(raw, &it); err != nil || it.ID == nil {
		reason := "item has no id"
		if err != nil {
			reason = "item is not a JSON object of the documented shape: " + err.Error()
		}
		return r.out.Reject(ctx, connector.Reject{Stream: stream, Location: where, Reason: reason, Raw: raw})
	}
	if deleted(it) {
		b, _ := json.Marshal(map[string]int64{"id": *it.ID})
		return r.out.Emit(ctx, connector.Record{Stream: stream, Data: b, Deleted: true})
	}
	return r.out.Emit(ctx, connector.Record{Stream: stream, Data: raw})
}

// withoutDescription drops a ticket's description, its first comment's
// text, which records never carry. A ticket that is not a JSON object is
// passed on as it is, to be rejected by its shape.
func withoutDescription(raw json.RawMessage) json.RawMessage {
	var t map[string]json.RawMessage
	if json.Unmarshal(raw, &t) != nil {
		return raw
	}
	if _, ok := t["description"]; !ok {
		return raw
	}
	delete(t, "description")
	b, err := json.Marshal(t)
	if err != nil {
		return raw
	}
	return b
}
