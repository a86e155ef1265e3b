package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/desilo/desilo/plugins/connector"
)

func loadRawSchema(t *testing.T) map[string]any {
	t.Helper()
	raw, err := rawSchema(SchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(map[string]any)
}

// walkSchema calls fn for every subschema with its location.
func walkSchema(loc string, v any, fn func(loc string, s map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		fn(loc, v)
		for k, child := range v {
			if k == "default" || k == "const" || k == "enum" {
				continue // values, not schemas
			}
			if k == "properties" || k == "$defs" || k == "dependentSchemas" {
				for name, sub := range child.(map[string]any) { // names, not keywords
					walkSchema(loc+"/"+k+"/"+name, sub, fn)
				}
				continue
			}
			walkSchema(loc+"/"+k, child, fn)
		}
	case []any:
		for i, child := range v {
			walkSchema(fmt.Sprintf("%s/%d", loc, i), child, fn)
		}
	}
}

// Every field of desilo.yaml says what it is for.
func TestSchemaDescribesEveryField(t *testing.T) {
	raw := loadRawSchema(t)
	defs := raw["$defs"].(map[string]any)
	walkSchema("#", raw, func(loc string, s map[string]any) {
		props, _ := s["properties"].(map[string]any)
		for name, p := range props {
			p, ok := p.(map[string]any)
			if !ok { // a false schema: the field is forbidden there
				continue
			}
			if _, ok := p["description"]; ok {
				continue
			}
			ref, _ := p["$ref"].(string)
			target, _ := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
			if _, ok := target["description"]; !ok {
				t.Errorf("%s/properties/%s has no description", loc, name)
			}
		}
	})
}

// The defaults applyDefaults fills in are the ones the schema documents.
func TestSchemaDefaultsMatchApplied(t *testing.T) {
	raw := loadRawSchema(t)
	// A document that reaches every place a default applies.
	doc := map[string]any{
		"version": json.Number("1"),
		"sources": []any{map[string]any{"name": "a", "connector": "b"}},
		"identity": map[string]any{
			"keys": []any{map[string]any{"name": "email", "email": map[string]any{}}},
		},
		"output": map[string]any{"bigquery": map[string]any{
			"project": "p", "dataset": "d",
			"tables": map[string]any{"event": map[string]any{"partition_field": "occurred_at"}},
		}},
		"profile": map[string]any{"survivorship": map[string]any{}},
	}
	applyDefaults(doc)
	r := &renderer{d: &document{value: doc}}
	empty := map[string]any{}
	applyDefaults(empty)
	inEmpty := &renderer{d: &document{value: empty}}

	// Schema location of a default → where it lands in doc.
	where := map[string]string{
		"#/properties/state_dir":                                      "/state_dir",
		"#/properties/sources":                                        "empty:/sources",
		"#/$defs/source/properties/config":                            "/sources/0/config",
		"#/$defs/identity/properties/limits":                          "/identity/limits",
		"#/$defs/key/properties/max_records_per_value":                "/identity/keys/0/max_records_per_value",
		"#/$defs/key/properties/blocklist":                            "/identity/keys/0/blocklist",
		"#/$defs/key/properties/use_default_blocklist":                "/identity/keys/0/use_default_blocklist",
		"#/$defs/key/properties/email/properties/strip_dots":          "",
		"#/$defs/key/properties/email/properties/strip_plus":          "",
		"#/$defs/profile/properties/survivorship/properties/default":  "/profile/survivorship/default",
		"#/$defs/output/properties/parquet/properties/path":           "/output/parquet/path",
		"#/$defs/output/properties/parquet/properties/row_group_size": "/output/parquet/row_group_size",
		"#/$defs/output/properties/bigquery/properties/table_prefix":  "/output/bigquery/table_prefix",
		"#/$defs/run/properties/max_reject_ratio":                     "/run/max_reject_ratio",
		"#/$defs/run/properties/idle_timeout":                         "/run/idle_timeout",
		"#/$defs/run/properties/source_timeout":                       "/run/source_timeout",
		"#/$defs/run/properties/log_level":                            "/run/log_level",
	}
	var found []string
	walkSchema("#", raw, func(loc string, s map[string]any) {
		want, ok := s["default"]
		if !ok {
			return
		}
		found = append(found, loc)
		ptr, ok := where[loc]
		if !ok {
			t.Errorf("%s has a default this test does not check", loc)
			return
		}
		if ptr == "" { // false booleans: Go's zero value is the default
			if want != false {
				t.Errorf("%s: default %v is not a zero value", loc, want)
			}
			return
		}
		got := r.valueAt(ptr)
		if p, ok := strings.CutPrefix(ptr, "empty:"); ok { // a default that applies to a file without the field
			got = inEmpty.valueAt(p)
		}
		if b, _ := json.Marshal(got); string(b) != mustJSON(want) {
			t.Errorf("%s: schema default %s, applied %s", loc, mustJSON(want), b)
		}
	})
	for loc := range where {
		if !slices.Contains(found, loc) {
			t.Errorf("%s: the schema documents no default", loc)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The JSON Schema's description of Expr stays in step with connector.Expr.
func TestSchemaExprMatchesConnector(t *testing.T) {
	raw := loadRawSchema(t)
	props := raw["$defs"].(map[string]any)["expr_object"].(map[string]any)["properties"].(map[string]any)
	var schemaFields []string
	for k := range props {
		schemaFields = append(schemaFields, k)
	}
	slices.Sort(schemaFields)
	var goFields []string
	typ := reflect.TypeFor[connector.Expr]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		goFields = append(goFields, name)
	}
	slices.Sort(goFields)
	if !slices.Equal(schemaFields, goFields) {
		t.Errorf("schema expr fields %v, connector.Expr fields %v", schemaFields, goFields)
	}
}
