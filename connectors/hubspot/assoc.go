package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/desilo/desilo/plugins/connector"
)

// flexID is an id the API sends as a number or as a string.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id: want a number or a string, got %.40s", b)
	}
	*f = flexID(n.String())
	return nil
}

func (f flexID) String() string { return string(f) }

type assocType struct {
	Category string  `json:"category"`
	TypeID   int     `json:"typeId"`
	Label    *string `json:"label"`
}

type assocLink struct {
	ToObjectID       flexID      `json:"toObjectId"`
	AssociationTypes []assocType `json:"associationTypes"`
}

type batchReadResponse struct {
	Status  string `json:"status"`
	Results []struct {
		From struct {
			ID flexID `json:"id"`
		} `json:"from"`
		To     []assocLink `json:"to"`
		Paging *struct {
			Next struct {
				After string `json:"after"`
			} `json:"next"`
		} `json:"paging"`
	} `json:"results"`
	NumErrors int `json:"numErrors"`
	Errors    []struct {
		Category string `json:"category"`
		Message  string `json:"message"`
	} `json:"errors"`
}

type batchInput struct {
	ID    string `json:"id"`
	After string `json:"after,omitempty"`
}

// associations batch-reads the links from ids to the "to" object type,
// following each id's own paging.
func (r *reader) associations(ctx context.Context, from, to string, ids []string) (map[string][]assocLink, error) {
	out := map[string][]assocLink{}
	inputs := make([]batchInput, len(ids))
	for i, id := range ids {
		inputs[i] = batchInput{ID: id}
	}
	path := "/crm/v4/associations/" + from + "/" + to + "/batch/read"
	for len(inputs) > 0 {
		var resp batchReadResponse
		if _, err := r.c.PostJSON(ctx, path, map[string]any{"inputs": inputs}, &resp); err != nil {
			return nil, err
		}
		if len(resp.Errors) > 0 {
			// HubSpot reports ids without any association as errors (207).
			connector.Log(ctx).Debug("hubspot: association batch read reported errors",
				"from", from, "to", to, "errors", len(resp.Errors), "first", resp.Errors[0].Category)
		}
		inputs = inputs[:0]
		for _, res := range resp.Results {
			id := res.From.ID.String()
			out[id] = append(out[id], res.To...)
			if res.Paging != nil && res.Paging.Next.After != "" {
				inputs = append(inputs, batchInput{ID: id, After: res.Paging.Next.After})
			}
		}
	}
	return out, nil
}

// readAssoc reads one association stream in full: a page of "from" ids,
// then their associations.
func (r *reader) readAssoc(ctx context.Context, a assocStream) error {
	q := url.Values{"limit": {strconv.Itoa(listLimit)}, "properties": {"hs_object_id"}}
	for {
		after := r.st.Assocs[a.name]
		if after != "" {
			q.Set("after", after)
		}
		var page listPage
		if _, err := r.c.GetJSON(ctx, "/crm/v3/objects/"+a.from, q, &page); err != nil {
			return err
		}
		ids := make([]string, 0, len(page.Results))
		for _, o := range page.Results {
			if o.ID != "" {
				ids = append(ids, o.ID)
			}
		}
		links := map[string][]assocLink{}
		if len(ids) > 0 {
			var err error
			if links, err = r.associations(ctx, a.from, a.to, ids); err != nil {
				return err
			}
		}
		for _, id := range ids {
			for _, l := range links[id] {
				if l.ToObjectID == "" {
					continue
				}
				rec := map[string]any{a.fromKey: id, a.toKey: l.ToObjectID.String()}
				if len(l.AssociationTypes) > 0 {
					rec["types"] = l.AssociationTypes
				}
				b, err := json.Marshal(rec)
				if err != nil {
					return fmt.Errorf("hubspot: %s: encoding record: %w", a.name, err)
				}
				if err := r.out.Emit(ctx, connector.Record{Stream: a.name, Data: b}); err != nil {
					return err
				}
			}
		}
		next := page.Paging.Next.After
		if next == "" {
			delete(r.st.Assocs, a.name) // complete: the next run reads in full again
		} else {
			r.st.Assocs[a.name] = next
		}
		if err := r.checkpoint(ctx); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
	}
}
