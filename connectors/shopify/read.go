package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/desilo/desilo/connectors/internal/incremental"
	"github.com/desilo/desilo/plugins/connector"
)

// state is what the connector checkpoints, per stream.
type state struct {
	Streams map[string]*streamState `json:"streams"`
}

// streamState is one stream's position. Between reads, UpdatedAt is the
// newest updatedAt delivered; the next read searches from that time less
// the look-back, so a change the search index lists late is read then,
// and skips the records Seen holds unchanged. During a read, Walk says
// where the read stands.
type streamState struct {
	UpdatedAt time.Time `json:"updated_at"`
	// Seen holds id → updatedAt (Unix seconds) of records delivered in the
	// look-back window. updatedAt has whole seconds, so a record read in
	// the second it changed could change again within that second without
	// a new updatedAt: only records whose second had passed when Shopify
	// answered are remembered.
	Seen incremental.Seen `json:"seen,omitempty"`
	// IDs is the state's earlier form of Seen, the ids delivered at
	// UpdatedAt; decodeState moves them into Seen.
	IDs  []string `json:"ids,omitempty"`
	Walk *walk    `json:"walk,omitempty"`
}

// walk is a read in progress: its search's lower bound (nil: none), the
// endCursor of the last page delivered and the newest updatedAt delivered.
// A resumed read pages on from the cursor with the same search, so a
// record updated during the read, which can carry a time far ahead of the
// records not read yet, never moves the lower bound past them.
type walk struct {
	From   *time.Time `json:"from,omitempty"`
	After  string     `json:"after,omitempty"`
	Newest time.Time  `json:"newest"`
}

func decodeState(raw json.RawMessage) (*state, error) {
	st := &state{Streams: map[string]*streamState{}}
	if len(raw) == 0 || string(raw) == "null" {
		return st, nil
	}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("shopify: saved state is not valid: %w", err)
	}
	if st.Streams == nil {
		st.Streams = map[string]*streamState{}
	}
	for name, ss := range st.Streams {
		if ss == nil {
			return nil, fmt.Errorf("shopify: saved state of stream %s is null", name)
		}
		for _, id := range ss.IDs {
			ss.Seen.Add(id, ss.UpdatedAt.Unix())
		}
		ss.IDs = nil
	}
	return st, nil
}

type page struct {
	PageInfo struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	} `json:"pageInfo"`
	Nodes []json.RawMessage `json:"nodes"`
}

