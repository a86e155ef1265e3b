package zendesk

import (
	"encoding/json"

	"github.com/desilo/desilo/plugins/connector"
)

func schema(required []string, props map[string]any) json.RawMessage {
	b, err := json.Marshal(map[string]any{
		"$schema":    "https://json-schema.org/draft/2020-12/schema",
		"type":       "object",
		"required":   required,
		"properties": props,
	})
	if err != nil {
		panic(err)
	}
	return b
}

var (
	idProp   = map[string]any{"type": "integer"}
	strNull  = map[string]any{"type": []string{"string", "null"}}
	timeProp = map[string]any{"type": "string", "format": "date-time"}
	ts       = func(path string) connector.Expr { return connector.Expr{Path: path, Type: "timestamp"} }
)

func streams() []connector.Stream {
	return []connector.Stream{
		{
			Name:        "users",
			Description: "End users and agents, as the incremental user export returns them; deleted users arrive as deleted records.",
			Schema: schema([]string{"id"}, map[string]any{
				"id": idProp, "name": strNull, "email": strNull, "phone": strNull, "role": strNull,
				"active": map[string]any{"type": "boolean"}, "organization_id": map[string]any{"type": []string{"integer", "null"}},
				"created_at": timeProp, "updated_at": timeProp,
			}),
			PrimaryKey:  []string{"id"},
			CursorField: "updated_at",
			Mapping: &connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{
				"email":               connector.P("email"),
				"phone":               connector.P("phone"),
				"full_name":           connector.P("name"),
				"ids.zendesk_user_id": connector.P("id"),
				"created_at":          ts("created_at"),
				"updated_at":          ts("updated_at"),
			}},
		},
		{
			Name:        "organizations",
			Description: "Organizations; deleted ones arrive as deleted records.",
			Schema: schema([]string{"id"}, map[string]any{
				"id": idProp, "name": strNull, "domain_names": map[string]any{"type": "array"},
				"created_at": timeProp, "updated_at": timeProp,
			}),
			PrimaryKey:  []string{"id"},
			CursorField: "updated_at",
		},
		{
			Name:        "tickets",
			Description: "Tickets, as the incremental ticket export returns them; deleted tickets arrive as deleted records.",
			Schema: schema([]string{"id"}, map[string]any{
				"id": idProp, "requester_id": map[string]any{"type": []string{"integer", "null"}},
				"status": strNull, "priority": strNull, "subject": strNull,
				"via":                 map[string]any{"type": "object", "properties": map[string]any{"channel": map[string]any{"type": []string{"string", "integer", "null"}}}},
				"satisfaction_rating": map[string]any{"type": []string{"object", "null"}},
				"created_at":          timeProp, "updated_at": timeProp,
			}),
			PrimaryKey:  []string{"id"},
			CursorField: "updated_at",
			Mapping: &connector.Mapping{Entity: "ticket", Fields: map[string]connector.Expr{
				"ticket_number": connector.P("id"),
				"customer_ref":  connector.P("requester_id"),
				// The model knows open, pending, solved and closed; Zendesk
				// also new (not yet answered) and hold (waiting on a third
				// party).
				"status":       {Path: "status", Values: map[string]string{"new": "open", "hold": "pending"}},
				"priority":     connector.P("priority"),
				"channel":      connector.P("via.channel"),
				"satisfaction": connector.P("satisfaction_rating.score"),
				"subject":      connector.P("subject"),
				"created_at":   ts("created_at"),
				"updated_at":   ts("updated_at"),
			}},
		},
		{
			Name:        "ticket_comments",
			Description: "Metadata of ticket comments (no bodies), from the incremental ticket event export.",
			Schema: schema([]string{"id", "ticket_id"}, map[string]any{
				"id": idProp, "ticket_id": idProp, "author_id": map[string]any{"type": []string{"integer", "null"}},
				"public": map[string]any{"type": "boolean"}, "channel": strNull, "created_at": timeProp,
			}),
			PrimaryKey:  []string{"id"},
			CursorField: "created_at",
		},
	}
}
