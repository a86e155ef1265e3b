package model

import (
	"reflect"
	"strings"
	"testing"
)

func names(t *Table) []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

func TestLoadEveryTable(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range Outputs {
		seen[n] = true
	}
	for _, n := range Mapped {
		seen[n] = true
	}
	for n := range seen {
		tb, err := Load(n)
		if err != nil {
			t.Fatalf("Load(%q): %v", n, err)
		}
		if tb.Name != n {
			t.Errorf("Load(%q).Name = %q", n, tb.Name)
		}
		for i, c := range tb.Columns {
			if j, ok := tb.Index(c.Name); !ok || j != i {
				t.Errorf("%s: Index(%q) = %d, %v; want %d", n, c.Name, j, ok, i)
			}
			if c.Description == "" {
				t.Errorf("%s.%s has no description", n, c.Name)
			}
		}
		again := MustLoad(n)
		if again != tb {
			t.Errorf("Load(%q) is not cached", n)
		}
	}
}

// The mapped entities share the system columns, first and in one order.
func TestMappedSystemColumns(t *testing.T) {
	want := []Column{
		{Name: "source", Type: String, Required: true, System: true},
		{Name: "stream", Type: String, Required: true, System: true},
		{Name: "record_key", Type: String, Required: true, System: true},
		{Name: "customer_id", Type: String, System: true},
		{Name: "created_at", Type: Timestamp},
		{Name: "updated_at", Type: Timestamp},
		{Name: "customer_ref", Type: String},
	}
	for entity, table := range Mapped {
		tb := MustLoad(table)
		for i, w := range want {
			got := tb.Columns[i]
			got.Description = ""
			if got != w {
				t.Errorf("%s (entity %s) column %d = %+v, want %+v", table, entity, i, got, w)
			}
		}
	}
}

func TestColumnsOfCustomer(t *testing.T) {
	tb := MustLoad("customer")
	checks := []struct {
		name     string
		typ      Type
		list     bool
		required bool
	}{
		{"customer_id", String, false, true},
		{"emails", String, true, true},
		{"birth_date", Date, false, false},
		{"consent_email", Boolean, false, false},
		{"first_seen", Timestamp, false, true},
		{"record_count", Integer, false, true},
		{"revenue_total", Number, false, true},
		{"rfm_r", Integer, false, false},
		{"rfm_score", String, false, false},
	}
	for _, c := range checks {
		i, ok := tb.Index(c.name)
		if !ok {
			t.Errorf("customer has no column %q", c.name)
			continue
		}
		got := tb.Columns[i]
		if got.Type != c.typ || got.List != c.list || got.Required != c.required {
			t.Errorf("customer.%s = %v list=%v required=%v; want %v list=%v required=%v",
				c.name, got.Type, got.List, got.Required, c.typ, c.list, c.required)
		}
	}
	if names(tb)[0] != "customer_id" {
		t.Errorf("customer's first column is %q, want customer_id (file order)", names(tb)[0])
	}
	ids := MustLoad("customer_record").Columns[mustIndex(t, MustLoad("customer_record"), "ids")]
	if ids.Type != String || !ids.List || ids.Required {
		t.Errorf("customer_record.ids = %+v, want an optional list of strings", ids)
	}
}

func mustIndex(t *testing.T, tb *Table, name string) int {
	t.Helper()
	i, ok := tb.Index(name)
	if !ok {
		t.Fatalf("%s has no column %q", tb.Name, name)
	}
	return i
}

const base = `{"type": "object", "required": ["a", "c", "e"], "properties": {
  "z": {"type": "string", "description": "first in file"},
  "a": {"type": "integer"},
  "c": {"type": ["number", "null"]},
  "d": {"type": "string", "format": "date"},
  "e": {"type": "array", "items": {"type": "string", "format": "date-time"}},
  "f": {"type": "object", "additionalProperties": {"type": "string"}},
  "g": {"type": "boolean", "x-desilo-system": true}%s
}}`

func TestFromSchema(t *testing.T) {
	tb, err := FromSchema("t", []byte(strings.Replace(base, "%s", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Column{
		{Name: "z", Type: String, Description: "first in file"},
		{Name: "a", Type: Integer, Required: true},
		{Name: "c", Type: Number},
		{Name: "d", Type: Date},
		{Name: "e", Type: Timestamp, List: true, Required: true},
		{Name: "f", Type: String, List: true},
		{Name: "g", Type: Boolean, System: true},
	}
	if !reflect.DeepEqual(tb.Columns, want) {
		t.Errorf("columns\n got %+v\nwant %+v", tb.Columns, want)
	}

	// Adding a property to the schema adds a column, at its place in the file.
	grown, err := FromSchema("t", []byte(strings.Replace(base, "%s", `, "h": {"type": "string", "format": "date-time"}`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(grown); !reflect.DeepEqual(got, []string{"z", "a", "c", "d", "e", "f", "g", "h"}) {
		t.Errorf("grown columns = %v", got)
	}
	if i, ok := grown.Index("h"); !ok || i != 7 || grown.Columns[i].Type != Timestamp {
		t.Errorf("Index(h) = %d, %v", i, ok)
	}
	if _, ok := tb.Index("h"); ok {
		t.Error("the first table has a column h")
	}
}

func TestFromSchemaErrors(t *testing.T) {
	for _, c := range []struct{ name, schema, want string }{
		{"not json", `{`, "schema"},
		{"no properties", `{"type": "object"}`, `no "properties"`},
		{"empty properties", `{"properties": {}}`, "no properties"},
		{"missing type", `{"properties": {"a": {}}}`, `missing "type"`},
		{"nested object", `{"properties": {"a": {"type": "object", "properties": {}}}}`, "additionalProperties"},
		{"object of numbers", `{"properties": {"a": {"type": "object", "additionalProperties": {"type": "number"}}}}`, "additionalProperties"},
		{"array without items", `{"properties": {"a": {"type": "array"}}}`, `"items"`},
		{"list of lists", `{"properties": {"a": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}}}}`, "lists of lists"},
		{"two types", `{"properties": {"a": {"type": ["string", "integer"]}}}`, "only one type"},
		{"only null", `{"properties": {"a": {"type": ["null"]}}}`, "no type besides"},
		{"null type", `{"properties": {"a": {"type": "null"}}}`, "no column type"},
		{"duplicate", `{"properties": {"a": {"type": "string"}, "a": {"type": "string"}}}`, "twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := FromSchema("bad", []byte(c.schema))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"bad"`) {
				t.Errorf("error %q does not name the table and %q", err, c.want)
			}
		})
	}
	if _, err := Load("no_such_table"); err == nil {
		t.Error("Load of a missing schema: no error")
	}
}

func TestPairs(t *testing.T) {
	got := Pairs(map[string]string{"zendesk_user_id": "9", "hubspot_contact_id": "17", "empty": "", "odd": "a=b"})
	want := []string{"hubspot_contact_id=17", "odd=a=b", "zendesk_user_id=9"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Pairs = %v, want %v", got, want)
	}
	if k, v, ok := SplitPair("odd=a=b"); !ok || k != "odd" || v != "a=b" {
		t.Errorf("SplitPair = %q %q %v", k, v, ok)
	}
	if _, _, ok := SplitPair("novalue"); ok {
		t.Error("SplitPair without '=' reports ok")
	}
}
