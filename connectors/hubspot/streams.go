package hubspot

import (
	"encoding/json"

	"github.com/desilo/desilo/plugins/connector"
)

// objectNames are the CRM objects read as streams of their own.
var objectNames = []string{"contacts", "companies", "deals"}

// defaultProperties are read for every record; the config adds to them.
var defaultProperties = map[string][]string{
	"contacts":  {"email", "phone", "mobilephone", "firstname", "lastname", "company", "address", "city", "zip", "state", "country", "createdate", "lastmodifieddate"},
	"companies": {"name", "domain", "phone", "city", "zip", "country", "industry", "createdate", "hs_lastmodifieddate"},
	"deals":     {"dealname", "amount", "deal_currency_code", "closedate", "dealstage", "pipeline", "createdate", "hs_lastmodifieddate"},
}

// modifiedProperty is the property the search filters and sorts by:
// contacts name it differently from the other objects.
var modifiedProperty = map[string]string{
	"contacts":  "lastmodifieddate",
	"companies": "hs_lastmodifieddate",
	"deals":     "hs_lastmodifieddate",
}

// assocStream is a stream of associations from one object type to another.
type assocStream struct {
	name     string
	from, to string // object types, as the associations API names them
	fromKey  string // record field of the "from" id
	toKey    string // record field of the "to" id
}

var assocStreams = []assocStream{
	{name: "contact_companies", from: "contacts", to: "companies", fromKey: "contact_id", toKey: "company_id"},
	{name: "deal_contacts", from: "deals", to: "contacts", fromKey: "deal_id", toKey: "contact_id"},
}

// object is a CRM record as emitted: the API's shape, plus contact_ids on
// deals.
type object struct {
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties,omitempty"`
	CreatedAt  string         `json:"createdAt,omitempty"`
	UpdatedAt  string         `json:"updatedAt,omitempty"`
	Archived   bool           `json:"archived,omitempty"`
	ArchivedAt string         `json:"archivedAt,omitempty"`
	// ContactIDs are a deal's associated contacts, ascending.
	ContactIDs []string `json:"contact_ids,omitempty"`
}

func objectSchema(name string) json.RawMessage {
	props := map[string]any{
		"id":         map[string]any{"type": "string", "minLength": 1, "description": "HubSpot record id (hs_object_id)."},
		"properties": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": []string{"string", "null"}}, "description": "The record's properties by internal name, as HubSpot returns them (strings)."},
		"createdAt":  map[string]any{"type": "string", "format": "date-time"},
		"updatedAt":  map[string]any{"type": "string", "format": "date-time", "description": "Last modification; the cursor of incremental reads."},
		"archived":   map[string]any{"type": "boolean"},
		"archivedAt": map[string]any{"type": "string", "format": "date-time"},
	}
	if name == "deals" {
		props["contact_ids"] = map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "Ids of the contacts associated with the deal, ascending."}
	}
	return mustJSON(map[string]any{
		"$schema":    "https://json-schema.org/draft/2020-12/schema",
		"type":       "object",
		"required":   []string{"id", "updatedAt"},
		"properties": props,
	})
}

func assocSchema(a assocStream) json.RawMessage {
	return mustJSON(map[string]any{
		"$schema":  "https://json-schema.org/draft/2020-12/schema",
		"type":     "object",
		"required": []string{a.fromKey, a.toKey},
		"properties": map[string]any{
			a.fromKey: map[string]any{"type": "string", "minLength": 1},
			a.toKey:   map[string]any{"type": "string", "minLength": 1},
			"types": map[string]any{
				"type":        "array",
				"description": "Association types (labels) linking the two records.",
				"items": map[string]any{"type": "object", "properties": map[string]any{
					"category": map[string]any{"type": "string"},
					"typeId":   map[string]any{"type": "integer"},
					"label":    map[string]any{"type": []string{"string", "null"}},
				}},
			},
		},
	})
}

var ts = func(path string) connector.Expr { return connector.Expr{Path: path, Type: "timestamp"} }

var mappings = map[string]*connector.Mapping{
	"contacts": {Entity: "customer", Fields: map[string]connector.Expr{
		"email":                  connector.P("properties.email"),
		"phone":                  {Coalesce: []connector.Expr{connector.P("properties.phone"), connector.P("properties.mobilephone")}},
		"first_name":             connector.P("properties.firstname"),
		"last_name":              connector.P("properties.lastname"),
		"company":                connector.P("properties.company"),
		"street":                 connector.P("properties.address"),
		"city":                   connector.P("properties.city"),
		"postal_code":            connector.P("properties.zip"),
		"region":                 connector.P("properties.state"),
		"country":                connector.P("properties.country"),
		"ids.hubspot_contact_id": connector.P("id"),
		"created_at":             {Coalesce: []connector.Expr{ts("createdAt"), ts("properties.createdate")}},
		"updated_at":             {Coalesce: []connector.Expr{ts("properties.lastmodifieddate"), ts("updatedAt")}},
	}},
	"deals": {Entity: "event", Fields: map[string]connector.Expr{
		"type":         {Const: "deal"},
		"amount":       {Path: "properties.amount", Type: "number"},
		"currency":     connector.P("properties.deal_currency_code"),
		"occurred_at":  {Coalesce: []connector.Expr{ts("properties.closedate"), ts("createdAt")}},
		"description":  connector.P("properties.dealname"),
		"customer_ref": connector.P("contact_ids.0"),
		"created_at":   ts("createdAt"),
		"updated_at":   {Coalesce: []connector.Expr{ts("properties.hs_lastmodifieddate"), ts("updatedAt")}},
	}},
}

func streams() []connector.Stream {
	desc := map[string]string{
		"contacts":  "CRM contacts; archived contacts arrive as deleted records.",
		"companies": "CRM companies; archived companies arrive as deleted records.",
		"deals":     "CRM deals with the ids of their contacts; archived deals arrive as deleted records.",
	}
	var out []connector.Stream
	for _, name := range objectNames {
		out = append(out, connector.Stream{
			Name:        name,
			Description: desc[name],
			Schema:      objectSchema(name),
			PrimaryKey:  []string{"id"},
			CursorField: "updatedAt",
			Mapping:     mappings[name],
		})
	}
	for _, a := range assocStreams {
		out = append(out, connector.Stream{
			Name:        a.name,
			Description: "Associations from " + a.from + " to " + a.to + ", read in full every run.",
			Schema:      assocSchema(a),
			PrimaryKey:  []string{a.fromKey, a.toKey},
		})
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
