package schema

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
)

// modelFiles are the unified model's schemas (desilo.schema.json, the
// config's schema, is tested with core/config).
var modelFiles = []string{
	"customer_record", "order", "ticket", "message", "event",
	"customer", "identity_link", "merge", "reject",
}

func TestModelSchemasCompile(t *testing.T) {
	for _, name := range modelFiles {
		file := name + ".schema.json"
		if _, err := Compile(file); err != nil {
			t.Errorf("Compile(%s): %v", file, err)
			continue
		}
		raw, err := Read(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			ID          string                     `json:"$id"`
			Title       string                     `json:"title"`
			Description string                     `json:"description"`
			Properties  map[string]json.RawMessage `json:"properties"`
			Required    []string                   `json:"required"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if doc.ID != URL(file) || doc.Title == "" || doc.Description == "" {
			t.Errorf("%s: $id %q, title %q, description %q", file, doc.ID, doc.Title, doc.Description)
		}
		for p, v := range doc.Properties {
			var prop struct{ Description string }
			if err := json.Unmarshal(v, &prop); err != nil || prop.Description == "" {
				t.Errorf("%s: property %s has no description", file, p)
			}
		}
		for _, r := range doc.Required {
			if _, ok := doc.Properties[r]; !ok {
				t.Errorf("%s: required %q is not a property", file, r)
			}
		}
	}
}

// Every embedded model file is listed above, so none goes untested.
func TestModelFilesListed(t *testing.T) {
	listed := map[string]bool{"desilo.schema.json": true}
	for _, n := range modelFiles {
		listed[n+".schema.json"] = true
	}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			t.Errorf("%s is embedded but not tested", e.Name())
		}
	}
}

func TestModelSamples(t *testing.T) {
	sys := `"source": "crm", "stream": "contacts", "record_key": "17"`
	for _, c := range []struct {
		file, doc string
		valid     bool
		why       string // a fragment of the validation error
	}{
		{"customer_record", `{` + sys + `, "email": "Ada@Example.com", "birth_date": "1990-04-01", "consent_email": true,
			"updated_at": "2024-05-01T10:00:00Z", "ids": {"hubspot_contact_id": "17"}, "customer_ref": null}`, true, ""},
		{"customer_record", `{"stream": "contacts", "record_key": "17"}`, false, "source"},
		{"customer_record", `{` + sys + `, "birth_date": "01.04.1990"}`, false, "birth_date"},
		{"customer_record", `{` + sys + `, "updated_at": "2024-05-01 10:00"}`, false, "updated_at"},
		{"customer_record", `{` + sys + `, "ids": {"hubspot_contact_id": 17}}`, false, "ids"},
		{"customer_record", `{` + sys + `, "emial": "a@b.c"}`, false, "emial"},
		{"customer_record", `{` + sys + `, "consent_sms": "yes"}`, false, "consent_sms"},
		{"customer_record", `{"source": "", "stream": "contacts", "record_key": "17"}`, false, "source"},
		{"order", `{` + sys + `, "ordered_at": "2024-05-01T10:00:00+02:00", "total": 12.5, "currency": "EUR", "items_count": 2}`, true, ""},
		{"order", `{` + sys + `, "items_count": 1.5}`, false, "items_count"},
		{"order", `{` + sys + `, "total": "12,50"}`, false, "total"},
		{"order", `{` + sys + `, "currency": "€"}`, false, "currency"},
		{"ticket", `{` + sys + `, "status": "pending", "solved_at": null}`, true, ""},
		{"ticket", `{` + sys + `, "status": "new"}`, false, "status"},
		{"message", `{` + sys + `, "direction": "in", "to": ["a@b.c", "d@e.f"], "size": 1024}`, true, ""},
		{"message", `{` + sys + `, "direction": "inbound"}`, false, "direction"},
		{"message", `{` + sys + `, "to": "a@b.c"}`, false, "to"},
		{"event", `{` + sys + `, "type": "refund", "amount": -5, "occurred_at": "2024-05-01T10:00:00Z"}`, true, ""},
		{"event", `{` + sys + `, "amount": 5}`, false, "type"},
		{"customer", `{"customer_id": "c1", "emails": [], "phones": [], "first_seen": "2024-01-01T00:00:00Z",
			"last_seen": "2024-02-01T00:00:00Z", "sources": ["crm"], "record_count": 1, "orders_count": 0,
			"revenue_total": 0, "tickets_total": 0, "tickets_open": 0, "messages_in": 0, "messages_out": 0,
			"channels": [], "rfm_r": 5, "rfm_score": "545"}`, true, ""},
		{"customer", `{"customer_id": "c1"}`, false, "first_seen"},
		{"identity_link", `{` + sys + `, "entity": "customer", "customer_id": "c1", "rule": "email",
			"key": "email", "value": "ada@example.com", "linked_to": "shop/customers/9"}`, true, ""},
		{"identity_link", `{` + sys + `, "entity": "contact", "customer_id": "c1", "rule": "anchor"}`, false, "entity"},
		{"merge", `{"absorbed_id": "c2", "surviving_id": "c1", "run_id": "r1", "merged_at": "2024-05-01T10:00:00Z", "reason": "email ada@example.com"}`, true, ""},
		{"merge", `{"absorbed_id": "c2", "surviving_id": "c1", "run_id": "r1", "reason": "x"}`, false, "merged_at"},
		{"reject", `{"source": "legacy", "stream": "contacts", "location": "a.csv:17", "reason": "wrong column count", "raw": "a;b", "run_id": "r1", "rejected_at": "2024-05-01T10:00:00Z"}`, true, ""},
		{"reject", `{"source": "legacy", "stream": "contacts", "run_id": "r1", "rejected_at": "2024-05-01T10:00:00Z"}`, false, "reason"},
	} {
		s, err := Compile(c.file + ".schema.json")
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal([]byte(c.doc), &v); err != nil {
			t.Fatalf("%s sample %s: %v", c.file, c.doc, err)
		}
		err = s.Validate(v)
		switch {
		case c.valid && err != nil:
			t.Errorf("%s: valid sample rejected: %v\n%s", c.file, err, c.doc)
		case !c.valid && err == nil:
			t.Errorf("%s: invalid sample (%s) accepted\n%s", c.file, c.why, c.doc)
		case !c.valid && !strings.Contains(err.Error(), c.why):
			t.Errorf("%s: error does not mention %q: %v", c.file, c.why, err)
		}
	}
}
