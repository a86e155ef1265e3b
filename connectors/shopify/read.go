package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

// state is what the connector checkpoints, per stream: the largest
// updated_at delivered and the ids delivered at exactly that time. The
// next read asks for updated_at >= that time and skips those ids, so
// records sharing the last timestamp are neither lost nor repeated.
type state struct {
	Streams map[string]*streamState `json:"streams"`
}

type streamState struct {
	UpdatedAt time.Time `json:"updated_at"`
	IDs       []string  `json:"ids"`
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
	}
	return st, nil
}

// seen says whether a record at updatedAt with id was delivered already.
func (ss *streamState) seen(id string, updatedAt time.Time) bool {
	return ss != nil && updatedAt.Equal(ss.UpdatedAt) && slices.Contains(ss.IDs, id)
}

// advance moves the position past a delivered record. Pages come sorted by
// updatedAt, so a record is never older than the position, except when it
// was updated during the read; the position then stays.
func advance(ss *streamState, id string, updatedAt time.Time) *streamState {
	switch {
	case ss == nil || updatedAt.After(ss.UpdatedAt):
		return &streamState{UpdatedAt: updatedAt, IDs: []string{id}}
	case updatedAt.Equal(ss.UpdatedAt) && !slices.Contains(ss.IDs, id):
		ss.IDs = append(ss.IDs, id)
	}
	return ss
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
	def   *streamDef
	g     *gqlClient
	st    *state
	out   connector.Emitter
	start time.Time
}

func (r *streamReader) read(ctx context.Context) error {
	d := r.def
	pos := r.st.Streams[d.name]
	vars := map[string]any{"first": d.pageSize, "after": nil}
	switch {
	case pos != nil:
		vars["query"] = "updated_at:>='" + pos.UpdatedAt.UTC().Format(time.RFC3339) + "'"
	case !r.start.IsZero():
		vars["query"] = "updated_at:>='" + r.start.Format(time.RFC3339) + "'"
	default:
		vars["query"] = nil
	}
	q := d.query()
	var cost float64
	total := 0
	for pageNo := 1; ; pageNo++ {
		what := fmt.Sprintf("%s page %d", d.name, pageNo)
		var data map[string]page
		c, err := r.g.query(ctx, what, q, vars, cost, &data)
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
			if pos.seen(n.ID, n.UpdatedAt) {
				continue
			}
			emitted, err := r.emit(ctx, raw)
			if err != nil {
				return fmt.Errorf("shopify: %s, node %d: %w", what, i+1, err)
			}
			total += emitted
			pos = advance(pos, n.ID, n.UpdatedAt)
		}
		if pos != nil {
			r.st.Streams[d.name] = pos
			b, err := json.Marshal(r.st)
			if err != nil {
				return err
			}
			if err := r.out.Checkpoint(ctx, b); err != nil {
				return err
			}
		}
		if !p.PageInfo.HasNextPage {
			break
		}
		if p.PageInfo.EndCursor == "" {
			return fmt.Errorf("shopify: %s: hasNextPage without an endCursor", what)
		}
		vars["after"] = p.PageInfo.EndCursor
	}
	connector.Log(ctx).Info("shopify: stream read", "stream", d.name, "records", total)
	return nil
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