// node is what every node carries for paging and state.
type node struct {
	ID        string    `json:"id"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type streamReader struct {
	def      *streamDef
	g        *gqlClient
	st       *state
	out      connector.Emitter
	start    time.Time
	lookback time.Duration
}

// begin returns the walk a read starts or resumes.
func (r *streamReader) begin() *walk {
	ss := r.st.Streams[r.def.name]
	switch {
	case ss != nil && ss.Walk != nil:
		return ss.Walk
	case ss != nil:
		from := ss.UpdatedAt.Add(-r.lookback)
		return &walk{From: &from}
	case !r.start.IsZero():
		from := r.start
		return &walk{From: &from}
	}
	return &walk{}
}

func (r *streamReader) read(ctx context.Context) error {
	d := r.def
	w := r.begin()
	ss := &streamState{Walk: w}
	if prev := r.st.Streams[d.name]; prev != nil {
		ss.UpdatedAt, ss.Seen = prev.UpdatedAt, prev.Seen
	}
	vars := map[string]any{"first": d.pageSize, "after": nil, "query": nil}
	if w.From != nil {
		vars["query"] = "updated_at:>='" + w.From.UTC().Format(time.RFC3339) + "'"
	}
	if w.After != "" {
		vars["after"] = w.After
	}
	q := d.query()
	var cost float64
	total := 0
	for pageNo := 1; ; pageNo++ {
		what := fmt.Sprintf("%s page %d", d.name, pageNo)
		var data map[string]page
		c, err := r.g.query(ctx, what, q, vars, cost, &data)
		if first := vars["first"].(int); errors.Is(err, errMaxCost) && first > 1 {
			// Shopify prices a page by its size; a smaller page fits.
			vars["first"], cost = first/2, 0
			connector.Log(ctx).Warn("shopify: a page costs more than Shopify allows one query; asking for smaller pages",
				"stream", d.name, "page_size", first/2)
			pageNo--
			continue
		}
		if err != nil {
			return err
		}
		cost = c
		p, ok := data[d.root]
		if !ok {
			return fmt.Errorf("shopify: %s: the response has no %s", what, d.root)
		}
		for i, raw := range p.Nodes {
			var n node
			if err := json.Unmarshal(raw, &n); err != nil || n.ID == "" || n.UpdatedAt.IsZero() {
				return fmt.Errorf("shopify: %s, node %d: no id or updatedAt in %.200s", what, i+1, raw)
			}
			at := n.UpdatedAt.Unix()
			if ss.Seen.Delivered(n.ID, at) {
				continue
			}
			emitted, err := r.emit(ctx, raw)
			if err != nil {
				return fmt.Errorf("shopify: %s, node %d: %w", what, i+1, err)
			}
			total += emitted
			if n.UpdatedAt.After(w.Newest) {
				w.Newest = n.UpdatedAt
			}
			if at < r.secondsPassed() {
				ss.Seen.Add(n.ID, at)
			}
		}
		more := p.PageInfo.HasNextPage
		if more && p.PageInfo.EndCursor == "" {
			return fmt.Errorf("shopify: %s: hasNextPage without an endCursor", what)
		}
		w.After = p.PageInfo.EndCursor
		if err := r.checkpoint(ctx, ss, more); err != nil {
			return err
		}
		if !more {
			break
		}
		vars["after"] = w.After
	}
	connector.Log(ctx).Info("shopify: stream read", "stream", d.name, "records", total)
	return nil
}

// secondsPassed is the first second, in Unix seconds, that had not passed
// when Shopify answered the last query: by its Date header, else by the
// local clock less a minute for skew.
func (r *streamReader) secondsPassed() int64 {
	if !r.g.served.IsZero() {
		return r.g.served.Unix()
	}
	return r.g.now().Add(-time.Minute).Unix()
}

// checkpoint saves the walk while more pages follow, and the newest time
// delivered once the read is complete.
func (r *streamReader) checkpoint(ctx context.Context, ss *streamState, more bool) error {
	newest := ss.UpdatedAt
	if ss.Walk.Newest.After(newest) {
		newest = ss.Walk.Newest
	}
	ss.Seen.Prune(newest.Add(-r.lookback).Unix(), newest.Unix())
	if !more {
		ss = &streamState{UpdatedAt: newest, Seen: ss.Seen}
		if newest.IsZero() {
			return nil // nothing read, ever: no position to save
		}
	}
	r.st.Streams[r.def.name] = ss
	b, err := json.Marshal(r.st)
	if err != nil {
		return err
	}
	return r.out.Checkpoint(ctx, b)
}

// emit emits the records of one node: the node itself, or for refunds
// each refund of the order.
func (r *streamReader) emit(ctx context.Context, raw json.RawMessage) (int, error) {
	switch r.def.name {
	case "customers":
		data, err := withConsent(raw)
		if err != nil {
			return 0, err
		}
		return 1, r.out.Emit(ctx, connector.Record{Stream: r.def.name, Data: data})
	case "refunds":
		return r.emitRefunds(ctx, raw)
	}
	return 1, r.out.Emit(ctx, connector.Record{Stream: r.def.name, Data: raw})
}

// withConsent adds consent_email and consent_sms: true when the marketing
// state is SUBSCRIBED, false for any other state, null without an email
// address or phone number.
func withConsent(raw json.RawMessage) (json.RawMessage, error) {
	var c map[string]json.RawMessage
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	var contact struct {
		Email *marketing `json:"defaultEmailAddress"`
		Phone *marketing `json:"defaultPhoneNumber"`
	}
	if err := json.Unmarshal(raw, &contact); err != nil {
		return nil, err
	}
	c["consent_email"] = contact.Email.consent()
	c["consent_sms"] = contact.Phone.consent()
	return json.Marshal(c)
}

// marketing is a contact's marketing state (defaultEmailAddress,
// defaultPhoneNumber).
type marketing struct {
	MarketingState string `json:"marketingState"`
}

func (m *marketing) consent() json.RawMessage {
	switch {
	case m == nil:
		return json.RawMessage("null")
	case m.MarketingState == "SUBSCRIBED":
		return json.RawMessage("true")
	}
	return json.RawMessage("false")
}

func (r *streamReader) emitRefunds(ctx context.Context, raw json.RawMessage) (int, error) {
	var order struct {
		Refunds []map[string]json.RawMessage `json:"refunds"`
	}
	if err := json.Unmarshal(raw, &order); err != nil {
		return 0, err
	}
	var ref map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ref); err != nil {
		return 0, err
	}
	delete(ref, "refunds")
	if len(order.Refunds) >= refundsPerOrder {
		connector.Log(ctx).Warn("shopify: an order has as many refunds as a query reads; any more are not read",
			"order", string(ref["id"]), "refunds_read", len(order.Refunds))
	}
	orderRef, err := json.Marshal(ref)
	if err != nil {
		return 0, err
	}
	for _, refund := range order.Refunds {
		refund["order"] = orderRef
		data, err := json.Marshal(refund)
		if err != nil {
			return 0, err
		}
		if err := r.out.Emit(ctx, connector.Record{Stream: r.def.name, Data: data}); err != nil {
			return 0, err
		}
	}
	return len(order.Refunds), nil
}
