package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

// timedHandler emits what one item of a time-based export holds. It returns
// the item's dedupe key and time (Unix s), or ok=false after rejecting it.
type timedHandler func(ctx context.Context, raw json.RawMessage, where string) (key string, t int64, emit func() error, ok bool, err error)

// timeExport pages a time-based export from the saved start_time to its
// end_of_stream, skipping items delivered at the boundary second before.
func (r *reader) timeExport(ctx context.Context, stream, path, key string, extra url.Values, handle timedHandler) error {
	st := r.st.Times[stream]
	if st == nil {
		st = &timeState{StartTime: r.start}
		r.st.Times[stream] = st
	}
	for {
		q := url.Values{"start_time": {strconv.FormatInt(st.StartTime, 10)}}
		for k, v := range extra {
			q[k] = v
		}
		var meta struct {
			EndTime     int64 `json:"end_time"`
			EndOfStream bool  `json:"end_of_stream"`
		}
		items, err := r.page(ctx, path, q, key, &meta)
		if err != nil {
			return err
		}
		for i, raw := range items {
			where := fmt.Sprintf("%s start_time=%d, item %d", path, st.StartTime, i)
			k, t, emit, ok, err := handle(ctx, raw, where)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if prev, seen := st.Seen[k]; seen && prev == t {
				continue // delivered by the page before, which ended at this second
			}
			if err := emit(); err != nil {
				return err
			}
			if t >= st.StartTime {
				if st.Seen == nil {
					st.Seen = map[string]int64{}
				}
				st.Seen[k] = t
			}
		}
		switch {
		case meta.EndTime > st.StartTime:
			st.StartTime = meta.EndTime
			for k, t := range st.Seen {
				if t < st.StartTime {
					delete(st.Seen, k)
				}
			}
		case !meta.EndOfStream:
			return fmt.Errorf("zendesk: GET %s: end_time %d does not advance past start_time %d; the export cannot go on", path, meta.EndTime, st.StartTime)
		}
		if err := r.checkpoint(ctx); err != nil {
			return err
		}
		if meta.EndOfStream {
			return nil
		}
	}
}

// organizations handles one item of the organization export.
func (r *reader) organizations(ctx context.Context, raw json.RawMessage, where string) (string, int64, func() error, bool, error) {
	var it item
	if err := json.Unmarshal(raw, &it); err == nil && it.ID != nil {
		if t, err := time.Parse(time.RFC3339, it.UpdatedAt); err == nil {
			emit := func() error {
				return r.emitItem(ctx, "organizations", raw, where, func(it item) bool { return it.DeletedAt != nil })
			}
			return strconv.FormatInt(*it.ID, 10), t.Unix(), emit, true, nil
		}
	}
	err := r.out.Reject(ctx, connector.Reject{Stream: "organizations", Location: where, Reason: "organization without an id or an RFC 3339 updated_at", Raw: raw})
	return "", 0, nil, false, err
}

type ticketEvent struct {
	ID        *int64 `json:"id"`
	TicketID  *int64 `json:"ticket_id"`
	Timestamp *int64 `json:"timestamp"`
	CreatedAt string `json:"created_at"`
	Via       struct {
		Channel json.RawMessage `json:"channel"`
	} `json:"via"`
	ChildEvents []struct {
		ID        *int64 `json:"id"`
		EventType string `json:"event_type"`
		AuthorID  *int64 `json:"author_id"`
		Public    *bool  `json:"public"`
		CreatedAt string `json:"created_at"`
		Via       struct {
			Channel json.RawMessage `json:"channel"`
		} `json:"via"`
	} `json:"child_events"`
}

// comment is the metadata of a ticket comment; the body is left out.
type comment struct {
	ID        int64   `json:"id"`
	TicketID  int64   `json:"ticket_id"`
	AuthorID  *int64  `json:"author_id"`
	Public    bool    `json:"public"`
	Channel   *string `json:"channel"`
	CreatedAt string  `json:"created_at,omitempty"`
}

// comments handles one ticket event: it emits the comments among its
// child events.
func (r *reader) comments(ctx context.Context, raw json.RawMessage, where string) (string, int64, func() error, bool, error) {
	var ev ticketEvent
	if err := json.Unmarshal(raw, &ev); err != nil || ev.ID == nil || ev.TicketID == nil || ev.Timestamp == nil {
		reason := "ticket event without id, ticket_id or timestamp"
		if err != nil {
			reason = "ticket event of an unexpected shape: " + err.Error()
		}
		// No Raw: the event may hold comment bodies, which are never kept.
		err := r.out.Reject(ctx, connector.Reject{Stream: "ticket_comments", Location: where, Reason: reason})
		return "", 0, nil, false, err
	}
	emit := func() error {
		for _, ch := range ev.ChildEvents {
			if ch.EventType != "Comment" || ch.ID == nil {
				continue
			}
			c := comment{ID: *ch.ID, TicketID: *ev.TicketID, AuthorID: ch.AuthorID, Public: ch.Public == nil || *ch.Public, CreatedAt: ch.CreatedAt}
			if c.CreatedAt == "" {
				c.CreatedAt = ev.CreatedAt
			}
			c.Channel = channel(ch.Via.Channel)
			if c.Channel == nil {
				c.Channel = channel(ev.Via.Channel)
			}
			b, err := json.Marshal(c)
			if err != nil {
				return fmt.Errorf("zendesk: encoding comment %d: %w", c.ID, err)
			}
			if err := r.out.Emit(ctx, connector.Record{Stream: "ticket_comments", Data: b}); err != nil {
				return err
			}
		}
		return nil
	}
	return strconv.FormatInt(*ev.ID, 10), *ev.Timestamp, emit, true, nil
}

// channel turns via.channel (a name, or a number in some events) into a
// string.
func channel(raw json.RawMessage) *string {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return nil
	}
	return &s
}
